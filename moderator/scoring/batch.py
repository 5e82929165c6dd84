"""Scoring the queue in committed batches, so a killed run resumes where it stopped and repeats nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from moderator.policy import risk_score
from moderator.records import Scores
from moderator.scoring.base import Pairs, Scorer
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

    Batches walk the comments in id order; each batch's scores are written in one transaction, in that order,
    so after a crash the next run finds exactly the comments still unscored.
    """
    scored = 0
    for pairs, results in score_in_turn(scorer, unscored_batches(queue, batch_size, rescore=rescore)):
        queue.save_scores(
            [(comment.id, scores, risk_score(scores)) for (comment, _), scores in zip(pairs, results, strict=True)]
        )
        scored += len(pairs)
        if on_batch:
            on_batch(len(pairs))
    return ScoreRun(scored, scorer.model_version)


def unscored_batches(queue: Queue, batch_size: int, *, rescore: bool = False) -> Iterator[Pairs]:
    """The unscored comments with their articles (all comments with ``rescore``), in id order, ``batch_size`` at a
    time; each batch is read when the one before it has been taken, scored or not yet."""
    after = ""
    while pairs := queue.unscored(limit=batch_size, after=after, rescore=rescore):
        after = pairs[-1][0].id
        yield pairs


def score_in_turn(scorer: Scorer, batches: Iterable[Pairs]) -> Iterator[tuple[Pairs, list[Scores]]]:
    """Each batch with its scores, in order: through the scorer's ``score_batches`` where it has one (the
    transformer scores two batches side by side), else one ``score`` call a batch.

    A comment under a placeholder for an article nobody sent (`serve`'s) keeps off-topic not judged when it is
    scored again (`score --rescore`): its placeholder headline is no article to judge it against.
    """
    side_by_side = getattr(scorer, "score_batches", None)
    scored = side_by_side(batches) if side_by_side is not None else ((p, scorer.score(p)) for p in batches)
    for pairs, results in scored:
        yield (
            pairs,
            [
                scores.without_off_topic() if article.stands_for_none else scores
                for (_, article), scores in zip(pairs, results, strict=True)
            ],
        )
