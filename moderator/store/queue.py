"""The moderation queue: ingest writes, listings and lookups, and scores, over one connection.

Why one class: every read and write of ``queue.db`` goes through `Queue` so that the CLI, the desk and the
batch jobs share one set of rules (idempotent ingest, atomic decisions, refusal of stale decisions). The
decision log (`moderator.store.log`) and claims (`moderator.store.claims`) are its other parts, mixed in.
The store knows nothing above it: a score's risk is computed by the caller (the policy's job) and stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from moderator.records import Article, Comment, QueueItem, Scores, Status, UnknownStatusFilter, statuses_for
from moderator.store.base import SELECT_ITEMS, item_from_row
from moderator.store.claims import Claims
from moderator.store.errors import StoreError
from moderator.store.log import DecisionLog

ORDER_BY = "c.risk IS NULL, c.risk DESC, c.posted_at, c.rowid"
ScoredComment = tuple[str, Scores, float]  # (comment id, its scores, the risk they imply)


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
    """Which comments a listing shows: ``status`` is a name of `records.STATUS_FILTERS`; None means all."""

    status: str | None = None
    article_id: str | None = None
    author: str | None = None
    label: str | None = None  # 'toxicity' | 'off_topic' | a fine label: only those scoring >= label_min
    label_min: float = 0.5
    search: str | None = None


class Queue(DecisionLog, Claims):
    """The moderation queue over one database connection (one per thread)."""

    # -- ingest -------------------------------------------------------------------------------------------
    def add(self, articles: Iterable[Article], comments: Iterable[Comment]) -> AddResult:
        """Store articles and comments; rows already present are left exactly as they are."""
        now = self.now_iso()
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
        try:
            statuses = statuses_for(flt.status)
        except UnknownStatusFilter as exc:
            raise StoreError(str(exc)) from exc
        if statuses is not None:
            clauses.append(f"c.status IN ({', '.join('?' * len(statuses))})")
            params += [s.value for s in statuses]
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

    def items(self, flt: QueueFilter | None = None, *, limit: int = 100, offset: int = 0) -> list[QueueItem]:
        """A page of the queue in risk order (highest first; unscored last; older first on ties).

        The query walks the risk-order index instead of sorting (SQLite would otherwise pick the status
        index and sort every match): a deep page of a 100k queue in tens of milliseconds, the first in one or
        two. The TUI's lazy list and `moderator list` both read through here.
        """
        where, params = self._where(flt or QueueFilter())
        select = SELECT_ITEMS.replace("FROM comments c ", "FROM comments c INDEXED BY comments_risk_order ", 1)
        sql = f"{select}{where} ORDER BY {ORDER_BY} LIMIT ? OFFSET ?"
        return [item_from_row(row) for row in self.db.query(sql, [*params, limit, offset])]

    def pending_in_id_order(self, *, after: str = "", limit: int = 256) -> list[QueueItem]:
        """Pending comments after ``after`` in id order: a batch job walks these once and can resume."""
        sql = f"{SELECT_ITEMS} WHERE c.status = ? AND c.id > ? ORDER BY c.id LIMIT ?"
        return [item_from_row(row) for row in self.db.query(sql, [Status.PENDING.value, after, limit])]

    def has_label(self, label: str) -> bool:
        """Whether any stored score carries this fine label (the desk offers a filter only for those)."""
        row = self.db.execute(
            "SELECT 1 FROM scores WHERE json_extract(labels, '$.' || ?) IS NOT NULL LIMIT 1", [label]
        ).fetchone()
        return row is not None

    def count(self, flt: QueueFilter | None = None) -> int:
        """How many comments a listing holds (for the status bar and `moderator list`)."""
        where, params = self._where(flt or QueueFilter())
        joins = " LEFT JOIN scores s ON s.comment_id = c.id" if "s." in where else ""
        return int(next(self.db.query(f"SELECT count(*) AS n FROM comments c{joins}{where}", params))["n"])

    def counts_by_status(self) -> dict[str, int]:
        """Comments per status, every status present (zero when none)."""
        counts = {s.value: 0 for s in Status}
        for row in self.db.query("SELECT status, count(*) AS n FROM comments GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def article(self, article_id: str) -> Article | None:
        """The article a thread sits under, or None when only its id is known."""
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

    def article_by_url(self, url: str) -> Article | None:
        """The article registered under ``url`` (the first one, if several share it), or None."""
        if not url:
            return None
        rows = list(self.db.query("SELECT id FROM articles WHERE url = ? ORDER BY rowid LIMIT 1", [url]))
        return self.article(rows[0]["id"]) if rows else None

    def find_by_text(self, text: str) -> QueueItem | None:
        """The newest comment holding exactly ``text``: how a verdict sent with only the text finds its comment."""
        rows = list(self.db.query(f"{SELECT_ITEMS} WHERE c.text = ? ORDER BY c.rowid DESC LIMIT 1", [text]))
        return item_from_row(rows[0]) if rows else None

    def replace_text(self, comment_id: str, text: str) -> None:
        """An author's edit: the comment's text changes and its old scores go (they judged the old text).

        The decision log keeps the scores each earlier decision saw; the caller scores the new text.
        """
        with self.transaction():
            self.require(comment_id)
            self.db.conn.execute("UPDATE comments SET text = ?, risk = NULL WHERE id = ?", [text, comment_id])
            self.db.conn.execute("DELETE FROM scores WHERE comment_id = ?", [comment_id])

    def replies(self, comment_id: str) -> list[QueueItem]:
        """The direct replies to a comment, in thread order."""
        sql = f"{SELECT_ITEMS} WHERE c.parent_id = ? ORDER BY c.number, c.posted_at, c.rowid"
        return [item_from_row(row) for row in self.db.query(sql, [comment_id])]

    def author_history(self, author: str, *, exclude: str | None = None, limit: int = 10) -> list[QueueItem]:
        """The author's most recent other comments, newest first: context for a moderator's judgement."""
        sql = f"{SELECT_ITEMS} WHERE c.author = ? AND c.id != ? ORDER BY c.posted_at DESC, c.rowid DESC LIMIT ?"
        return [item_from_row(row) for row in self.db.query(sql, [author, exclude or "", limit])]

    def change_marker(self) -> tuple[int, ...]:
        """Changes whenever any process adds, scores or decides: cheap polling for live views."""
        row = next(
            self.db.query(
                "SELECT (SELECT max(rowid) FROM comments) AS c, (SELECT max(id) FROM decisions) AS d, "
                "(SELECT count(*) FROM scores) AS s, (SELECT max(scored_at) FROM scores) AS t"
            )
        )
        return (row["c"] or 0, row["d"] or 0, row["s"] or 0, hash(row["t"]))

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
        rows = self.db.query(f"{SELECT_ITEMS} WHERE c.id IN ({', '.join('?' * len(ids))}) ORDER BY c.id", ids)
        articles: dict[str, Article] = {}
        pairs = []
        for row in rows:
            comment = item_from_row(row).comment
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

    def save_words(self, words: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Store the words that drove toxicity, computed after scoring, for (comment id, words) pairs.

        Only where they are still pending: a comment scored again meanwhile keeps the words of its new scores.
        """
        with self.transaction():
            for comment_id, found in words:
                self.db.conn.execute(
                    "UPDATE scores SET toxic_words = ? WHERE comment_id = ? AND toxic_words IS NULL",
                    [json.dumps(list(found), ensure_ascii=False), comment_id],
                )

    def save_scores(self, scored: Sequence[ScoredComment]) -> None:
        """Store a batch of (comment id, scores, risk) atomically (a killed run keeps whole batches).

        The risk orders the queue; the caller computes it (the policy's ``risk_score``), so the store
        depends on nothing above it.
        """
        now = self.now_iso()
        with self.transaction():
            for comment_id, s, risk in scored:
                self.db.conn.execute(
                    "INSERT OR REPLACE INTO scores (comment_id, model_version, toxicity, off_topic, labels, "
                    "toxic_words, off_topic_passage, passage_off_topic, scored_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        comment_id,
                        s.model_version,
                        s.toxicity,
                        s.off_topic,
                        json.dumps(s.labels),
                        None if s.words_pending else json.dumps(list(s.toxic_words), ensure_ascii=False),
                        s.off_topic_passage,
                        s.passage_off_topic,
                        now,
                    ],
                )
                self.db.conn.execute("UPDATE comments SET risk = ? WHERE id = ?", [risk, comment_id])
