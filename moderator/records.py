"""The plain records that cross rooms: ingest -> store -> scoring -> policy -> decisions -> export.

They are deliberately dumb dataclasses so every room can be tested without the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from moderator.clock import iso

# Articles that stand for "no article known": comments `serve` takes without one (Perspective requests with no
# context) or under a Coral story nobody registered. Off-topic is never judged against them.
NO_ARTICLE_ID = "perspective-no-article"
UNKNOWN_STORY_PREFIX = "unknown-story:"
OFF_TOPIC_NOT_JUDGED = "off-topic not judged"


@dataclass(frozen=True)
class Article:
    """The article a thread sits under; off-topic is judged against it."""

    id: str
    headline: str
    kicker: str = ""
    teaser: str = ""
    body: str = ""
    comments_total: int | None = None  # total announced by the forum ("insgesamt N Beiträge")
    url: str = ""
    source: str = ""  # file it was ingested from

    def text_for_scoring(self) -> str:
        """Headline, teaser and body as one passage; whatever of them is known."""
        parts = [p for p in (self.kicker, self.headline, self.teaser, self.body) if p]
        return "\n".join(parts)

    @property
    def stands_for_none(self) -> bool:
        """One of `serve`'s placeholders for an article nobody sent: its comments' off-topic is not judged (None),
        not 0. (store migration m005 says the same in SQL.)"""
        return self.id == NO_ARTICLE_ID or self.id.startswith(UNKNOWN_STORY_PREFIX)


@dataclass(frozen=True)
class Comment:
    """One reader comment, stored verbatim."""

    id: str
    article_id: str
    text: str
    author: str = ""
    title: str = ""
    number: int | None = None  # position in the thread, when the source says it
    posted_at: str = ""  # ISO 8601 date or datetime, as precise as the source
    parent_id: str | None = None  # the comment this one replies to
    source: str = ""  # "FILE:LINE" it came from


HOUSE_LABEL = "house"  # the score label of a model adapted to the house's decisions (`train --from-decisions`)


@dataclass(frozen=True)
class Scores:
    """What the scorer says of one comment, calibrated to [0, 1].

    ``labels`` holds the fine toxicity labels (insult, profanity, abuse, threat) where the model has them;
    ``toxic_words`` are the words that drove the toxicity score; ``off_topic_passage`` is the passage (one or
    more sentences) that strays furthest from the article. ``words_pending`` marks a score at or above the
    model's threshold whose words were not computed yet (they cost a backward pass, spent only where a person
    reads them); the store keeps such words as NULL, an empty list meaning "computed: none". ``off_topic`` is
    None where it was not judged: the comment came without its article (`serve`), so there was nothing to
    judge it against; None orders, flags and filters nothing, and is shown as not judged, never as 0.
    """

    toxicity: float
    off_topic: float | None
    model_version: str
    labels: dict[str, float] = field(default_factory=dict)
    toxic_words: tuple[str, ...] = ()
    off_topic_passage: str = ""
    passage_off_topic: float | None = None  # the passage's own off-topic score
    words_pending: bool = False

    def without_off_topic(self) -> Scores:
        """These scores with off-topic not judged: for a comment whose article nobody sent."""
        return replace(self, off_topic=None, off_topic_passage="", passage_off_topic=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "toxicity": self.toxicity,
            "off_topic": self.off_topic,
            "labels": dict(self.labels),
            "toxic_words": list(self.toxic_words),
            "off_topic_passage": self.off_topic_passage,
            "passage_off_topic": self.passage_off_topic,
            "model_version": self.model_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scores:
        return cls(
            toxicity=float(data["toxicity"]),
            off_topic=None if data.get("off_topic") is None else float(data["off_topic"]),
            model_version=str(data.get("model_version", "")),
            labels={k: float(v) for k, v in (data.get("labels") or {}).items()},
            toxic_words=tuple(data.get("toxic_words") or ()),
            off_topic_passage=data.get("off_topic_passage") or "",
            passage_off_topic=data.get("passage_off_topic"),
        )


class Action(StrEnum):
    """What a decision does to a comment's status."""

    APPROVE = "approve"
    REJECT = "reject"
    QUEUE = "queue"  # put in front of a human (a policy flag)
    REVERT = "revert"  # undo: restores the status before the reverted decision
    NOTE = "note"  # a moderator's note; leaves the status alone


class Status(StrEnum):
    PENDING = "pending"  # not yet looked at by anyone, human or policy
    FLAGGED = "flagged"  # queued for human review by a policy
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        """Still waiting for a human: the desk's default view and the next-comment rule look for these."""
        return self in OPEN_STATUSES

    @property
    def is_decided(self) -> bool:
        """Approved or rejected: changing it again is an overrule."""
        return self in DECIDED_STATUSES


