"""The SQLite queue: articles, comments, scores, claims and the append-only decision log.

Why one module: every read and write of ``queue.db`` goes through ``Queue`` so that the CLI, the TUI and the
batch flagger share one set of rules (idempotent ingest, atomic decisions, refusal of stale decisions).

Tables (documented for sqlite-utils / Datasette users in the README):
- ``articles``   one row per article.
- ``comments``   one row per comment; ``status`` and ``risk`` are projections kept in step, in the same
  transaction, with ``decisions`` and ``scores`` so that listing 100k comments needs no replay.
- ``scores``     the latest scores of each comment, with the model version.
- ``decisions``  append-only (triggers refuse UPDATE and DELETE); the source of truth for status and exports.
- ``claims``     who has a comment open in the TUI, and until when.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from moderator.policy import risk_score
from moderator.records import (
    STATUS_AFTER,
    Action,
    Article,
    Comment,
    Decision,
    QueueItem,
    Scores,
    Status,
)

BUSY_TIMEOUT_S = 30.0
DEFAULT_CLAIM_TTL_S = 300
DECIDED = (Status.APPROVED, Status.REJECTED)

migrations = Migrations("moderator")


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
        db.execute(
            f"CREATE TRIGGER decisions_append_only_{verb.lower()} BEFORE {verb} ON decisions "
            "BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END"
        )


@migrations()
def m002_risk_order_index(db: Database) -> None:
    """An index in exactly the queue's ORDER BY, so a page of a 100k queue needs no sort (the TUI scrolls it)."""
    db.execute("CREATE INDEX IF NOT EXISTS comments_risk_order ON comments (risk IS NULL, risk DESC, posted_at)")


class StoreError(Exception):
    """A request the queue refuses; the message is meant for the moderator."""


