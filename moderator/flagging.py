"""Auto-flagging: score what is unscored, then let the policy approve, queue or reject pending comments.

Two phases, each in committed batches walking comment ids in order, so a run killed at any point (Ctrl-C or
kill -9) resumes where it stopped and ends in the same state as an uninterrupted run: phase 1 stores scores,
phase 2 judges pending comments from stored scores. A reply's parent counts as what it is if decided or flagged,
else as what this policy will make of it, judged up its own thread: so the outcome is the same whether the parent
was judged before the reply, after it, or in an earlier, interrupted run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from moderator.desk import Desk
from moderator.policy import Outcome, Policy
from moderator.records import Comment, QueueItem, Scores, Status
from moderator.scoring.base import Scorer
from moderator.scoring.batch import score_in_turn, score_queue, unscored_batches
from moderator.store import Queue, StaleDecision


@dataclass
class FlagReport:
    """What a run did (or, dry, would do): counts per outcome and per rule."""

    policy: str
    dry_run: bool
    scored: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)

    def outcome_counts(self) -> dict[str, int]:
        return {o.value: self.outcomes.get(o.value, 0) for o in Outcome}

    def as_json(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "dry_run": self.dry_run,
            "scored": self.scored,
            "outcomes": self.outcome_counts(),
            "rules": dict(self.rules.most_common()),
        }

    @property
    def flagged(self) -> int:
        return self.outcomes.get(Outcome.QUEUE.value, 0) + self.outcomes.get(Outcome.REJECT.value, 0)


class Flagger:
    """Applies one policy to a queue; ``scorer`` fills in missing scores first."""

    def __init__(self, queue: Queue, scorer: Scorer, policy: Policy, *, batch_size: int = 64) -> None:
        self.queue = queue
        self.scorer = scorer
        self.policy = policy
        self.batch_size = batch_size
        self._parent_outcomes: dict[str, Outcome | None] = {}

    @property
    def moderator(self) -> str:
        return f"auto:{self.policy.name}"

    def run(self, *, dry_run: bool = False, on_progress: Callable[[int], None] | None = None) -> FlagReport:
        report = FlagReport(self.policy.name, dry_run)
        memory_scores: dict[str, Scores] = {}
        if dry_run:
            memory_scores = self._score_in_memory(on_progress)
            report.scored = len(memory_scores)
        else:
            report.scored = score_queue(
                self.queue, self.scorer, batch_size=self.batch_size, on_batch=on_progress
            ).scored
        after = ""
        while batch := self.queue.pending_in_id_order(after=after, limit=self.batch_size):
            after = batch[-1].comment.id
            judged = []
            for item in batch:
                scores = item.scores or memory_scores.get(item.comment.id)
                judged.append((item.comment, scores, *self._judge(item.comment, scores, memory_scores)))
            for _, _, outcome, rule in judged:
                report.outcomes[outcome.value] += 1
                report.rules[rule] += 1
            if not dry_run:
                self._commit(judged)
            if on_progress:
                on_progress(len(batch))
        return report

    def _judge(self, comment: Comment, scores: Scores | None, memory: dict[str, Scores]) -> tuple[Outcome, str]:
        if scores is None:  # scoring skipped it (should not happen): leave it for a human
            return Outcome.QUEUE, "always queue: no scores"
        parent = self._parent_outcome(comment.parent_id, memory) if comment.parent_id else None
        return self.policy.judge(scores, author=comment.author, parent_outcome=parent)

    def _parent_outcome(self, parent_id: str, memory: dict[str, Scores]) -> Outcome | None:
        """What this run makes of a comment's parent: its status if it is decided or flagged, else the outcome
        the policy will give it, judged with *its* parent in turn (a reply to a reply to a flagged comment is
        queued too). Walking up the thread instead of caching a parent's scores alone makes the outcome the same
        whichever of the two is judged first, so a run interrupted anywhere ends as an uninterrupted one does.
        """
        pending: list[QueueItem] = []  # undecided ancestors, nearest first
        seen: set[str] = set()
        outcome: Outcome | None = None
        current: str | None = parent_id
        while current and current not in seen:  # a cycle of ids ends the walk
            if current in self._parent_outcomes:
                outcome = self._parent_outcomes[current]
                break
            item = self.queue.get(current)
            if item is None:
                break
            if item.status is not Status.PENDING:  # decided, or flagged: that is what it is
                outcome = Outcome.APPROVE if item.status is Status.APPROVED else Outcome.QUEUE
                self._parent_outcomes[current] = outcome
                break
            pending.append(item)
            seen.add(current)
            current = item.comment.parent_id
        for item in reversed(pending):  # from the oldest undecided ancestor down to the parent
            scores = item.scores or memory.get(item.comment.id)
            outcome = (
                Outcome.QUEUE  # as _judge does: no scores, a human looks
                if scores is None
                else self.policy.judge(scores, author=item.comment.author, parent_outcome=outcome)[0]
            )
            self._parent_outcomes[item.comment.id] = outcome
        return outcome

    def _commit(self, judged: list[tuple[Comment, Scores | None, Outcome, str]]) -> None:
        """One transaction per batch: all of a batch's decisions land, or none.

        Written through the desk like a moderator's, as decisions on comments seen pending: one set of rules
        for every decision, and a comment a moderator decided meanwhile is refused (theirs stands).
        """
        desk = Desk(self.queue, self.moderator)
        with self.queue.transaction():
            for comment, scores, outcome, rule in judged:
                try:
                    desk.decide(
                        comment.id, outcome.action, rule=rule, reason=score_summary(scores), seen=Status.PENDING
                    )
                except StaleDecision:  # a moderator got there first: theirs stands
                    continue

    def _score_in_memory(self, on_progress: Callable[[int], None] | None) -> dict[str, Scores]:
        scores: dict[str, Scores] = {}
        for pairs, results in score_in_turn(self.scorer, unscored_batches(self.queue, self.batch_size)):
            for (comment, _), result in zip(pairs, results, strict=True):
                scores[comment.id] = result
            if on_progress:
                on_progress(len(pairs))
        return scores


def score_summary(scores: Scores | None) -> str:
    """The scores behind an automatic decision, for the reason column of the log."""
    if scores is None:
        return "no scores"
    off = "not-judged" if scores.off_topic is None else f"{scores.off_topic:.2f}"
    return f"toxicity={scores.toxicity:.2f} off_topic={off}" + "".join(
        f" {label}={value:.2f}" for label, value in sorted(scores.labels.items())
    )
