"""The decision log as a hash chain: each row stores a hash of its content and of the row before it.

Why: triggers refuse UPDATE, DELETE and REPLACE, but anyone with write access to queue.db can drop them. A chain
makes any later change visible: a rewritten row no longer matches its own hash, and a deleted or inserted row
breaks the link of the row after it. `moderator verify` walks the chain; `export` carries ``prev_hash`` and
``row_hash`` with every decision, so a newsroom answering a complaint can show that its log is whole. This is
how transparency logs make tampering visible (without a signature, a forger who rewrites every later row too can
still pass: keep the latest ``row_hash`` somewhere else, e.g. in each export, to pin the head).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of the first decision
# The columns a row's hash covers, in this order (the id first, so a row cannot move).
HASHED_COLUMNS = (
    "id",
    "comment_id",
    "action",
    "status_before",
    "status_after",
    "reason",
    "rule",
    "moderator",
    "decided_at",
    "reverts",
    "scores",
    "model_version",
)


def row_hash(prev_hash: str, values: Sequence[Any]) -> str:
    """sha256 of the previous row's hash and this row's HASHED_COLUMNS values, as compact JSON."""
    payload = json.dumps([prev_hash, *values], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """What a walk of the chain found: how many rows, the head hash, and the first row that does not match."""

    decisions: int
    head: str
    broken_at: int | None = None  # the id of the first row that does not match
    reason: str = ""

    @property
    def whole(self) -> bool:
        return self.broken_at is None

    def as_json(self) -> dict[str, Any]:
        return {
            "whole": self.whole,
            "decisions": self.decisions,
            "head": self.head,
            "broken_at": self.broken_at,
            "reason": self.reason,
        }


def walk(rows: Iterable[dict[str, Any]]) -> ChainReport:
    """Check rows (in id order, with HASHED_COLUMNS, ``prev_hash`` and ``row_hash``); stop at the first mismatch."""
    prev, prev_id, count = GENESIS, None, 0
    for row in rows:
        count += 1
        if row["prev_hash"] != prev:
            after = f"decision {prev_id}" if prev_id is not None else "the start of the log"
            return ChainReport(
                count,
                prev,
                row["id"],
                f"its link does not follow {after} (a row before it was removed, inserted or changed)",
            )
        if row["row_hash"] != row_hash(prev, [row[c] for c in HASHED_COLUMNS]):
            return ChainReport(
                count, prev, row["id"], "its content does not match its hash (changed after it was written)"
            )
        prev, prev_id = row["row_hash"], row["id"]
    return ChainReport(count, prev)
