"""The schema of ``queue.db`` and how a connection to it is opened.

Why its own module: the tables are a contract with sqlite-utils / Datasette users (see the README), and every
process (CLI, desk, scorer) must open the file the same way: migrated, in WAL mode, waiting for locks.

Tables:
- ``articles``   one row per article.
- ``comments``   one row per comment; ``status`` and ``risk`` are projections kept in step, in the same
  transaction, with ``decisions`` and ``scores`` so that listing 100k comments needs no replay.
- ``scores``     the latest scores of each comment, with the model version.
- ``decisions``  append-only (triggers refuse UPDATE and DELETE); the source of truth for status and exports.
- ``claims``     who has a comment open in the TUI, and until when.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from moderator.records import NO_ARTICLE_ID, UNKNOWN_STORY_PREFIX, Status
from moderator.store.errors import StoreError

BUSY_TIMEOUT_S = 30.0

migrations = Migrations("moderator")


def _append_only_trigger(verb: str) -> str:
    """The trigger that refuses ``verb`` (UPDATE or DELETE) on the decision log: m001 creates it, m004 restores it."""
    return (
        f"CREATE TRIGGER decisions_append_only_{verb.lower()} BEFORE {verb} ON decisions "
        "BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END"
    )


@migrations()
def m001_initial(db: Database) -> None:
    db.table("articles").create(
        {
            "id": str,
            "headline": str,
            "kicker": str,
            "teaser": str,
            "body": str,
            "comments_total": int,
            "url": str,
            "source": str,
            "ingested_at": str,
        },
        pk="id",
    )
    db.table("comments").create(
        {
            "id": str,
            "article_id": str,
            "number": int,
            "author": str,
            "posted_at": str,
            "title": str,
            "text": str,
            "parent_id": str,
            "source": str,
            "ingested_at": str,
            "status": str,
            "risk": float,
        },
        pk="id",
        not_null={"article_id", "text", "status"},
        defaults={"status": Status.PENDING.value},
    )
    db.table("scores").create(
        {
            "comment_id": str,
            "model_version": str,
            "toxicity": float,
            "off_topic": float,
            "labels": str,
            "toxic_words": str,
            "off_topic_passage": str,
            "passage_off_topic": float,
            "scored_at": str,
        },
        pk="comment_id",
    )
    db.table("decisions").create(
        {
            "id": int,
            "comment_id": str,
            "action": str,
            "status_before": str,
            "status_after": str,
            "reason": str,
            "rule": str,
            "moderator": str,
            "decided_at": str,
            "reverts": int,
            "scores": str,
            "model_version": str,
        },
        pk="id",
        not_null={"comment_id", "action", "moderator", "decided_at"},
    )
    db.table("claims").create({"comment_id": str, "moderator": str, "until": str}, pk="comment_id")
    db.table("comments").create_index(["status", "risk", "posted_at"], index_name="comments_queue_order")
    db.table("comments").create_index(["article_id", "number"])
    db.table("comments").create_index(["author"])
    db.table("comments").create_index(["parent_id"])
    db.table("decisions").create_index(["comment_id"])
    db.table("decisions").create_index(["decided_at"])
    for verb in ("UPDATE", "DELETE"):
        db.execute(_append_only_trigger(verb))


@migrations()
def m002_risk_order_index(db: Database) -> None:
    """An index in exactly the queue's ORDER BY, so a page of a 100k queue needs no sort (the TUI scrolls it)."""
    db.execute("CREATE INDEX IF NOT EXISTS comments_risk_order ON comments (risk IS NULL, risk DESC, posted_at)")


def open_db(path: str | Path | None = None, *, write: bool = True) -> Database:
    """Open a queue database; ``None`` opens an in-memory one for tests.

    A file that holds tables but is not a moderator queue is refused before anything is written to it (no
    migrations table, no WAL switch). ``write=False`` is for commands that only read: they never create a queue
    where there is none and never migrate one (an older queue is upgraded by the next command that writes).
    The connection waits up to BUSY_TIMEOUT_S for a lock, so a scorer and a moderator can write at once.
    """
    if path is None:
        db = Database(memory=True, strict=True)
    else:
        if not write and not Path(path).is_file():
            raise StoreError(f"{path}: no queue database here (`moderator ingest` creates one)")
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        conn.isolation_level = None  # we open our own transactions (BEGIN IMMEDIATE)
        db = Database(conn, strict=True)
        _refuse_foreign(db, path)
        if write:
            db.enable_wal()
        db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    db.execute("PRAGMA foreign_keys=ON")
    if write:
        migrations.apply(db)
    elif migrations.pending(db):
        raise StoreError(
            f"{path}: a queue from an older moderator; a command that writes (e.g. `moderator flag`) upgrades it"
        )
    return db


def _refuse_foreign(db: Database, path: str | Path) -> None:
    """Read-only check: a database with tables of its own and no record of moderator's migrations is not ours."""
    tables = db.table_names()
    if tables and not migrations.applied(db):
        db.conn.close()
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(f"{path}: not a moderator queue (it holds {shown}); nothing was changed")


@migrations()
def m003_decisions_refuse_replace(db: Database) -> None:
    """REPLACE INTO fires no DELETE trigger unless recursive_triggers is on, so it could rewrite a logged decision.

    An INSERT that names an id already in the log is refused here, whatever the connection's pragmas.
    """
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS decisions_append_only_replace BEFORE INSERT ON decisions "
        "WHEN EXISTS (SELECT 1 FROM decisions WHERE id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END"
    )


@migrations()
def m004_decisions_hash_chain(db: Database) -> None:
    """Chain the decision log (store/chain.py): every row gets the hash of its content and of the row before it.

    Rows already logged are chained here, in id order; the UPDATE trigger is lifted for that one pass only.
    """
    from moderator.store.chain import GENESIS, HASHED_COLUMNS, row_hash

    db.execute("ALTER TABLE decisions ADD COLUMN prev_hash TEXT")
    db.execute("ALTER TABLE decisions ADD COLUMN row_hash TEXT")
    db.execute("DROP TRIGGER IF EXISTS decisions_append_only_update")
    prev = GENESIS
    for row in list(db.query(f"SELECT {', '.join(HASHED_COLUMNS)} FROM decisions ORDER BY id")):
        digest = row_hash(prev, [row[c] for c in HASHED_COLUMNS])
        db.execute("UPDATE decisions SET prev_hash = ?, row_hash = ? WHERE id = ?", [prev, digest, row["id"]])
        prev = digest
    db.execute(_append_only_trigger("UPDATE"))


@migrations()
def m005_off_topic_not_judged(db: Database) -> None:
    """Off-topic of a comment `serve` took without its article was stored as 0.0; it was never judged: NULL.

    The risk column is unchanged (0.0 added nothing to it). The decision log keeps the scores as they were
    logged, being append-only.
    """
    db.execute(
        "UPDATE scores SET off_topic = NULL, off_topic_passage = '', passage_off_topic = NULL WHERE comment_id IN "
        "(SELECT id FROM comments WHERE article_id = ? OR substr(article_id, 1, ?) = ?)",
        [NO_ARTICLE_ID, len(UNKNOWN_STORY_PREFIX), UNKNOWN_STORY_PREFIX],
    )
