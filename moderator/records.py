"""The plain records that cross rooms: ingest -> store -> scoring -> policy -> decisions -> export.

They are deliberately dumb dataclasses so every room can be tested without the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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


@dataclass(frozen=True)
class Scores:
    """What the scorer says of one comment, calibrated to [0, 1].

    ``labels`` holds the fine toxicity labels (insult, profanity, abuse, threat) where the model has them;
    ``toxic_words`` are the words that drove the toxicity score; ``off_topic_passage`` is the passage (one or
    more sentences) that strays furthest from the article.
    """

    toxicity: float
    off_topic: float
    model_version: str
    labels: dict[str, float] = field(default_factory=dict)
    toxic_words: tuple[str, ...] = ()
    off_topic_passage: str = ""
    passage_off_topic: float | None = None  # the passage's own off-topic score

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
            off_topic=float(data["off_topic"]),
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
            "scores": self.scores.as_dict() if self.scores else {},
            "claimed_by": self.claimed_by or None,
            "source": c.source,
        }
