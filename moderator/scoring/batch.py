"""Scoring the queue in committed batches, so a killed run resumes where it stopped and repeats nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from moderator.policy import risk_score
from moderator.scoring.base import Scorer
from moderator.store import Queue


@dataclass(frozen=True)
class ScoreRun:
    scored: int
    model_version: str


def score_queue(
    queue: Queue,
    scorer: Scorer,
    *,
    batch_size: int = 64,
    rescore: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> ScoreRun:
    """Score unscored comments (every comment with ``rescore``), one atomic batch at a time.

    Batches walk the comments in id order; each batch's scores are written in one transaction, so after a
    crash the next run finds exactly the comments still unscored.
    """
    scored = 0
    after = ""
    while True:
        pairs = queue.unscored(limit=batch_size, after=after, rescore=rescore)
        if not pairs:
            return ScoreRun(scored, scorer.model_version)
        results = scorer.score(pairs)
        queue.save_scores(
            [(comment.id, scores, risk_score(scores)) for (comment, _), scores in zip(pairs, results, strict=True)]
        )
        after = pairs[-1][0].id
        scored += len(pairs)
        if on_batch:
            on_batch(len(pairs))
