"""The queue store: idempotent adds, risk order, the decision log, undo, claims, append-only log, concurrency.

The rules above the store (overrules, bulk decisions, claim lengths) are tested in test_desk.py.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from moderator.records import Action, Article, Comment, Status
from moderator.store import Queue, QueueFilter, StaleDecision, StoreError, open_db
from tests.fixtures import ARTICLE, COMMENTS


def test_adding_the_same_comments_twice_adds_nothing(queue: Queue) -> None:
    result = queue.add([ARTICLE], COMMENTS)
    assert (result.new_articles, result.new_comments, result.unchanged_comments) == (0, 0, 4)
    assert queue.count() == 4


def test_readd_never_touches_a_decided_comment(queue: Queue) -> None:
    queue.decide("c2", Action.REJECT, "ana", reason="insult")
    queue.add([ARTICLE], COMMENTS)
    assert queue.require("c2").status is Status.REJECTED


def test_article_fields_are_filled_in_but_never_overwritten(queue: Queue) -> None:
    queue.add([Article(id="a-wind", headline="Other headline", url="https://example.org/wind")], [])
    article = queue.article("a-wind")
    assert article is not None
    assert article.headline == ARTICLE.headline
    assert article.url == "https://example.org/wind"


def test_items_come_in_risk_order_with_unscored_last(queue: Queue) -> None:
    queue.add([ARTICLE], [Comment(id="c9", article_id="a-wind", text="noch nicht bewertet")])
    ids = [item.comment.id for item in queue.items()]
    risks = [item.risk for item in queue.items()][:-1]
    assert risks == sorted(risks, reverse=True)
    assert ids[-1] == "c9"
    assert queue.items()[0].comment.id in {"c2", "c3"}


def test_filters_by_status_label_search_and_article(queue: Queue) -> None:
    queue.decide("c1", "approve", "ana")
    assert [i.comment.id for i in queue.items(QueueFilter(status="decided"))] == ["c1"]
    assert "c1" not in [i.comment.id for i in queue.items(QueueFilter(status="pending"))]
    assert [i.comment.id for i in queue.items(QueueFilter(label="toxicity"))] == ["c2"]
    assert [i.comment.id for i in queue.items(QueueFilter(search="SCHIEDSRICHTER"))] == ["c3"]
    assert queue.count(QueueFilter(article_id="nope")) == 0
    with pytest.raises(StoreError, match="unknown status"):
        queue.items(QueueFilter(status="bogus"))


def test_decision_records_who_why_scores_and_model(queue: Queue) -> None:
    decision = queue.decide("c2", "reject", "ana", reason="insult")
    assert decision.status_before is Status.PENDING and decision.status_after is Status.REJECTED
    assert decision.scores is not None and decision.scores.toxicity > 0.5
    assert decision.model_version == "lexical-fake-1"
    assert decision.decided_at == "2026-11-02T09:30:00Z"
    assert queue.require("c2").status is Status.REJECTED


def test_stale_decision_is_refused_not_overwritten(queue: Queue) -> None:
    queue.decide("c2", "reject", "ana", expected_status=Status.PENDING)
    with pytest.raises(StaleDecision, match="already rejected by ana"):
        queue.decide("c2", "approve", "ben", expected_status=Status.PENDING)
    assert queue.require("c2").status is Status.REJECTED


def test_undo_appends_a_revert_and_restores_the_status(queue: Queue) -> None:
    first = queue.decide("c2", "reject", "ana")
    revert = queue.undo("ana")
    assert revert.action is Action.REVERT and revert.reverts == first.id
    assert queue.require("c2").status is Status.PENDING
    assert [d.action for d in queue.history("c2")] == [Action.REJECT, Action.REVERT]
    with pytest.raises(StoreError, match="nothing of ana's to undo"):
        queue.undo("ana")


def test_undo_is_refused_after_someone_else_decided_again(queue: Queue) -> None:
    queue.decide("c2", "reject", "ana")
    queue.decide("c2", "approve", "ben")
    with pytest.raises(StaleDecision, match="decided again by ben"):
        queue.undo("ana")
    assert queue.require("c2").status is Status.APPROVED


def test_notes_leave_the_status_alone(queue: Queue) -> None:
    queue.note("c3", "ana", "check with sports desk")
    assert queue.require("c3").status is Status.PENDING
    assert queue.history("c3")[0].reason == "check with sports desk"


def test_status_projection_matches_the_decision_log(queue: Queue) -> None:
    queue.decide("c1", "approve", "ana")
    queue.decide("c2", "reject", "ana")
    queue.decide("c3", "queue", "auto:default", rule="off_topic >= 0.6")
    queue.undo("ana")
    for item in queue.items():
        assert item.status is queue.replay_status(item.comment.id)


def test_decisions_table_is_append_only(queue: Queue) -> None:
    queue.decide("c1", "approve", "ana")
    for sql in ("UPDATE decisions SET moderator = 'eve'", "DELETE FROM decisions"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            queue.db.execute(sql)
    assert queue.history("c1")[0].moderator == "ana"


def test_claims_expire_after_their_ttl_and_show_who_holds_them(queue: Queue, clock) -> None:
    assert queue.claim("c1", "ana", ttl_s=60) is None
    assert queue.claim("c1", "ben", ttl_s=60) == "ana"
    assert queue.claimed_by_other("c1", "ben") == "ana" and queue.claimed_by_other("c1", "ana") is None
    clock.advance(60)
    assert queue.claimed_by_other("c1", "ben") is None
    assert queue.claim("c1", "ben", ttl_s=60) is None
    assert queue.require("c1").claimed_by == "ben"


def test_decision_releases_the_claim(queue: Queue) -> None:
    queue.claim("c1", "ana", ttl_s=300)
    queue.decide("c1", "approve", "ana")
    assert queue.require("c1").claimed_by == ""


def test_file_database_uses_wal_and_migrates_once(tmp_path: Path, make_queue) -> None:
    path = tmp_path / "queue.db"
    make_queue(path)
    db = open_db(path)
    assert db.journal_mode == "wal"
    assert {t for t in db.table_names()} >= {"articles", "comments", "scores", "decisions", "claims"}
    assert db["comments"].count == 4


WRITER = """
import sys
from moderator.store import Queue, open_db
queue = Queue(open_db(sys.argv[1]))
for i in range(200):
    queue.note("c1", sys.argv[2], f"note {i}")
