"""What every part of the queue shares: the connection, the clock, transactions, and a comment by id.

Why its own module: the queue's jobs (ingest and reads in `queue`, the decision log in `log`, claims in
`claims`) are separate classes composed into `Queue`; each needs these few things and nothing of the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from moderator.clock import iso, utc_now
from moderator.records import Comment, QueueItem, Scores, Status
from moderator.store.errors import StoreError

# A comment with its headline, scores and claim: the one shape every listing and lookup reads.
SELECT_ITEMS = (
    "SELECT c.*, a.headline AS article_headline, s.model_version AS s_model_version, s.toxicity, "
    "s.off_topic, s.labels, s.toxic_words, s.off_topic_passage, s.passage_off_topic, "
    "cl.moderator AS claimed_by, cl.until AS claimed_until "
    "FROM comments c LEFT JOIN articles a ON a.id = c.article_id "
    "LEFT JOIN scores s ON s.comment_id = c.id LEFT JOIN claims cl ON cl.comment_id = c.id"
)


class QueueBase:
    """One database connection (one per thread) and the clock that stamps what it writes."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self.db = db
        self.clock = clock

    def now_iso(self) -> str:
        """The clock's moment as stored (UTC ISO 8601, seconds, ``Z``)."""
        return iso(self.clock())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One logical change, one transaction; IMMEDIATE so concurrent writers queue instead of failing."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def get(self, comment_id: str) -> QueueItem | None:
        """The comment as the queue shows it, or None when the id is unknown."""
        rows = list(self.db.query(f"{SELECT_ITEMS} WHERE c.id = ?", [comment_id]))
        return item_from_row(rows[0]) if rows else None

    def require(self, comment_id: str) -> QueueItem:
        """The comment as the queue shows it; an unknown id is refused with a message for the moderator."""
        item = self.get(comment_id)
        if item is None:
            raise StoreError(f"no comment with id {comment_id!r}")
        return item


def item_from_row(row: dict[str, Any]) -> QueueItem:
    """A row of SELECT_ITEMS as a QueueItem (scores only when the comment was scored)."""
    comment = Comment(
        id=row["id"],
        article_id=row["article_id"],
        text=row["text"],
        author=row["author"] or "",
        title=row["title"] or "",
        number=row["number"],
        posted_at=row["posted_at"] or "",
        parent_id=row["parent_id"],
        source=row["source"] or "",
    )
    return QueueItem(
        comment=comment,
        article_headline=row["article_headline"] or "",
        status=Status(row["status"]),
        risk=row["risk"] if row["risk"] is not None else -1.0,
        scores=_scores_from_row(row),
        claimed_by=row["claimed_by"] or "",
        claimed_until=row["claimed_until"] or "",
    )


def _scores_from_row(row: dict[str, Any]) -> Scores | None:
    if row["toxicity"] is None:
        return None
    return Scores(
        toxicity=row["toxicity"],
        off_topic=row["off_topic"],
        model_version=row["s_model_version"],
        labels=json.loads(row["labels"] or "{}"),
        toxic_words=tuple(json.loads(row["toxic_words"] or "[]")),
        off_topic_passage=row["off_topic_passage"] or "",
        passage_off_topic=row["passage_off_topic"],
        words_pending=row["toxic_words"] is None,  # NULL: not computed yet; "[]": computed, none
    )
