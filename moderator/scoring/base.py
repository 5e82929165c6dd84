"""The one interface every scorer implements, so the store, policy and TUI never care which model runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from moderator.records import Article, Comment, Scores

Pairs = Sequence[tuple[Comment, Article]]  # (comment, the article it sits under): what every scorer reads


@runtime_checkable
class Scorer(Protocol):
    """Scores comments against their own article.

    ``model_version`` identifies weights and calibration; it is stored beside every score and decision.
    ``score`` returns one ``Scores`` per pair, in input order, and must be deterministic.
    """

    model_version: str

    def score(self, pairs: Sequence[tuple[Comment, Article]]) -> list[Scores]: ...
