"""Auto-flagging: policy bands, always-queue rules, dry runs, the audit trail, and resuming after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moderator.flagging import Flagger
from moderator.policy import Band, Outcome, Policy, load_policy
from moderator.records import Action, Article, Comment, Scores, Status
from moderator.scoring.fake import FakeScorer
from moderator.store import Queue, open_db


def scores(tox: float, off: float = 0.1, **labels: float) -> Scores:
    return Scores(toxicity=tox, off_topic=off, model_version="t", labels=labels)


@pytest.mark.parametrize(
    ("s", "outcome"),
    [
        (scores(0.1), Outcome.APPROVE),
        (scores(0.5), Outcome.QUEUE),
        (scores(0.99), Outcome.REJECT),
        (scores(0.1, 0.7), Outcome.QUEUE),
        (scores(0.1, 0.5), Outcome.QUEUE),
        (scores(0.1, 0.4), Outcome.APPROVE),
        (Scores(0.1, 0.3, "t", passage_off_topic=0.55), Outcome.QUEUE),  # a drifting passage alone
        (Scores(0.1, 0.3, "t", passage_off_topic=0.45), Outcome.APPROVE),
        (scores(0.1, threat=0.9), Outcome.APPROVE),
    ],
)
def test_default_policy_bands(s: Scores, outcome: Outcome) -> None:
    assert Policy().judge(s)[0] is outcome


def test_fine_label_bands_apply_when_configured() -> None:
    policy = Policy(bands={"toxicity": Band(0.25, 0.98), "threat": Band(0.5, 0.95)})
    assert policy.judge(scores(0.1, threat=0.6)) == (Outcome.QUEUE, "threat in [0.5, 0.95): review")
    assert policy.judge(scores(0.1, threat=0.96))[0] is Outcome.REJECT


def test_a_passage_band_queues_a_comment_that_drifts() -> None:
    drifting = Scores(
        toxicity=0.05,
        off_topic=0.1,
        model_version="t",
        off_topic_passage="Der Rundfunkbeitrag ...",
        passage_off_topic=0.45,
    )
    assert Policy().judge(drifting)[0] is Outcome.APPROVE  # not a default band
    policy = Policy(bands={"passage_off_topic": Band(0.3)})
    assert policy.judge(drifting) == (Outcome.QUEUE, "passage_off_topic in [0.3, 1.01): review")


def test_risk_is_the_worse_headline_score_not_a_fine_label() -> None:
    from moderator.policy import risk_score

    assert risk_score(scores(0.3, 0.6, threat=0.9)) == 0.6
    assert risk_score(scores(0.3, 0.6, house=0.8)) == 0.8  # the house's own line orders the queue too


def test_always_queue_rules_override_automatic_outcomes() -> None:
    policy = Policy(queue_authors=frozenset({"troll"}))
    assert Policy().judge(scores(0.1), parent_outcome=Outcome.REJECT) == (
        Outcome.QUEUE,
        "always queue: reply to a flagged comment",
    )
    assert policy.judge(scores(0.1), author="troll")[0] is Outcome.QUEUE
    assert policy.judge(scores(0.99), author="troll")[0] is Outcome.QUEUE


def test_policy_file_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "strict.toml"
    path.write_text(
        '[policy]\nname = "strict"\n[policy.labels.toxicity]\napprove_below = 0.1\nreject_at = 0.8\n'
        '[policy.labels.insult]\nreject_at = 0.9\n[policy.always_queue]\nauthors = ["x"]\n'
    )
    policy = load_policy(path)
    assert policy.name == "strict" and policy.bands["toxicity"] == Band(0.1, 0.8)
    assert policy.bands["insult"] == Band(0.9, 0.9) and policy.queue_authors == {"x"}
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy.labels.toxicity]\nreject_at = 0.2\napprove_below = 0.5\n")
    with pytest.raises(ValueError, match="bad.toml"):
        load_policy(bad)
    bad.write_text("[policy]\nbands = 1\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_policy(bad)
    bad.write_text("[policy.labels.offtopic]\napprove_below = 0.3\n")  # misspelt: would never fire
    with pytest.raises(ValueError, match=r"bad.toml: \[policy.labels.offtopic\]: unknown label"):
        load_policy(bad)


def test_flag_writes_audited_decisions_by_the_policy(make_queue) -> None:
    queue = make_queue(scored=False)
    report = Flagger(queue, FakeScorer(), Policy()).run()
    assert report.scored == 4 and sum(report.outcomes.values()) == 4
    toxic = queue.require("c2")
    assert toxic.status is Status.FLAGGED
    decision = queue.history("c2")[0]
    assert decision.moderator == "auto:default" and decision.action is Action.QUEUE
    assert decision.rule.startswith("toxicity in") and "toxicity=" in decision.reason
    assert queue.require("c1").status is Status.APPROVED
    queue.undo("auto:default", "c1")
    assert queue.require("c1").status is Status.PENDING


def test_dry_run_writes_nothing(make_queue) -> None:
    queue = make_queue(scored=False)
    report = Flagger(queue, FakeScorer(), Policy()).run(dry_run=True)
    assert report.scored == 4 and sum(report.outcomes.values()) == 4
    assert queue.counts_by_status()["pending"] == 4
    assert list(queue.decisions()) == [] and queue.db["scores"].count == 0


def test_flag_leaves_human_decisions_alone(make_queue) -> None:
    queue = make_queue()
    queue.decide("c2", "approve", "ana", reason="satire")
    Flagger(queue, FakeScorer(), Policy()).run()
    assert queue.require("c2").status is Status.APPROVED
    assert [d.moderator for d in queue.history("c2")] == ["ana"]


def generated_queue(path: Path, n: int) -> None:
    """n German-ish comments over 50 articles, some toxic, some off-topic, some replies."""
    queue = Queue(open_db(path))
    articles = [Article(id=f"a{i}", headline=f"Windkraft Genehmigung Kommunen Ausbau {i}") for i in range(50)]
    texts = [
        "Windkraft Ausbau braucht schnellere Genehmigung",
        "Ihr seid hirnlose Idioten",
        "Fussball gestern war super",
        "Kommunen brauchen Personal für den Ausbau",
    ]
    comments = [
        Comment(
            id=f"c{i:06d}",
            article_id=f"a{i % 50}",
            text=f"{texts[i % 4]} ({i})",
            author=f"u{i % 97}",
            parent_id=f"c{i - 7:06d}" if i % 5 == 0 and i >= 7 else None,
        )
        for i in range(n)
    ]
    queue.add(articles, comments)


def final_state(path: Path) -> tuple[list[tuple], list[tuple]]:
    db = open_db(path)
    statuses = [
        tuple(r.values())
        for r in db.query(
            "SELECT c.id, c.status, c.risk, s.toxicity, s.off_topic FROM comments c "
            "LEFT JOIN scores s ON s.comment_id = c.id ORDER BY c.id"
        )
    ]
    decisions = [
        tuple(r.values())
        for r in db.query(
            "SELECT comment_id, action, status_after, rule, moderator FROM decisions ORDER BY comment_id, id"
        )
    ]
    return statuses, decisions


def flag_cmd(path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "moderator",
        "flag",
        "--db",
        str(path),
        "--model",
        "lexical-fake",
        "--batch-size",
        "50",
    ]


def count(path: Path, sql: str) -> int:
    return int(next(open_db(path).query(sql))["n"])


def kill_when(proc: subprocess.Popen, path: Path, sql: str, at_least: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if count(path, sql) >= at_least:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.02)
    pytest.fail("the flag run ended before it could be killed")


def test_flag_killed_with_sigkill_resumes_to_the_same_final_state(tmp_path: Path) -> None:
    n = 6000
    reference, killed = tmp_path / "reference.db", tmp_path / "killed.db"
    generated_queue(reference, n)
    generated_queue(killed, n)
    subprocess.run(flag_cmd(reference), check=True, capture_output=True)

    proc = subprocess.Popen(flag_cmd(killed), stderr=subprocess.DEVNULL)
    kill_when(proc, killed, "SELECT count(*) AS n FROM scores", 500)  # killed while scoring
    assert count(killed, "SELECT count(*) AS n FROM scores") < n
    proc = subprocess.Popen(flag_cmd(killed), stderr=subprocess.DEVNULL)
    kill_when(proc, killed, "SELECT count(*) AS n FROM decisions", 500)  # killed while deciding
    assert count(killed, "SELECT count(*) AS n FROM decisions") < n
    subprocess.run(flag_cmd(killed), check=True, capture_output=True)

    assert final_state(killed) == final_state(reference)
    assert count(killed, "SELECT count(*) AS n FROM decisions") == n  # nothing decided twice


THREAD_ARTICLE = Article(id="t", headline="Windräder", body="Neue Windräder an Land sollen schneller genehmigt werden.")
# a0 is toxic; b1 replies to it; c2 replies to b1; a5 replies to b1 but sorts (by id) before it.
THREAD = [
    Comment(id="a0", article_id="t", text="Ihr Idioten, haltet die Klappe, Abschaum."),
    Comment(id="a5", article_id="t", text="Windräder an Land genehmigt, schneller.", parent_id="b1"),
    Comment(id="b1", article_id="t", text="Windräder sollen schneller genehmigt werden.", parent_id="a0"),
    Comment(id="c2", article_id="t", text="Neue Windräder an Land, genehmigt.", parent_id="b1"),
    Comment(id="d3", article_id="t", text="Windräder an Land sollen schneller kommen."),
]


class InterruptedAfter(Flagger):
    """A flag run killed after ``batches`` committed batches (as Ctrl-C or kill -9 between two batches)."""

    def __init__(self, *args: object, batches: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.left = batches

    def _commit(self, judged: list) -> None:  # type: ignore[type-arg]
        if self.left == 0:
            raise KeyboardInterrupt
        super()._commit(judged)
        self.left -= 1


def flagged_thread(path: Path | None, interrupt_after: int | None = None) -> dict[str, Status]:
    queue = Queue(open_db(path))
    queue.add([THREAD_ARTICLE], THREAD)
    if interrupt_after is not None:
        with pytest.raises(KeyboardInterrupt):
            InterruptedAfter(queue, FakeScorer(), Policy(), batch_size=1, batches=interrupt_after).run()
        queue = Queue(open_db(path))  # a new process resumes
    Flagger(queue, FakeScorer(), Policy(), batch_size=1).run()
    return {c.id: queue.require(c.id).status for c in THREAD}


def test_replies_down_a_thread_under_a_flagged_comment_go_to_a_human_in_any_order(tmp_path: Path) -> None:
    straight = flagged_thread(tmp_path / "straight.db")
    assert straight["a0"] is Status.FLAGGED and straight["b1"] is Status.FLAGGED
    # c2 and a5 reply to b1, itself a reply to the toxic a0: both go to a human, a5 although it is judged first
    assert straight["c2"] is Status.FLAGGED and straight["a5"] is Status.FLAGGED
    assert straight["d3"] is Status.APPROVED


@pytest.mark.parametrize("boundary", range(5))
def test_flag_interrupted_at_any_batch_boundary_ends_as_the_straight_run(tmp_path: Path, boundary: int) -> None:
    assert flagged_thread(tmp_path / "resumed.db", interrupt_after=boundary) == flagged_thread(tmp_path / "s.db")
