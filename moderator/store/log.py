"""The decision log: appending decisions (status moves with them atomically), undo, notes, and reading it back.

Why its own module: the log is the audit trail a newsroom answers for. It is append-only (triggers refuse
UPDATE and DELETE), every status change goes through `_append`, and the stored status is a projection that
`replay_status` can recompute from it. Whether a moderator *may* decide (overrules, claims) is a rule of the
desk module above the store; this module only refuses what would corrupt the log: a stale or nameless decision.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from moderator.clock import iso, parse_moment
from moderator.records import STATUS_AFTER, Action, Decision, QueueItem, Scores, Status
from moderator.store.base import QueueBase
from moderator.store.chain import GENESIS, HASHED_COLUMNS, ChainReport, row_hash, walk
from moderator.store.errors import StaleDecision, StoreError


class DecisionLog(QueueBase):
    """Decisions on the queue's connection; mixed into `Queue`."""

    def decide(
        self,
        comment_id: str,
        action: Action | str,
        moderator: str,
        *,
        reason: str = "",
        rule: str = "",
        expected_status: Status | str | None = None,
    ) -> Decision:
        """Append a decision and move the comment's status with it, in one transaction.

        ``expected_status`` is the status the moderator saw; if someone decided meanwhile the decision is
        refused (StaleDecision) instead of silently overwriting theirs.
        """
        action = Action(action)
        if action is Action.REVERT:
            raise StoreError("use undo() to revert a decision")
        with self.transaction():
            item = self.require(comment_id)
            if expected_status is not None and item.status != Status(expected_status):
                raise StaleDecision(f"{self.describe_status(item)}; not overwritten")
            after = STATUS_AFTER.get(action, item.status)
            return self._append(item, action, after, moderator, reason=reason, rule=rule)

    def describe_status(self, item: QueueItem) -> str:
        """``comment ID is already STATUS by WHO at WHEN``: how a refusal names the decision that stands."""
        last = self.last_decision(item.comment.id)
        who = f" by {last.moderator} at {last.decided_at}" if last else ""
        return f"comment {item.comment.id} is already {item.status.value}{who}"

    def _append(
        self,
        item: QueueItem,
        action: Action,
        after: Status,
        moderator: str,
        *,
        reason: str = "",
        rule: str = "",
        reverts: int | None = None,
    ) -> Decision:
        """Write one log row, move the status projection, and drop the comment's claim: one step.

        Every row names who decided: a blank name (empty or only spaces) would make the audit trail say nobody.
        """
        if not moderator.strip():
            raise StoreError("a decision needs a moderator name, not a blank one")
        decision = Decision(
            id=0,
            comment_id=item.comment.id,
            action=action,
            moderator=moderator,
            decided_at=self.now_iso(),
            status_before=item.status,
            status_after=after,
            reason=reason,
            rule=rule,
            reverts=reverts,
            scores=item.scores,
            model_version=item.scores.model_version if item.scores else "",
        )
        # The next id and the chain's head, read inside this (IMMEDIATE) transaction: no writer can interleave.
        last = self.db.conn.execute("SELECT id, row_hash FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
        decision_id = (last[0] if last else 0) + 1
        prev = (last[1] or GENESIS) if last else GENESIS
        values = [decision_id, *_decision_row(decision)]
        digest = row_hash(prev, values)
        self.db.conn.execute(
            f"INSERT INTO decisions ({', '.join(HASHED_COLUMNS)}, prev_hash, row_hash) "
            f"VALUES ({', '.join('?' * (len(HASHED_COLUMNS) + 2))})",
            [*values, prev, digest],
        )
        if after != item.status:
            self.db.conn.execute("UPDATE comments SET status = ? WHERE id = ?", [after.value, item.comment.id])
        self.db.conn.execute("DELETE FROM claims WHERE comment_id = ?", [item.comment.id])
        return replace(decision, id=decision_id, prev_hash=prev, row_hash=digest)

    def verify(self) -> ChainReport:
        """Walk the decision log's hash chain (store/chain.py) and report the first row that does not match."""
        columns = ", ".join((*HASHED_COLUMNS, "prev_hash", "row_hash"))
        return walk(self.db.query(f"SELECT {columns} FROM decisions ORDER BY id"))

    def undo(self, moderator: str, comment_id: str | None = None) -> Decision:
        """Revert the moderator's latest decision (on ``comment_id`` if given) by appending a revert.

        Refused when a later decision on that comment exists: undo never rewinds someone else's work.
        """
        with self.transaction():
            target = self._latest_undoable(moderator, comment_id)
            later = self.last_decision(target.comment_id)
            if later is not None and later.id != target.id:
                raise StaleDecision(
                    f"comment {target.comment_id} was decided again by {later.moderator} at {later.decided_at}; "
                    "undo refused"
                )
            item = self.require(target.comment_id)
            return self._append(
                item,
                Action.REVERT,
                target.status_before,
                moderator,
                reverts=target.id,
                reason=f"undo of decision {target.id}",
            )

    def _latest_undoable(self, moderator: str, comment_id: str | None) -> Decision:
        """The moderator's latest status-changing decision not yet reverted (on ``comment_id`` if given)."""
        sql = (
            "SELECT * FROM decisions d WHERE d.moderator = ? AND d.action NOT IN ('revert', 'note') "
            "AND NOT EXISTS (SELECT 1 FROM decisions r WHERE r.reverts = d.id)"
            + (" AND d.comment_id = ?" if comment_id else "")
            + " ORDER BY d.id DESC LIMIT 1"
        )
        rows = list(self.db.query(sql, [moderator, comment_id] if comment_id else [moderator]))
        if not rows:
            raise StoreError(f"nothing of {moderator}'s to undo" + (f" on {comment_id}" if comment_id else ""))
        return decision_from_row(rows[0])

    def note(self, comment_id: str, moderator: str, text: str) -> Decision:
        """Attach a moderator's note to a comment: an audit row that leaves the status alone."""
        return self.decide(comment_id, Action.NOTE, moderator, reason=text)

    def last_decision(self, comment_id: str) -> Decision | None:
        """The latest status-changing decision on a comment (notes excluded)."""
        rows = list(
            self.db.query(
                "SELECT * FROM decisions WHERE comment_id = ? AND action != 'note' ORDER BY id DESC LIMIT 1",
                [comment_id],
            )
        )
        return decision_from_row(rows[0]) if rows else None

    def history(self, comment_id: str) -> list[Decision]:
        """Every decision and note on one comment, oldest first."""
        rows = self.db.query("SELECT * FROM decisions WHERE comment_id = ? ORDER BY id", [comment_id])
        return [decision_from_row(r) for r in rows]

    def decisions(self, since: str | None = None, until: str | None = None) -> Iterator[Decision]:
        """The audit trail in order; ``since``/``until`` are ISO timestamps or dates (inclusive, UTC)."""
        clauses, params = [], []
        if since:
            clauses.append("decided_at >= ?")
            params.append(iso(parse_moment(since)))
        if until:
            clauses.append("decided_at <= ?")
            params.append(iso(parse_moment(until, end_of_day=True)))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        for row in self.db.query(f"SELECT * FROM decisions{where} ORDER BY id", params):
            yield decision_from_row(row)

    def replay_status(self, comment_id: str) -> Status:
        """The status the decision log implies; equals the stored projection (tests hold us to it)."""
        last = self.last_decision(comment_id)
        return last.status_after if last else Status.PENDING


def _decision_row(decision: Decision) -> list[Any]:
    """The INSERT parameters of a decision; the scores then in force are kept with it as JSON."""
    scores = json.dumps(decision.scores.as_dict(), ensure_ascii=False) if decision.scores else None
    return [
        decision.comment_id,
        decision.action.value,
        decision.status_before.value,
        decision.status_after.value,
        decision.reason,
        decision.rule,
        decision.moderator,
        decision.decided_at,
        decision.reverts,
        scores,
        decision.model_version,
    ]


def decision_from_row(row: dict[str, Any]) -> Decision:
    """A ``decisions`` row as a Decision."""
    return Decision(
        id=row["id"],
        comment_id=row["comment_id"],
        action=Action(row["action"]),
        moderator=row["moderator"],
        decided_at=row["decided_at"],
        status_before=Status(row["status_before"]),
        status_after=Status(row["status_after"]),
        reason=row["reason"] or "",
        rule=row["rule"] or "",
        reverts=row["reverts"],
        scores=Scores.from_dict(json.loads(row["scores"])) if row["scores"] else None,
        model_version=row["model_version"] or "",
        prev_hash=row.get("prev_hash") or "",
        row_hash=row.get("row_hash") or "",
    )
