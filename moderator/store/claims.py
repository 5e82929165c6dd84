"""Claims: who has a comment open at a desk, and until when.

Why its own module: a claim is advisory (the desk asks before deciding over one; the log never refuses on
it), short-lived, and the only state that expires. Whether a claim still holds is judged by
`moderator.records.claim_is_live` alone; how long one lasts and when it is renewed are the desk's rules.
"""

from __future__ import annotations

from datetime import timedelta

from moderator.clock import iso
from moderator.records import claim_is_live
from moderator.store.base import QueueBase


class Claims(QueueBase):
    """Claims on the queue's connection; mixed into `Queue`."""

    def claim(self, comment_id: str, moderator: str, *, ttl_s: int) -> str | None:
        """Claim a comment for ``ttl_s`` seconds; returns the other moderator's name if they hold it."""
        with self.transaction():
            other = self.claimed_by_other(comment_id, moderator)
            if other:
                return other
            self.db.conn.execute(
                "INSERT OR REPLACE INTO claims (comment_id, moderator, until) VALUES (?,?,?)",
                [comment_id, moderator, iso(self.clock() + timedelta(seconds=ttl_s))],
            )
        return None

    def claimed_by_other(self, comment_id: str, moderator: str) -> str | None:
        """The other moderator holding a live claim on the comment, or None."""
        rows = list(self.db.query("SELECT moderator, until FROM claims WHERE comment_id = ?", [comment_id]))
        if not rows or rows[0]["moderator"] == moderator or not claim_is_live(rows[0]["until"], self.clock()):
            return None
        return str(rows[0]["moderator"])

    def release(self, moderator: str, comment_id: str | None = None) -> None:
        """Drop the moderator's claims (one, or all of them when quitting)."""
        with self.transaction():
            if comment_id:
                self.db.conn.execute(
                    "DELETE FROM claims WHERE comment_id = ? AND moderator = ?", [comment_id, moderator]
                )
            else:
                self.db.conn.execute("DELETE FROM claims WHERE moderator = ?", [moderator])

    def claims_marker(self) -> tuple[int, str]:
        """Changes whenever a claim is taken, renewed or dropped: lets a live view show others' locks."""
        row = next(self.db.query("SELECT count(*) AS n, max(until) AS u FROM claims"))
        return (int(row["n"]), row["u"] or "")
