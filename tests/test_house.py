"""Learning the house's line: which decisions count, the figures, the policy replay, calibrate and policy test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from moderator.cli import main
from moderator.desk import Desk
from moderator.house import HouseError, house_report, human_decisions, replay_policy
from moderator.policy import Band, Policy, load_policy, risk_score
from moderator.records import Article, Comment, Scores
from moderator.store import Queue, open_db
from tests.fixtures import FixedClock

ARTICLE = Article(id="a1", headline="Tempolimit auf Autobahnen")


def house_queue(path: Path | None, clock: FixedClock, rows: list[tuple[str, float, str, str]]) -> Queue:
    """A queue whose comments carry the given toxicity, each decided by (moderator, action); a minute apart.

    ``rows`` are (comment id, toxicity, moderator, action); action "" leaves the comment undecided.
    """
    queue = Queue(open_db(path), clock=clock)
    queue.add([ARTICLE], [Comment(id=cid, article_id="a1", text=f"Kommentar {cid}") for cid, *_ in rows])
    scores = [(cid, Scores(tox, 0.1, "test-model-v1", labels={"insult": tox / 2}), 0.0) for cid, tox, *_ in rows]
    queue.save_scores([(cid, s, risk_score(s)) for cid, s, _ in scores])
    for cid, _, moderator, action in rows:
        if action:
            clock.advance(60)
            Desk(queue, moderator).decide(cid, action, overrule=True)
    return queue


# Ten decided comments: toxicity separates them except c5 (0.5, approved) and c6 (0.45, rejected).
ROWS = [
    ("c0", 0.05, "alice", "approve"),
    ("c1", 0.10, "bob", "approve"),
    ("c2", 0.15, "alice", "approve"),
    ("c3", 0.20, "client:coral", "approve"),
    ("c4", 0.30, "bob", "approve"),
    ("c5", 0.50, "alice", "approve"),
    ("c6", 0.45, "bob", "reject"),
    ("c7", 0.70, "alice", "reject"),
    ("c8", 0.90, "client:coral", "reject"),
    ("c9", 0.99, "bob", "reject"),
]

# The same, four times over (c0a .. c9d): enough comments on each side for an edge to be recommended (>= 10).
ROWS4 = [(f"{cid}{copy}", tox, who, action) for copy in "abcd" for cid, tox, who, action in ROWS]


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    house_queue(tmp_path / "q.db", clock, ROWS4).db.conn.close()
    return tmp_path / "q.db"


def test_reverts_auto_and_client_decisions(clock: FixedClock) -> None:
    queue = house_queue(None, clock, [*ROWS, ("c10", 0.8, "auto:default", "reject"), ("c11", 0.6, "alice", "reject")])
    Desk(queue, "bob").decide("c1", "reject", overrule=True)  # bob overrules himself ...
    Desk(queue, "bob").undo("c1")  # ... and takes it back: his approval stands again
    Desk(queue, "alice").undo("c11")  # alice's only decision on c11 is undone: no human decision remains
    queue.note("c0", "alice", "a note is not a decision")
    found = human_decisions(queue)
    by_id = {d.comment_id: d for d in found.decisions}
    assert "c10" not in by_id  # auto:* is what a policy did, not the house's line
    assert "c11" not in by_id
    assert by_id["c1"].rejected is False
    assert by_id["c3"].moderator == "client:coral" and by_id["c8"].rejected  # client:* counts as human
    assert (found.approved, found.rejected) == (6, 4)


def test_since_keeps_later_decisions(clock: FixedClock) -> None:
    queue = house_queue(None, clock, ROWS)
    cutoff = queue.history("c5")[0].decided_at
    assert [d.comment_id for d in human_decisions(queue, cutoff).decisions] == ["c5", "c6", "c7", "c8", "c9"]


def test_one_class_and_no_decisions_refused(clock: FixedClock) -> None:
    with pytest.raises(HouseError, match="no human decisions"):
        house_report(human_decisions(house_queue(None, clock, [("x", 0.1, "", "")])), Policy())
    queue = house_queue(None, clock, [("x", 0.1, "alice", "approve"), ("y", 0.2, "bob", "approve")])
    with pytest.raises(HouseError, match="only one class: 2 approvals and no rejections"):
        house_report(human_decisions(queue), Policy())


def test_figures_and_recommended_bands(clock: FixedClock) -> None:
    report = house_report(human_decisions(house_queue(None, clock, ROWS4)), Policy())
    tox = next(f for f in report.labels if f.label == "toxicity")
    assert (tox.n, tox.approved, tox.rejected) == (40, 24, 16)
    assert tox.roc_auc == pytest.approx(23 / 24)  # c5 over c6 are the discordant pairs: 16 of 384
    assert tox.current_approve.n == 16 and tox.current_approve.precision == 1.0  # below 0.25: c0..c3, approved
    assert tox.current_reject.n == 4 and tox.current_reject.precision == 1.0  # 0.99 >= 0.98
    # highest approve edge keeping >= 0.99 approved: below 0.45 (c0..c4); lowest reject edge at 0.98 precision: 0.7
    assert tox.recommended == Band(0.45, 0.7)
    assert tox.recommended_reject.recall == 0.75
    assert any("about 189 needed" in w for w in tox.warnings)
    insult = next(f for f in report.labels if f.label == "insult")  # not banded today: a reject edge only
    assert insult.recommended == Band(0.35, 0.35)
    assert report.recommended_policy().bands["insult"] == Band(0.35, 0.35)


def test_no_edge_on_too_few_comments(clock: FixedClock) -> None:
    """Ten decisions: a 1-of-1 'precision 1.0' passes any target, so no edge is recommended on fewer than 10."""
    tox = house_report(human_decisions(house_queue(None, clock, ROWS)), Policy()).labels[0]
    assert tox.recommended == Band(0.0, 1.01)


def test_replay_agreement_matrix(clock: FixedClock) -> None:
    found = human_decisions(house_queue(None, clock, ROWS))
    policy = Policy("t", {"toxicity": Band(0.4, 0.6)})
    replay = replay_policy(found, policy, seconds_per_comment=36)
    # approve: c0-c4 (all approved); queue: c5 (approved), c6 (rejected); reject: c7-c9 (rejected)
    assert replay.matrix == {
        "approve": {"approved": 5, "rejected": 0},
        "queue": {"approved": 1, "rejected": 1},
        "reject": {"approved": 0, "rejected": 3},
    }
    assert replay.wrong == 0 and replay.not_queued == 8 and replay.hours_saved == pytest.approx(0.08)
    lax = replay_policy(found, Policy("lax", {"toxicity": Band(0.5, 0.5)}))
    assert [d.comment_id for d, _ in lax.approved_but_rejected] == ["c6"]
    assert [d.comment_id for d, _ in lax.rejected_but_approved] == ["c5"]


def test_calibrate_json_and_policy_toml_flag_accepts(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "house.toml"
    result = CliRunner().invoke(main, ["calibrate", "--db", str(db), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["decisions"], data["approved"], data["rejected"]) == (40, 24, 16)
    tox = data["labels"]["toxicity"]
    assert tox["roc_auc"] == pytest.approx(23 / 24)
    assert tox["recommended"]["approve_below"] == 0.45 and tox["recommended"]["reject_at"] == 0.7
    assert {"precision", "recall", "n", "needed", "too_few"} <= set(tox["current"]["reject"])
    assert "1.96" in data["rule"]
    policy = load_policy(out)
    assert policy.bands["toxicity"] == Band(0.45, 0.7)
    flagged = CliRunner().invoke(
        main, ["flag", "--db", str(db), "--policy", str(out), "--model", "lexical-fake", "--dry-run", "--json"]
    )
    assert flagged.exit_code == 0, flagged.output
    assert json.loads(flagged.stdout)["policy"] == "house"


def test_calibrate_text_and_refusals(db: Path, tmp_path: Path, clock: FixedClock) -> None:
    result = CliRunner().invoke(main, ["calibrate", "--db", str(db)])
    assert result.exit_code == 0
    assert "toxicity: 40 decisions (24 approved, 16 rejected), ROC-AUC 0.958" in result.stdout
    assert "too few" in result.stdout
    empty = tmp_path / "empty.db"
    house_queue(empty, clock, [("x", 0.1, "", "")]).db.conn.close()
    refused = CliRunner().invoke(main, ["calibrate", "--db", str(empty)])
    assert refused.exit_code == 1 and "no human decisions to learn from" in refused.stderr
    one = tmp_path / "one.db"
    house_queue(one, clock, [("x", 0.9, "alice", "reject")]).db.conn.close()
    refused = CliRunner().invoke(main, ["policy", "test", str(tmp_path / "p.toml"), "--db", str(one)])
    assert refused.exit_code == 2  # the policy file does not exist: a usage error
    (tmp_path / "p.toml").write_text("[policy]\nname = 'p'\n")
    refused = CliRunner().invoke(main, ["policy", "test", str(tmp_path / "p.toml"), "--db", str(one)])
    assert refused.exit_code == 1 and "only one class: 1 rejections and no approvals" in refused.stderr


def test_policy_test_command(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[policy]\nname = 'strict'\n[policy.labels.toxicity]\napprove_below = 0.4\nreject_at = 0.6\n")
    result = CliRunner().invoke(main, ["policy", "test", str(path), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["matrix"] == {
        "approve": {"approved": 20, "rejected": 0},
        "queue": {"approved": 4, "rejected": 4},
        "reject": {"approved": 0, "rejected": 12},
    }
    assert data["not_queued"] == 32 and data["hours_saved"] == pytest.approx(32 * 30 / 3600, abs=1e-3)
    text = CliRunner().invoke(main, ["policy", "test", str(path), "--db", str(db), "--seconds-per-comment", "45"])
    assert "not queued: 32 comments; at 45 s each, 0.40 moderator hours saved" in text.stdout


def test_calibrate_plots(db: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = CliRunner().invoke(main, ["calibrate", "--db", str(db), "--plot", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == [f"{s}.{e}" for s in ("histograms", "precision_recall", "reliability") for e in ("png", "svg")]