class StaleDecision(StoreError):
    """The comment was decided by someone else since it was shown."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_moment(value: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time as UTC (naive means UTC); a bare date means its start, or its end."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise StoreError(f"{value!r} is not an ISO 8601 date or date-time") from exc
    if end_of_day and len(value) == 10:
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def open_db(path: str | Path | None = None) -> Database:
    """Open (creating and migrating) a queue database; ``None`` opens an in-memory one for tests.

    The connection waits up to BUSY_TIMEOUT_S for a lock, so a scorer and a moderator can write at once.
    """
    if path is None:
        db = Database(memory=True, strict=True)
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        conn.isolation_level = None  # we open our own transactions (BEGIN IMMEDIATE)
        db = Database(conn, strict=True)
        db.enable_wal()
        db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    db.execute("PRAGMA foreign_keys=ON")
    migrations.apply(db)
    return db


@dataclass(frozen=True)
class AddResult:
    """What an ingest changed: new rows only, so a re-import reports zero."""

    new_articles: int
    new_comments: int
    unchanged_comments: int
    # incoming comments whose id is already taken by a different comment: (incoming, the stored one's source)
    conflicts: tuple[tuple[Comment, str], ...] = ()


@dataclass(frozen=True)
class QueueFilter:
    """Which comments a listing shows. ``status`` 'decided' means approved or rejected; None means all."""

    status: str | None = None
    article_id: str | None = None
    author: str | None = None
    label: str | None = None  # 'toxicity' | 'off_topic' | a fine label: only those scoring >= label_min
    label_min: float = 0.5
    search: str | None = None


def _status_values(status: str | None) -> list[str] | None:
    if status in (None, "all"):
        return None
    if status == "decided":
        return [s.value for s in DECIDED]
    if status == "open":
        return [Status.PENDING.value, Status.FLAGGED.value]
    try:
        return [Status(status).value]
    except ValueError as exc:
        choices = ", ".join([*(s.value for s in Status), "decided", "open", "all"])
        raise StoreError(f"unknown status {status!r}; choose one of {choices}") from exc


STATUS_CHOICES = ("pending", "flagged", "open", "approved", "rejected", "decided", "all")
ORDER_BY = "c.risk IS NULL, c.risk DESC, c.posted_at, c.rowid"


class Queue:
    """The moderation queue over one database connection (one per thread)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self.db = db
        self.clock = clock

    # -- transactions -------------------------------------------------------------------------------------
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

    # -- ingest -------------------------------------------------------------------------------------------
    def add(self, articles: Iterable[Article], comments: Iterable[Comment]) -> AddResult:
        """Store articles and comments; rows already present are left exactly as they are."""
        now = iso(self.clock())
        conn = self.db.conn
        with self.transaction():
            before = conn.total_changes
            for article in articles:
                self._add_article(article, now)
            new_articles = conn.total_changes - before
            before = conn.total_changes
            incoming = list(comments)
            conn.executemany(
                "INSERT OR IGNORE INTO comments (id, article_id, number, author, posted_at, title, text, "
                "parent_id, source, ingested_at, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        c.id,
                        c.article_id,
                        c.number,
                        c.author,
                        c.posted_at,
                        c.title,
                        c.text,
                        c.parent_id,
                        c.source,
                        now,
                        Status.PENDING.value,
                    )
                    for c in incoming
                ],
            )
            new_comments = conn.total_changes - before
        conflicts = self._id_conflicts(incoming) if new_comments < len(incoming) else ()
        return AddResult(new_articles, new_comments, len(incoming) - new_comments - len(conflicts), conflicts)

    def _id_conflicts(self, incoming: list[Comment]) -> tuple[tuple[Comment, str], ...]:
        """Incoming comments whose id the store already holds for another text or article.

        Re-ingesting the same comment is a no-op; a *different* comment under a taken id (two exports that
        both number their comments from 1) would otherwise vanish silently, so it is reported instead.
        """
        conflicts = []
        for start in range(0, len(incoming), 500):
            chunk = incoming[start : start + 500]
            stored = {
                row["id"]: row
                for row in self.db.query(
                    f"SELECT id, article_id, text, source FROM comments WHERE id IN ({', '.join('?' * len(chunk))})",
                    [c.id for c in chunk],
                )
            }
            for comment in chunk:
                row = stored[comment.id]
                if (row["article_id"], row["text"]) != (comment.article_id, comment.text):
                    conflicts.append((comment, str(row["source"] or "an earlier ingest")))
        return tuple(conflicts)

    def _add_article(self, article: Article, now: str) -> None:
        """Insert a new article, or fill in fields an earlier source left empty (never overwrite)."""
        row = {
            "id": article.id,
            "headline": article.headline,
            "kicker": article.kicker,
            "teaser": article.teaser,
            "body": article.body,
            "comments_total": article.comments_total,
            "url": article.url,
            "source": article.source,
            "ingested_at": now,
        }
        conn = self.db.conn
        cursor = conn.execute(
            f"INSERT OR IGNORE INTO articles ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        if cursor.rowcount:
            return
        for column in ("headline", "kicker", "teaser", "body", "comments_total", "url"):
            if row[column] not in ("", None):
                conn.execute(
                    f"UPDATE articles SET {column} = ? WHERE id = ? AND ({column} IS NULL OR {column} = '')",
                    [row[column], article.id],
                )

    # -- reading ------------------------------------------------------------------------------------------
    def _where(self, flt: QueueFilter) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        statuses = _status_values(flt.status)
        if statuses is not None:
            clauses.append(f"c.status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        if flt.article_id:
            clauses.append("c.article_id = ?")
            params.append(flt.article_id)
        if flt.author:
            clauses.append("c.author = ?")
            params.append(flt.author)
        if flt.label in ("toxicity", "off_topic"):
            clauses.append(f"s.{flt.label} >= ?")
            params.append(flt.label_min)
        elif flt.label:
            clauses.append("json_extract(s.labels, '$.' || ?) >= ?")
            params += [flt.label, flt.label_min]
        if flt.search:
            clauses.append("(instr(lower(c.text), ?) OR instr(lower(c.title), ?) OR instr(lower(c.author), ?))")
            needle = flt.search.lower()
            params += [needle, needle, needle]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    _SELECT = (
        "SELECT c.*, a.headline AS article_headline, s.model_version AS s_model_version, s.toxicity, "
        "s.off_topic, s.labels, s.toxic_words, s.off_topic_passage, s.passage_off_topic, "
        "cl.moderator AS claimed_by, cl.until AS claimed_until "
        "FROM comments c LEFT JOIN articles a ON a.id = c.article_id "
        "LEFT JOIN scores s ON s.comment_id = c.id LEFT JOIN claims cl ON cl.comment_id = c.id"
    )

    def items(self, flt: QueueFilter | None = None, *, limit: int = 100, offset: int = 0) -> list[QueueItem]:
        """A page of the queue in risk order (highest first; unscored last; older first on ties).

        The query walks the risk-order index instead of sorting (SQLite would otherwise pick the status
        index and sort every match): a deep page of a 100k queue in tens of milliseconds, the first in one or
        two. The TUI's lazy list and `moderator list` both read through here.
        """
        where, params = self._where(flt or QueueFilter())
        select = self._SELECT.replace("FROM comments c ", "FROM comments c INDEXED BY comments_risk_order ", 1)
        sql = f"{select}{where} ORDER BY {ORDER_BY} LIMIT ? OFFSET ?"
        return [self._item(row) for row in self.db.query(sql, [*params, limit, offset])]

    def pending_in_id_order(self, *, after: str = "", limit: int = 256) -> list[QueueItem]:
        """Pending comments after ``after`` in id order: a batch job walks these once and can resume."""
        sql = f"{self._SELECT} WHERE c.status = ? AND c.id > ? ORDER BY c.id LIMIT ?"
        return [self._item(row) for row in self.db.query(sql, [Status.PENDING.value, after, limit])]

    def count(self, flt: QueueFilter | None = None) -> int:
        where, params = self._where(flt or QueueFilter())
        joins = " LEFT JOIN scores s ON s.comment_id = c.id" if "s." in where else ""
        return int(next(self.db.query(f"SELECT count(*) AS n FROM comments c{joins}{where}", params))["n"])

    def counts_by_status(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for row in self.db.query("SELECT status, count(*) AS n FROM comments GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def get(self, comment_id: str) -> QueueItem | None:
        rows = list(self.db.query(f"{self._SELECT} WHERE c.id = ?", [comment_id]))
        return self._item(rows[0]) if rows else None

    def require(self, comment_id: str) -> QueueItem:
        item = self.get(comment_id)
        if item is None:
            raise StoreError(f"no comment with id {comment_id!r}")
        return item

    def article(self, article_id: str) -> Article | None:
        rows = list(self.db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
        if not rows:
            return None
        row = rows[0]
        return Article(
            id=row["id"],
            headline=row["headline"] or "",
            kicker=row["kicker"] or "",
            teaser=row["teaser"] or "",
            body=row["body"] or "",
            comments_total=row["comments_total"],
            url=row["url"] or "",
            source=row["source"] or "",
        )

    def replies(self, comment_id: str) -> list[QueueItem]:
        sql = f"{self._SELECT} WHERE c.parent_id = ? ORDER BY c.number, c.posted_at, c.rowid"
        return [self._item(row) for row in self.db.query(sql, [comment_id])]

    def author_history(self, author: str, *, exclude: str | None = None, limit: int = 10) -> list[QueueItem]:
        """The author's most recent other comments, newest first: context for a moderator's judgement."""
        sql = f"{self._SELECT} WHERE c.author = ? AND c.id != ? ORDER BY c.posted_at DESC, c.rowid DESC LIMIT ?"
        return [self._item(row) for row in self.db.query(sql, [author, exclude or "", limit])]

    @staticmethod
    def _item(row: dict[str, Any]) -> QueueItem:
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
        scores = None
        if row["toxicity"] is not None:
            scores = Scores(
                toxicity=row["toxicity"],
                off_topic=row["off_topic"],
                model_version=row["s_model_version"],
                labels=json.loads(row["labels"] or "{}"),
                toxic_words=tuple(json.loads(row["toxic_words"] or "[]")),
                off_topic_passage=row["off_topic_passage"] or "",
                passage_off_topic=row["passage_off_topic"],
            )
        return QueueItem(
            comment=comment,
            article_headline=row["article_headline"] or "",
            status=Status(row["status"]),
            risk=row["risk"] if row["risk"] is not None else -1.0,
            scores=scores,
            claimed_by=row["claimed_by"] or "",
            claimed_until=row["claimed_until"] or "",
        )

    def change_marker(self) -> tuple[int, ...]:
        """Changes whenever any process adds, scores or decides: cheap polling for live views."""
        row = next(
            self.db.query(
                "SELECT (SELECT max(rowid) FROM comments) AS c, (SELECT max(id) FROM decisions) AS d, "
                "(SELECT count(*) FROM scores) AS s, (SELECT max(scored_at) FROM scores) AS t"
            )
        )
        return (row["c"] or 0, row["d"] or 0, row["s"] or 0, hash(row["t"]))

    def claims_marker(self) -> tuple[int, str]:
        """Changes whenever a claim is taken, renewed or dropped: lets a live view show others' locks."""
        row = next(self.db.query("SELECT count(*) AS n, max(until) AS u FROM claims"))
        return (int(row["n"]), row["u"] or "")

    # -- scoring ------------------------------------------------------------------------------------------
    def unscored(self, *, limit: int = 256, after: str = "", rescore: bool = False) -> list[tuple[Comment, Article]]:
        """Comments still to be scored (every comment with ``rescore``), with their article, in id order.

        Id order plus ``after`` lets a batch run walk the queue once and resume after a crash.
        """
        sql = (
            "SELECT c.id FROM comments c LEFT JOIN scores s ON s.comment_id = c.id "
            "WHERE c.id > ? AND (? OR s.comment_id IS NULL) ORDER BY c.id LIMIT ?"
        )
        ids = [r["id"] for r in self.db.query(sql, [after, rescore, limit])]
        if not ids:
            return []
        rows = self.db.query(f"{self._SELECT} WHERE c.id IN ({', '.join('?' * len(ids))}) ORDER BY c.id", ids)
        articles: dict[str, Article] = {}
        pairs = []
        for row in rows:
            comment = self._item(row).comment
            if comment.article_id not in articles:
                articles[comment.article_id] = self.article(comment.article_id) or Article(
                    id=comment.article_id, headline=""
                )
            pairs.append((comment, articles[comment.article_id]))
        return pairs

    def count_unscored(self, *, rescore: bool = False) -> int:
        """How many comments a score run would touch (every comment with ``rescore``): a progress bar's total."""
        sql = (
            "SELECT count(*) AS n FROM comments"
            if rescore
            else (
                "SELECT count(*) AS n FROM comments c LEFT JOIN scores s ON s.comment_id = c.id "
                "WHERE s.comment_id IS NULL"
            )
        )
        return int(next(self.db.query(sql))["n"])

    def save_scores(self, scored: Sequence[tuple[str, Scores]]) -> None:
        """Store a batch of scores and the risk they imply, atomically (a killed run keeps whole batches)."""
        now = iso(self.clock())
        with self.transaction():
            for comment_id, s in scored:
                self.db.conn.execute(
                    "INSERT OR REPLACE INTO scores (comment_id, model_version, toxicity, off_topic, labels, "
                    "toxic_words, off_topic_passage, passage_off_topic, scored_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        comment_id,
                        s.model_version,
                        s.toxicity,
                        s.off_topic,
                        json.dumps(s.labels),
                        json.dumps(list(s.toxic_words), ensure_ascii=False),
                        s.off_topic_passage,
                        s.passage_off_topic,
                        now,
                    ],
                )
                self.db.conn.execute("UPDATE comments SET risk = ? WHERE id = ?", [risk_score(s), comment_id])

    # -- decisions ----------------------------------------------------------------------------------------
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
        if not moderator:
            raise StoreError("a decision needs a moderator name")
        with self.transaction():
            item = self.require(comment_id)
            if expected_status is not None and item.status != Status(expected_status):
                last = self.last_decision(comment_id)
                who = f" by {last.moderator} at {last.decided_at}" if last else ""
                raise StaleDecision(f"comment {comment_id} is already {item.status.value}{who}; not overwritten")
            after = STATUS_AFTER.get(action, item.status)
            return self._append(item, action, after, moderator, reason=reason, rule=rule)

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
        scores_json = json.dumps(item.scores.as_dict(), ensure_ascii=False) if item.scores else None
        model_version = item.scores.model_version if item.scores else ""
        decided_at = iso(self.clock())
        cursor = self.db.conn.execute(
            "INSERT INTO decisions (comment_id, action, status_before, status_after, reason, rule, moderator, "
            "decided_at, reverts, scores, model_version) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                item.comment.id,
                action.value,
                item.status.value,
                after.value,
                reason,
                rule,
                moderator,
                decided_at,
                reverts,
                scores_json,
                model_version,
            ],
        )
        if after != item.status:
            self.db.conn.execute("UPDATE comments SET status = ? WHERE id = ?", [after.value, item.comment.id])
        self.db.conn.execute("DELETE FROM claims WHERE comment_id = ?", [item.comment.id])
        return Decision(
            id=int(cursor.lastrowid or 0),
            comment_id=item.comment.id,
            action=action,
            moderator=moderator,
            decided_at=decided_at,
            status_before=item.status,
            status_after=after,
            reason=reason,
            rule=rule,
            reverts=reverts,
            scores=item.scores,
            model_version=model_version,
        )

    def undo(self, moderator: str, comment_id: str | None = None) -> Decision:
        """Revert the moderator's latest decision (on ``comment_id`` if given) by appending a revert.

        Refused when a later decision on that comment exists: undo never rewinds someone else's work.
        """
        with self.transaction():
            sql = (
                "SELECT * FROM decisions d WHERE d.moderator = ? AND d.action NOT IN ('revert', 'note') "
                "AND NOT EXISTS (SELECT 1 FROM decisions r WHERE r.reverts = d.id)"
                + (" AND d.comment_id = ?" if comment_id else "")
                + " ORDER BY d.id DESC LIMIT 1"
            )
            rows = list(self.db.query(sql, [moderator, comment_id] if comment_id else [moderator]))
            if not rows:
                raise StoreError(f"nothing of {moderator}'s to undo" + (f" on {comment_id}" if comment_id else ""))
            target = self._decision(rows[0])
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
        return self._decision(rows[0]) if rows else None

    def history(self, comment_id: str) -> list[Decision]:
        rows = self.db.query("SELECT * FROM decisions WHERE comment_id = ? ORDER BY id", [comment_id])
        return [self._decision(r) for r in rows]

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
            yield self._decision(row)

    @staticmethod
    def _decision(row: dict[str, Any]) -> Decision:
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
        )

    def replay_status(self, comment_id: str) -> Status:
        """The status the decision log implies; equals the stored projection (tests hold us to it)."""
        last = self.last_decision(comment_id)
        return last.status_after if last else Status.PENDING

    # -- claims -------------------------------------------------------------------------------------------
    def claim(self, comment_id: str, moderator: str, ttl_s: int = DEFAULT_CLAIM_TTL_S) -> str | None:
        """Claim a comment for a few minutes; returns the other moderator's name if they hold it."""
        now = self.clock()
        with self.transaction():
            rows = list(self.db.query("SELECT * FROM claims WHERE comment_id = ?", [comment_id]))
            if rows and rows[0]["moderator"] != moderator and rows[0]["until"] > iso(now):
                return str(rows[0]["moderator"])
            self.db.conn.execute(
                "INSERT OR REPLACE INTO claims (comment_id, moderator, until) VALUES (?,?,?)",
                [comment_id, moderator, iso(now + timedelta(seconds=ttl_s))],
            )
        return None

    def claimed_by_other(self, comment_id: str, moderator: str) -> str | None:
        rows = list(
            self.db.query(
                "SELECT moderator FROM claims WHERE comment_id = ? AND moderator != ? AND until > ?",
                [comment_id, moderator, iso(self.clock())],
            )
        )
        return str(rows[0]["moderator"]) if rows else None

    def release(self, moderator: str, comment_id: str | None = None) -> None:
        """Drop the moderator's claims (one, or all of them when quitting)."""
        with self.transaction():
            if comment_id:
                self.db.conn.execute(
                    "DELETE FROM claims WHERE comment_id = ? AND moderator = ?", [comment_id, moderator]
                )
            else:
                self.db.conn.execute("DELETE FROM claims WHERE moderator = ?", [moderator])
