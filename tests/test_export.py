"""The moderation log export: fields, both formats, date ranges, formula injection."""

from __future__ import annotations

import csv
import io
import json

from moderator.export import LOG_FIELDS, log_records, neutralise_cell, write_log
from moderator.records import Comment
from moderator.store import Queue
from tests.fixtures import ARTICLE


def test_jsonl_log_has_one_record_per_decision_with_scores(queue: Queue, clock) -> None:
    queue.decide("c2", "reject", "ana", reason="insult")
    clock.advance(60)
    queue.undo("ana")
    out = io.StringIO()
    assert write_log(log_records(queue), out, "jsonl") == 2
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert first["comment_id"] == "c2" and first["action"] == "reject" and first["reason"] == "insult"
    assert first["moderator"] == "ana" and first["decided_at"] == "2026-11-02T09:30:00Z"
    assert first["article_id"] == "a-wind" and first["author"] == "kopf"
    assert first["model_version"] == "lexical-fake-1" and first["toxicity"] > 0.5
    assert "idioten" in first["toxic_words"]
    assert second["action"] == "revert" and second["reverts"] == first["decision_id"]
    assert second["decided_at"] == "2026-11-02T09:31:00Z"


def test_csv_log_bytes(queue: Queue) -> None:
    queue.decide("c1", "approve", "ana", reason="fine")
    out = io.StringIO()
    write_log(log_records(queue), out, "csv")
    lines = out.getvalue().split("\r\n")
    assert lines[0] == ",".join(LOG_FIELDS)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["comment_id"] == "c1" and row["action"] == "approve" and row["status_after"] == "approved"
    assert row["author"] == "nordlicht" and row["comment_number"] == "1"


def test_since_and_until_select_by_decision_time(queue: Queue, clock) -> None:
    queue.decide("c1", "approve", "ana")
    clock.advance(86400)
    queue.decide("c2", "reject", "ana")
    assert [r["comment_id"] for r in log_records(queue, since="2026-11-03")] == ["c2"]
    assert [r["comment_id"] for r in log_records(queue, until="2026-11-02")] == ["c1"]


def test_csv_neutralises_formula_injection(queue: Queue) -> None:
    queue.add([ARTICLE], [Comment(id="evil", article_id="a-wind", author='=HYPERLINK("http://x")', text="+SUM(A1)")])
    queue.decide("evil", "reject", "@admin", reason="-2+3 =cmd|' /C calc'!A0")
    out = io.StringIO()
    write_log(log_records(queue), out, "csv")
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["author"] == '\'=HYPERLINK("http://x")'
    assert row["moderator"] == "'@admin"
    assert row["reason"].startswith("'-2+3")
    assert neutralise_cell("\tfoo") == "'\tfoo" and neutralise_cell(0.5) == 0.5 and neutralise_cell("ok") == "ok"


def test_since_accepts_offsets_and_naive_times_as_utc(queue: Queue, clock) -> None:
    queue.decide("c1", "approve", "ana")  # 2026-11-02T09:30:00Z
    assert [r["comment_id"] for r in log_records(queue, since="2026-11-02T10:00:00+01:00")] == ["c1"]
    assert list(log_records(queue, since="2026-11-02T09:30:01")) == []