OPEN_STATUSES: tuple[Status, ...] = (Status.PENDING, Status.FLAGGED)
DECIDED_STATUSES: tuple[Status, ...] = (Status.APPROVED, Status.REJECTED)

# Every name a listing can be filtered by (`moderator list --status`, the desk's filters), and what it means;
# None means no filter at all.
STATUS_FILTERS: dict[str, tuple[Status, ...] | None] = {
    "pending": (Status.PENDING,),
    "flagged": (Status.FLAGGED,),
    "open": OPEN_STATUSES,
    "approved": (Status.APPROVED,),
    "rejected": (Status.REJECTED,),
    "decided": DECIDED_STATUSES,
    "all": None,
}
STATUS_FILTER_NAMES: tuple[str, ...] = tuple(STATUS_FILTERS)
# The filters the desk cycles through with `f`, what still needs a human first.
REVIEW_FILTER_CYCLE: tuple[str, ...] = ("open", "pending", "flagged", "decided", "all")


class UnknownStatusFilter(ValueError):
    """A status filter name that is not in STATUS_FILTERS; the message lists the valid ones."""


def statuses_for(filter_name: str | None) -> tuple[Status, ...] | None:
    """The statuses a filter name selects; None (no filter) for 'all' or no name."""
    if filter_name is None:
        return None
    try:
        return STATUS_FILTERS[filter_name]
    except KeyError:
        choices = ", ".join([*(s.value for s in Status), "decided", "open", "all"])
        raise UnknownStatusFilter(f"unknown status {filter_name!r}; choose one of {choices}") from None


def claim_is_live(until: str, now: datetime) -> bool:
    """Whether a claim stored as running ``until`` (see `moderator.clock.iso`) still holds at ``now``.

    The one place a claim's expiry is judged: the store when a claim is taken, the desk when it shows locks.
    """
    return bool(until) and until > iso(now)


STATUS_AFTER: dict[Action, Status] = {
    Action.APPROVE: Status.APPROVED,
    Action.REJECT: Status.REJECTED,
    Action.QUEUE: Status.FLAGGED,
}


@dataclass(frozen=True)
class Decision:
    """One row of the append-only audit trail."""

    id: int
    comment_id: str
    action: Action
    moderator: str
    decided_at: str  # UTC ISO 8601
    status_before: Status
    status_after: Status
    reason: str = ""
    rule: str = ""  # the policy rule that fired, for automatic decisions
    reverts: int | None = None  # id of the decision a revert undoes
    scores: Scores | None = None
    model_version: str = ""
    prev_hash: str = ""  # the hash chain (store/chain.py): the row before this one's hash ...
    row_hash: str = ""  # ... and this row's own

    def as_json(self) -> dict[str, Any]:
        """The shape `moderator show --json` (its history) and `moderator decide --json` print."""
        return {
            "id": self.id,
            "comment_id": self.comment_id,
            "action": self.action.value,
            "status_before": self.status_before.value,
            "status_after": self.status_after.value,
            "reason": self.reason,
            "rule": self.rule,
            "moderator": self.moderator,
            "decided_at": self.decided_at,
            "reverts": self.reverts,
            "model_version": self.model_version,
        }


@dataclass(frozen=True)
class QueueItem:
    """A comment as the queue shows it: comment, article headline, status and scores."""

    comment: Comment
    article_headline: str
    status: Status
    risk: float
    scores: Scores | None
    claimed_by: str = ""
    claimed_until: str = ""

    def held_by_other(self, me: str, now: datetime) -> str:
        """Who else holds a live claim on this comment at ``now``; empty when nobody (or only ``me``) does."""
        if self.claimed_by and self.claimed_by != me and claim_is_live(self.claimed_until, now):
            return self.claimed_by
        return ""

    def as_json(self) -> dict[str, Any]:
        """The shape `moderator list --json` prints: one flat object per comment."""
        c = self.comment
        return {
            "id": c.id,
            "article_id": c.article_id,
            "article_headline": self.article_headline,
            "author": c.author,
            "number": c.number,
            "posted_at": c.posted_at,
            "title": c.title,
            "text": c.text,
            "parent_id": c.parent_id,
            "status": self.status.value,
            "risk": self.risk if self.scores else None,
            # words_pending: toxic_words not computed yet (`show` computes them), as opposed to none found
            "scores": {**self.scores.as_dict(), "words_pending": self.scores.words_pending} if self.scores else {},
            "claimed_by": self.claimed_by or None,
            "source": c.source,
        }
