"""The house's decisions: the latest human approve or reject per comment, reverts honoured.

Why its own module: every figure of `calibrate`, `policy test` and `train --from-decisions` stands on this
reading of the audit log, so it is written once. Automatic decisions (``auto:<policy>``) say what a policy did,
not where the house draws its line, so they are left out; decisions arriving from a comment system
(``client:<id>``, e.g. through `moderator serve`) are a person's and count. Notes and queue flags are not
decisions on the comment's fate. A decision undone (a ``revert`` naming it) no longer stands, and the one before
it stands again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from moderator.clock import iso, parse_moment
from moderator.records import Action, Decision, Scores
from moderator.store import Queue

AUTO_PREFIX = "auto:"  # automatic decisions of a policy (flagging.Flagger.moderator)


class HouseError(ValueError):
    """Too little to learn from (no decisions, one class only); the message says what is missing."""


def is_human(moderator: str) -> bool:
    """A person's decision: anyone but a policy (``client:<id>`` from a comment system counts as human)."""
    return not moderator.startswith(AUTO_PREFIX)


@dataclass(frozen=True)
class HumanDecision:
    """One comment's standing human decision, with the scores in force when it was taken."""

    comment_id: str
    rejected: bool
    moderator: str
    decided_at: str
    scores: Scores
    author: str = ""
    parent_id: str | None = None
    article_id: str = ""


@dataclass
class HouseDecisions:
    """The standing human decisions in decision order, and what was left out (for the report)."""

    decisions: list[HumanDecision] = field(default_factory=list)
    unscored: int = 0  # decided comments with no scores at all: nothing to measure
    model_versions: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(d.rejected for d in self.decisions)

    @property
    def approved(self) -> int:
        return len(self.decisions) - self.rejected


def human_decisions(queue: Queue, since: str | None = None, *, current_scores: bool = False) -> HouseDecisions:
    """The latest standing human approve/reject per comment, oldest decision first.

    ``since`` (ISO date or date-time) keeps decisions taken from then on; reverts are read over the whole log, so
    an undo is honoured even when the decision it undid is older. Scores are those recorded with the decision
    (what the moderator saw); ``current_scores`` takes the queue's latest instead (after a rescore with a new
    model), and a decision recorded without scores falls back to them too.
    """
    log = list(queue.decisions())
    reverted = {d.reverts for d in log if d.action is Action.REVERT and d.reverts is not None}
    standing: dict[str, Decision] = {}
    for d in log:
        if d.action in (Action.APPROVE, Action.REJECT) and d.id not in reverted and is_human(d.moderator):
            standing.pop(d.comment_id, None)  # re-insert: dict order is the order of the standing decisions
            standing[d.comment_id] = d
    cutoff = iso(parse_moment(since)) if since else ""
    out = HouseDecisions()
    for d in standing.values():
        if d.decided_at < cutoff:
            continue
        item = queue.get(d.comment_id)
        scores = (item.scores if item else None) if current_scores or d.scores is None else d.scores
        if scores is None or item is None:
            out.unscored += 1
            continue
        out.model_versions[scores.model_version] += 1
        c = item.comment
        out.decisions.append(
            HumanDecision(
                c.id, d.action is Action.REJECT, d.moderator, d.decided_at, scores, c.author, c.parent_id, c.article_id
            )
        )
    out.decisions.sort(key=lambda h: h.decided_at)  # stable: ties keep log order
    return out


def require_both_classes(found: HouseDecisions) -> None:
    """Refuse to measure or learn from a log without both approvals and rejections, saying which is missing."""
    n = len(found.decisions)
    if n == 0:
        extra = f" ({found.unscored} decided comments have no scores: run `moderator score`)" if found.unscored else ""
        raise HouseError(f"no human decisions to learn from{extra}")
    if found.rejected == 0 or found.approved == 0:
        have, missing = ("approvals", "rejections") if found.rejected == 0 else ("rejections", "approvals")
        raise HouseError(f"only one class: {n} {have} and no {missing}; the house's line needs both")
