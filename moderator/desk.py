"""The moderator's rules, in one place both faces (the CLI and the TUI desk) and the batch flagger call.

Why it exists: the CLI and the desk used to carry their own copies of "may this comment be decided?", and
they disagreed (the desk overruled a decided comment without asking). Here live the rules above the log:

- a decision carries the status the moderator saw; if it changed meanwhile, the store refuses (StaleDecision);
- changing an approved or rejected comment is an overrule, refused (AlreadyDecided) unless asked for;
- bulk decisions decide what they may and report each refusal with its reason;
- undo and notes;
- claims: how long one holds, when a desk renews it, and that a moderator holds one comment at a time;
- the words that drove a comment's toxicity, computed when a person opens it (``WordsOnOpen``).

Nothing here imports Textual or the scoring stack, so `moderator decide` stays fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from moderator.records import Action, Article, Comment, Decision, QueueItem, Status
from moderator.store import Queue, StoreError

CLAIM_TTL_S = 300  # a claim holds five minutes ...
RENEW_AFTER_S = CLAIM_TTL_S / 2  # ... and a desk still showing the comment renews it halfway


class AlreadyDecided(StoreError):
    """The comment is approved or rejected; deciding it again is an overrule, which must be asked for.

    The message (``comment ID is already STATUS by WHO at WHEN``) is what both faces show; the CLI adds how to
    force it, the desk asks whether to overrule.
    """


@dataclass(frozen=True)
class Refusal:
    """One comment of a bulk decision that was not decided, and why (the error's message is for people)."""

    comment_id: str
    error: StoreError

    @property
    def reason(self) -> str:
        return str(self.error)


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk decision did: the decisions written, and the comments refused."""

    decided: list[Decision] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def renewal_due(claimed_at: datetime, now: datetime) -> bool:
    """A desk still showing a comment renews its claim once half of it has run out."""
    return (now - claimed_at).total_seconds() > RENEW_AFTER_S


class Desk:
    """One moderator's decisions and claims on one queue (a cheap object: make one where needed)."""

    def __init__(self, queue: Queue, moderator: str) -> None:
        self.queue = queue
        self.moderator = moderator

    # -- decisions ----------------------------------------------------------------------------------------
    def decide(
        self,
        comment_id: str,
        action: Action | str,
        *,
        reason: str = "",
        rule: str = "",
        seen: Status | None = None,
        overrule: bool = False,
    ) -> Decision:
        """Decide one comment, in one transaction.

        ``seen`` is the status the moderator was shown (None: not shown, e.g. the CLI); a different status now
        is refused as StaleDecision. An approved or rejected comment is refused as AlreadyDecided unless
        ``overrule``; a stale status wins over that, since the moderator has not seen the decision standing.
        """
        with self.queue.transaction():
            if not overrule and (refusal := self.would_overrule(comment_id, seen)) is not None:
                raise refusal
            return self.queue.decide(comment_id, action, self.moderator, reason=reason, rule=rule, expected_status=seen)

    def would_overrule(self, comment_id: str, seen: Status | None = None) -> AlreadyDecided | None:
        """The refusal a decision without ``overrule`` would meet, so a face can ask before, not after."""
        if seen is not None and seen.is_open:
            return None  # shown open: still open (no overrule), or decided meanwhile (stale, the store refuses)
        item = self.queue.require(comment_id)
        if item.status.is_decided and seen in (None, item.status):
            return AlreadyDecided(self.queue.describe_status(item))
        return None

    def decide_many(
        self,
        seen: Mapping[str, Status | None] | Iterable[str],
        action: Action | str,
        *,
        reason: str = "",
        overrule: bool = False,
    ) -> BulkOutcome:
        """Decide several comments, each on its own (one refusal never undoes the others).

        ``seen`` maps each id to the status the moderator was shown, or is just the ids (nothing shown).
        """
        shown = dict(seen) if isinstance(seen, Mapping) else dict.fromkeys(seen)
        outcome = BulkOutcome()
        for comment_id, status in shown.items():
            try:
                decision = self.decide(comment_id, action, reason=reason, seen=status, overrule=overrule)
            except StoreError as exc:
                outcome.refused.append(Refusal(comment_id, exc))
            else:
                outcome.decided.append(decision)
        return outcome

    def undo(self, comment_id: str | None = None) -> Decision:
        """Revert this moderator's latest decision (on ``comment_id`` if given); never someone else's later one."""
        return self.queue.undo(self.moderator, comment_id)

    def note(self, comment_id: str, text: str) -> Decision:
        """A note in the comment's log; the status stays."""
        return self.queue.note(comment_id, self.moderator, text)

    # -- claims -------------------------------------------------------------------------------------------
    def claim(self, comment_id: str) -> str | None:
        """Hold the comment now shown (dropping any other this moderator held); the holder's name if taken."""
        with self.queue.transaction():
            self.queue.release(self.moderator)
            return self.queue.claim(comment_id, self.moderator, ttl_s=CLAIM_TTL_S)

    def holder(self, comment_id: str) -> str | None:
        """Another moderator with the comment open right now, or None."""
        return self.queue.claimed_by_other(comment_id, self.moderator)

    def release(self, comment_id: str | None = None) -> None:
        """Drop this moderator's claim on one comment, or all of them (when leaving the desk)."""
        self.queue.release(self.moderator, comment_id)


# What computes words: (comment, article) pairs in, the words that drove each one's toxicity out. The scorer's
# ``toxic_words_of``; handed in by the face that loads it, so nothing here imports the scoring stack.
WordsOf = Callable[[Sequence[tuple[Comment, Article]]], list[tuple[str, ...]]]


class WordsOnOpen:
    """The words that drove a comment's toxicity, computed when a person opens it, then stored.

    Why: words cost a backward pass through the toxicity layers, about a fifth of scoring time when `flag`
    computed them for every comment a person might read. Computed when someone does read the comment (the
    desk, `moderator show`), each costs tens of milliseconds once and is stored, so it is never paid twice.
    ``load`` is called on first use (loading the model takes seconds; the desk calls this from a worker
    thread) and returns None where the model cannot explain (the lexical test scorer). Thread-safe.
    """

    def __init__(self, load: Callable[[], WordsOf | None]) -> None:
        self._load = load
        self._words_of: WordsOf | None = None
        self._loaded = False
        self._lock = threading.Lock()

    @property
    def names_words(self) -> bool | None:
        """Whether the loaded model names words (None until it is loaded, on the first ``fill``)."""
        return self._words_of is not None if self._loaded else None

    @staticmethod
    def pending(items: Iterable[QueueItem]) -> list[QueueItem]:
        """The items scored over the model's threshold whose words were not computed yet."""
        return [item for item in items if item.scores is not None and item.scores.words_pending]

    def fill(self, queue: Queue, items: Sequence[QueueItem]) -> dict[str, tuple[str, ...]]:
        """Compute and store the words of the pending ``items``: {comment id: words} of those computed.

        Empty when nothing is pending or the model cannot explain; a model that fails to load raises.
        """
        todo = self.pending(items)
        if not todo:
            return {}
        with self._lock:  # one model, loaded once; one comment at a time through it
            if not self._loaded:
                self._words_of, self._loaded = self._load(), True
            if self._words_of is None:
                return {}
            # the words read the comment alone (title and text): the article is not needed
            pairs = [(item.comment, Article(id=item.comment.article_id, headline="")) for item in todo]
            found = self._words_of(pairs)
        queue.save_words([(item.comment.id, words) for item, words in zip(todo, found, strict=True)])
        return {item.comment.id: words for item, words in zip(todo, found, strict=True)}
