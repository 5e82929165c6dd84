"""The SQLite queue: articles, comments, scores, claims and the append-only decision log.

Why a package: the store had six jobs in one module. Now `migrations` holds the schema and `open_db`,
`queue` ingest, reads and scores, `log` the decision log, `claims` who has a comment open, and `errors` the
refusals; `Queue` composes them. The store imports nothing above it (no policy, scoring, desk or faces).
These re-exports are the public names.
"""

from __future__ import annotations

from moderator.store.errors import StaleDecision, StoreError
from moderator.store.migrations import BUSY_TIMEOUT_S, open_db
from moderator.store.queue import AddResult, Queue, QueueFilter, ScoredComment

__all__ = [
    "BUSY_TIMEOUT_S",
    "AddResult",
    "Queue",
    "QueueFilter",
    "ScoredComment",
    "StaleDecision",
    "StoreError",
    "open_db",
]
