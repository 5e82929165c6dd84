"""A comment that came without its article has off-topic *not judged*: stored as NULL and shown as such, never 0.

Why it matters: 0.00 reads as "on topic" on the desk, in `list` and in exports, and a policy or `calibrate`
would count it as evidence. These tests follow one such comment through every place a moderator sees it.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner

from moderator.cli import main
from moderator.policy import Outcome, Policy, risk_score
from moderator.records import NO_ARTICLE_ID, OFF_TOPIC_NOT_JUDGED, Article, Comment, Scores
from moderator.store import Queue, open_db

PLACEHOLDER = Article(id=NO_ARTICLE_ID, headline=f"(sent without an article: {OFF_TOPIC_NOT_JUDGED})")
UNKNOWN_STORY = Article(id="unknown-story:st-9", headline=f"unknown story st-9 ({OFF_TOPIC_NOT_JUDGED})")
ALONE = Comment(id="p1", article_id=NO_ARTICLE_ID, text="Ihr seid doch alle Idioten.", author="anon")
UNDER_STORY = Comment(id="p2", article_id=UNKNOWN_STORY.id, text="Der Schiedsrichter war schlecht.", author="b")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A queue with two comments `serve` took without their articles, scored toxicity-only."""
    path = tmp_path / "queue.db"
    queue = Queue(open_db(path))
    queue.add([PLACEHOLDER, UNKNOWN_STORY], [ALONE, UNDER_STORY])
    not_judged = [
        (ALONE.id, Scores(toxicity=0.91, off_topic=None, model_version="m+fp32"), 0.91),
        (UNDER_STORY.id, Scores(toxicity=0.12, off_topic=None, model_version="m+fp32"), 0.12),
    ]
    queue.save_scores(not_judged)
    queue.db.conn.close()
    return path


def cli(db: Path, *args: str) -> click.testing.Result:
    result = CliRunner().invoke(main, [*args, "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def test_the_store_keeps_null_and_list_shows_a_dash(db: Path) -> None:
    rows = {row["id"]: row for row in json.loads(cli(db, "list", "--json").stdout)}
    assert rows["p1"]["scores"]["off_topic"] is None and rows["p1"]["scores"]["toxicity"] == 0.91
    table = cli(db, "list").stdout.splitlines()
    (line,) = [line for line in table if line.startswith("p1")]
    assert line.split()[2:4] == ["0.91", "-"]  # tox, off


def test_show_says_not_judged(db: Path) -> None:
    out = cli(db, "show", "p1").stdout
    assert f"toxicity 0.91 · {OFF_TOPIC_NOT_JUDGED} ·" in out and "off-topic 0.00" not in out


def test_exports_leave_the_cell_empty_and_jsonl_null(db: Path) -> None:
    cli(db, "decide", "p1", "reject", "--reason", "insult", "--moderator", "alice")
    rows = list(csv.DictReader(io.StringIO(cli(db, "export", "--format", "csv").stdout)))
    assert rows[0]["comment_id"] == "p1" and rows[0]["off_topic"] == "" and rows[0]["toxicity"] == "0.91"
    (record,) = [json.loads(line) for line in cli(db, "export", "--format", "jsonl").stdout.splitlines()]
    assert record["off_topic"] is None


def test_filtering_by_off_topic_leaves_out_what_was_not_judged(db: Path) -> None:
    assert json.loads(cli(db, "list", "--json", "--label", "off_topic", "--min", "0").stdout) == []


def test_policy_and_risk_order_use_toxicity_alone() -> None:
    scores = Scores(toxicity=0.12, off_topic=None, model_version="m")
    assert risk_score(scores) == 0.12
    assert Policy().judge(scores) == (Outcome.APPROVE, "all labels below their approve band")
    assert Policy().judge(Scores(toxicity=0.5, off_topic=None, model_version="m"))[0] is Outcome.QUEUE


def test_rescoring_keeps_it_not_judged(db: Path) -> None:
    """`score --rescore` reads the placeholder's headline as no article: off-topic stays None."""
    cli(db, "score", "--model", "lexical-fake", "--rescore")
    rows = {row["id"]: row["scores"] for row in json.loads(cli(db, "list", "--json").stdout)}
    assert rows["p1"]["model_version"] == rows["p2"]["model_version"] == "lexical-fake-1"
    assert rows["p1"]["off_topic"] is None and rows["p2"]["off_topic"] is None
    from moderator.scoring.fake import FakeScorer

    (fresh,) = FakeScorer().score([(ALONE, PLACEHOLDER)])
    assert rows["p1"]["toxicity"] == fresh.toxicity != 0.91  # toxicity was judged again


def test_an_older_queue_with_zeros_is_migrated_to_null(db: Path) -> None:
    """Queues written before this release stored 0.0; the migration turns exactly those into NULL."""
    conn = sqlite3.connect(db)
    conn.execute("UPDATE scores SET off_topic = 0.0, passage_off_topic = 0.3, off_topic_passage = 'x'")
    conn.execute("INSERT INTO articles (id, headline) VALUES ('real', 'Windkraft')")
    conn.execute("INSERT INTO comments (id, article_id, text, status) VALUES ('r1', 'real', 'Gut so.', 'pending')")
    conn.execute("INSERT INTO scores (comment_id, model_version, toxicity, off_topic) VALUES ('r1', 'm', 0.1, 0.0)")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_off_topic_not_judged'")  # as an older release
    conn.commit()
    conn.close()
    cli(db, "flag", "--model", "lexical-fake", "--dry-run")  # a command that writes upgrades the queue
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT comment_id, off_topic FROM scores").fetchall())
    passages = conn.execute("SELECT count(*) FROM scores WHERE off_topic_passage != ''").fetchone()
    conn.close()
    assert rows == {"p1": None, "p2": None, "r1": 0.0}  # a real article's 0.0 is a judgement: kept
    assert passages == (0,)
