"""Replay a policy over the house's decided comments, from their stored scores, writing nothing.

What a newsroom wants to know before switching a policy on: how often it agrees with the moderators, which
comments it would have got wrong, and how much reading it saves. Replies are judged as `flag` judges them: a
reply to a comment the policy would queue or reject is queued too (the parent as replayed, if it was decided).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moderator.house.decisions import HouseDecisions, HumanDecision, require_both_classes
from moderator.policy import Outcome, Policy

HUMAN = ("approved", "rejected")


@dataclass
class Replay:
    """The agreement matrix (policy outcome x human decision) and the comments the policy gets wrong."""

    policy: str
    seconds_per_comment: float
    matrix: dict[str, dict[str, int]] = field(
        default_factory=lambda: {o.value: dict.fromkeys(HUMAN, 0) for o in Outcome}
    )
    approved_but_rejected: list[tuple[HumanDecision, str]] = field(default_factory=list)  # (decision, rule)
    rejected_but_approved: list[tuple[HumanDecision, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.matrix.values())

    @property
    def not_queued(self) -> int:
        return self.total - sum(self.matrix[Outcome.QUEUE.value].values())

    @property
    def hours_saved(self) -> float:
        """Moderator time not spent: every comment decided without a human, at the given reading time."""
        return self.not_queued * self.seconds_per_comment / 3600

    @property
    def wrong(self) -> int:
        return len(self.approved_but_rejected) + len(self.rejected_but_approved)

    def as_json(self) -> dict[str, Any]:
        def rows(items: list[tuple[HumanDecision, str]]) -> list[dict[str, Any]]:
            return [
                {
                    "comment_id": d.comment_id,
                    "moderator": d.moderator,
                    "decided_at": d.decided_at,
                    "rule": rule,
                    "toxicity": d.scores.toxicity,
                    "off_topic": d.scores.off_topic,
                }
                for d, rule in items
            ]

        return {
            "policy": self.policy,
            "decisions": self.total,
            "matrix": self.matrix,
            "auto_approved_but_rejected": rows(self.approved_but_rejected),
            "auto_rejected_but_approved": rows(self.rejected_but_approved),
            "not_queued": self.not_queued,
            "seconds_per_comment": self.seconds_per_comment,
            "hours_saved": round(self.hours_saved, 3),
        }


def replay_policy(found: HouseDecisions, policy: Policy, *, seconds_per_comment: float = 30.0) -> Replay:
    """What ``policy`` would have done with each decided comment, against what the humans decided."""
    require_both_classes(found)
    by_id = {d.comment_id: d for d in found.decisions}
    judged: dict[str, tuple[Outcome, str]] = {}

    def judge(decision: HumanDecision, seen: frozenset[str]) -> tuple[Outcome, str]:
        if decision.comment_id not in judged:
            parent = by_id.get(decision.parent_id or "")
            parent_outcome = (
                judge(parent, seen | {decision.comment_id})[0]
                if parent is not None and parent.comment_id not in seen
                else None
            )
            judged[decision.comment_id] = policy.judge(
                decision.scores, author=decision.author, parent_outcome=parent_outcome
            )
        return judged[decision.comment_id]

    replay = Replay(policy.name, seconds_per_comment)
    for decision in found.decisions:
        outcome, rule = judge(decision, frozenset())
        human = "rejected" if decision.rejected else "approved"
        replay.matrix[outcome.value][human] += 1
        if outcome is Outcome.APPROVE and decision.rejected:
            replay.approved_but_rejected.append((decision, rule))
        elif outcome is Outcome.REJECT and not decision.rejected:
            replay.rejected_but_approved.append((decision, rule))
    return replay