"""


def test_two_processes_writing_at_once_never_hit_a_locked_database(tmp_path: Path, make_queue) -> None:
    path = tmp_path / "queue.db"
    make_queue(path)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], stderr=subprocess.PIPE, text=True)
        for name in ("scorer", "moderator")
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert len(Queue(open_db(path)).history("c1")) == 400


def test_a_different_comment_under_a_taken_id_is_reported_not_lost_silently(queue: Queue) -> None:
    clash = Comment(id="c1", article_id="a-other", text="ganz anderer Kommentar", source="other.jsonl:7")
    same = COMMENTS[1]
    result = queue.add([], [clash, same])
    assert result.new_comments == 0 and result.unchanged_comments == 1
    assert [(c.id, c.source) for c, _ in result.conflicts] == [("c1", "other.jsonl:7")]
    assert queue.require("c1").comment.text == COMMENTS[0].text  # the stored comment is untouched


def test_words_not_yet_computed_are_stored_as_null_and_filled_in_later(make_queue) -> None:
    """Words cost a backward pass: a score may come without them (NULL), unlike a score whose words are none."""
    from moderator.records import Scores

    queue = make_queue(scored=False)
    pending, none = COMMENTS[0].id, COMMENTS[1].id
    queue.save_scores(
        [
            (pending, Scores(0.9, 0.1, "m+fp32", words_pending=True), 0.9),
            (none, Scores(0.1, 0.1, "m+fp32"), 0.1),
        ]
    )
    assert queue.get(pending).scores.words_pending and queue.get(pending).scores.toxic_words == ()
    assert not queue.get(none).scores.words_pending
    queue.save_words([(pending, ["Vollidiot"])])
    filled = queue.get(pending).scores
    assert filled.toxic_words == ("Vollidiot",) and not filled.words_pending


@pytest.mark.parametrize("name", ["", "   "])
def test_the_log_refuses_a_blank_moderator_name(queue: Queue, name: str) -> None:
    with pytest.raises(StoreError, match="moderator name"):
        queue.decide("c1", Action.APPROVE, name)
    assert queue.history("c1") == [] and queue.require("c1").status is Status.PENDING
