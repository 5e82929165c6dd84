"""The server's writes and reads of the queue, each one transaction, all on one database thread.

Why a class of its own: the HTTP handlers stay about HTTP, and every store change a request makes (the
comment, its scores, the policy's decision) lands in one transaction, so a server stopped mid-request leaves
no half-written decision. The connection belongs to the single thread these methods run on (see ``DbThread``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from moderator.desk import Desk
from moderator.flagging import score_summary
from moderator.policy import Outcome, Policy, risk_score
from moderator.records import (
    NO_ARTICLE_ID,
    OFF_TOPIC_NOT_JUDGED,
    UNKNOWN_STORY_PREFIX,
    Action,
    Article,
    Comment,
    Decision,
    QueueItem,
    Scores,
    Status,
)
from moderator.store import Queue, open_db

T = TypeVar("T")
_PARENT_OUTCOME = {Status.APPROVED: Outcome.APPROVE, Status.REJECTED: Outcome.REJECT, Status.FLAGGED: Outcome.QUEUE}


def no_article() -> Article:
    """Where comments analysed without an article are filed; its headline says off-topic was not judged."""
    return Article(id=NO_ARTICLE_ID, headline=f"(sent without an article: {OFF_TOPIC_NOT_JUDGED})", source="serve")


def unknown_story(story_id: str, url: str) -> Article:
    """A placeholder for a Coral story nobody registered; the desk shows why its comments lack off-topic."""
    return Article(
        id=f"{UNKNOWN_STORY_PREFIX}{story_id}",
        headline=f"unknown story {url or story_id} ({OFF_TOPIC_NOT_JUDGED})",
        url=url,
        source="coral",
    )


@dataclass(frozen=True)
class Judged:
    """A Coral comment after the policy: the outcome to answer with, and the rule behind it."""

    outcome: Outcome
    rule: str


class Intake:
    """The queue as the server uses it; call only from the database thread."""

    def __init__(self, db_path: Path, policy: Policy) -> None:
        self.db_path = db_path
        self.policy = policy
        self._queue: Queue | None = None

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(open_db(self.db_path))
        return self._queue

    def close(self) -> None:
        if self._queue is not None:
            self._queue.db.conn.close()
            self._queue = None

    # -- reads --------------------------------------------------------------------------------------------
    def article(self, article_id: str) -> Article | None:
        return self.queue.article(article_id)

    def story_article(self, story_id: str, url: str) -> Article | None:
        """The article registered under a Coral story's id, else under its URL."""
        return self.queue.article(story_id) or self.queue.article_by_url(url)

    def item(self, comment_id: str) -> QueueItem | None:
        return self.queue.get(comment_id)

    def item_by_text(self, text: str) -> QueueItem | None:
        return self.queue.find_by_text(text)

    # -- writes -------------------------------------------------------------------------------------------
    def register(self, article: Article) -> bool:
        """Store an article; True when it is new (a known one only gains fields it lacked)."""
        return self.queue.add([article], []).new_articles > 0

    def store(self, comment: Comment, article: Article, scores: Scores) -> None:
        """The comment under its article with its scores, in one transaction; a known id adds nothing."""
        with self.queue.transaction():
            if self.queue.add([article], [comment]).new_comments:
                self.queue.save_scores([(comment.id, scores, risk_score(scores))])

    def moderate(self, comment: Comment, article: Article, scores: Scores, *, edit: bool) -> Judged:
        """Coral's phase: store (or, on an edit, replace the text of) the comment, score it, let the policy decide.

        One transaction. A retried NEW of a stored comment writes nothing and answers as before. An edit is
        judged again unless a person decided the comment (theirs stands; the desk sees the new text).
        """
        queue = self.queue
        with queue.transaction():
            stored = queue.get(comment.id)
            if stored is not None and not edit and stored.comment.text == comment.text:
                outcome, rule = self._judge(comment, stored.scores or scores)
                return Judged(outcome, rule)
            if stored is None:
                queue.add([article], [comment])
            elif stored.comment.text != comment.text:
                queue.replace_text(comment.id, comment.text)
                queue.note(comment.id, "coral", "text edited by its author (Coral EDIT); scored again")
            queue.save_scores([(comment.id, scores, risk_score(scores))])
            outcome, rule = self._judge(comment, scores)
            current = queue.require(comment.id)
            if self._auto_may_decide(current):
                desk = Desk(queue, f"auto:{self.policy.name}")
                desk.decide(
                    comment.id,
                    outcome.action,
                    rule=rule,
                    reason=score_summary(scores),
                    seen=current.status,
                    overrule=True,
                )
            return Judged(outcome, rule)

    def _judge(self, comment: Comment, scores: Scores) -> tuple[Outcome, str]:
        parent = self.queue.get(comment.parent_id) if comment.parent_id else None
        parent_outcome = _PARENT_OUTCOME.get(parent.status) if parent else None
        return self.policy.judge(scores, author=comment.author, parent_outcome=parent_outcome)

    def _auto_may_decide(self, item: QueueItem) -> bool:
        """The policy decides a comment nobody decided, or one only the policy did; a person's decision stands."""
        last = self.queue.last_decision(item.comment.id)
        return last is None or last.moderator.startswith("auto:")

    def suggest(self, comment_id: str, action: Action, moderator: str, reason: str) -> Decision | None:
        """A verdict from outside (a client's moderator) as an audited decision through the desk's rules.

        It overrules the policy's automatic decision but not a person's (AlreadyDecided, the caller answers 409);
        the same verdict again (a retry) writes nothing and returns None.
        """
        queue = self.queue
        with queue.transaction():
            queue.require(comment_id)  # an unknown id is refused before anything is written
            last = queue.last_decision(comment_id)
            if last is not None and last.moderator == moderator and last.action is action:
                return None
            overrule = last is None or last.moderator.startswith("auto:")
            return Desk(queue, moderator).decide(comment_id, action, reason=reason, seen=None, overrule=overrule)


class DbThread:
    """One thread that owns the SQLite connection: every store call of the server runs there, in order."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="moderator-db")

    async def run(self, call: Callable[[Intake], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, self.intake)

    def close(self) -> None:
        """Finish what was handed over (so no request's transaction is cut off), then close the connection."""
        self._executor.shutdown(wait=True)
        self.intake.close()
