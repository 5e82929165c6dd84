"""The moderation log: every decision, read from the append-only audit trail, as JSON lines or CSV.

Why its own module: exports are what a newsroom hands to its legal team or a regulator, so their shape is
fixed here in one place (``LOG_FIELDS``) and they never depend on the TUI.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from moderator.records import Decision
from moderator.store import Queue

EXPORT_FORMATS = ("jsonl", "csv")
LOG_FIELDS = (
    "decision_id",
    "decided_at",
    "comment_id",
    "article_id",
    "article_headline",
    "author",
    "comment_number",
    "action",
    "status_before",
    "status_after",
    "reason",
    "rule",
    "moderator",
    "reverts",
    "model_version",
    "toxicity",
    "off_topic",
    "labels",
    "toxic_words",
    "off_topic_passage",
    "prev_hash",  # the decision log's hash chain (moderator verify): the latest row_hash pins the whole log
    "row_hash",
)
# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def log_records(queue: Queue, since: str | None = None, until: str | None = None) -> Iterator[dict[str, Any]]:
    """One flat record per decision, with the comment's article and author and the scores then in force."""
    comments: dict[str, tuple[str, str, str, int | None]] = {}
    for decision in queue.decisions(since, until):
        if decision.comment_id not in comments:
            item = queue.get(decision.comment_id)
            comments[decision.comment_id] = (
                (item.comment.article_id, item.article_headline, item.comment.author, item.comment.number)
                if item
                else ("", "", "", None)
            )
        yield _record(decision, *comments[decision.comment_id])


def _record(decision: Decision, article_id: str, headline: str, author: str, number: int | None) -> dict[str, Any]:
    """A decision as `Decision.as_json` has it, with its comment's context and scores, in LOG_FIELDS order."""
    scores = decision.scores
    fields = {
        **decision.as_json(),
        "decision_id": decision.id,
        "article_id": article_id,
        "article_headline": headline,
        "author": author,
        "comment_number": number,
        "toxicity": scores.toxicity if scores else None,
        "off_topic": scores.off_topic if scores else None,
        "labels": dict(scores.labels) if scores else {},
        "toxic_words": list(scores.toxic_words) if scores else [],
        "off_topic_passage": scores.off_topic_passage if scores else "",
        "prev_hash": decision.prev_hash,
        "row_hash": decision.row_hash,
    }
    return {name: fields[name] for name in LOG_FIELDS}


def neutralise_cell(value: Any) -> Any:
    """Make a CSV cell inert in spreadsheets: text starting with a formula trigger gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return neutralise_cell(value)


def write_log(records: Iterator[dict[str, Any]], out: IO[str], fmt: str = "jsonl") -> int:
    """Write records to ``out`` in ``fmt``; returns how many were written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LOG_FIELDS)
    for record in records:
        writer.writerow([_csv_cell(record[name]) for name in LOG_FIELDS])
        count += 1
    return count
