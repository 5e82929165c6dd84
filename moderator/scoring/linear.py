"""Logistic maths shared by scoring and training: THE sigmoid, a standardised linear head, Platt scaling.

The off-topic head, the toxicity fusion and every calibration are the same two operations (a linear logit,
then a sigmoid); writing them once keeps what training fits and what scoring applies the same arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, overload

import numpy as np


@overload
def sigmoid(x: np.ndarray) -> np.ndarray: ...
@overload
def sigmoid(x: float | np.floating[Any]) -> np.floating[Any]: ...
def sigmoid(x: np.ndarray | float | np.floating[Any]) -> np.ndarray | np.floating[Any]:
    """The logistic function, in the dtype of ``x`` (a float32 logit stays float32)."""
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: float) -> float:
    """The inverse of ``sigmoid``: where a probability edge lies in logit units (to move one edge onto another)."""
    return float(np.log(p / (1.0 - p)))


@overload
def apply_platt(logits: np.ndarray, platt: Sequence[float]) -> np.ndarray: ...
@overload
def apply_platt(logits: float, platt: Sequence[float]) -> np.floating[Any]: ...
def apply_platt(logits: np.ndarray | float, platt: Sequence[float]) -> np.ndarray | np.floating[Any]:
    """Platt scaling: ``sigmoid(a * logit + b)`` for ``platt = (a, b)``."""
    a, b = platt
    return sigmoid(a * logits + b)


class StoredHead(Protocol):
    """A head as a model's config.json stores it (the off-topic, body and house sections)."""

    @property
    def mean(self) -> Sequence[float]: ...
    @property
    def std(self) -> Sequence[float]: ...
    @property
    def weights(self) -> Sequence[float]: ...
    @property
    def bias(self) -> float: ...


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays have no single truth value
class LinearHead:
    """``logit = ((x - mean) / std) @ weights + bias``; mean 0 and std 1 where the inputs are not standardised."""

    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def raw(cls, weights: np.ndarray, bias: float) -> LinearHead:
        """A head over unstandardised inputs (mean 0 and std 1 as scalars: a million columns need no copies)."""
        return cls(np.zeros(()), np.ones(()), np.asarray(weights), float(bias))

    @classmethod
    def of(cls, stored: StoredHead) -> LinearHead:
        """The head a config section stores, as arrays."""
        return cls(np.array(stored.mean), np.array(stored.std), np.array(stored.weights), float(stored.bias))

    def logit(self, x: np.ndarray) -> np.ndarray:
        """One logit per row of ``x`` (a single row may be given as a vector)."""
        return ((np.atleast_2d(x) - self.mean) / self.std) @ self.weights + self.bias
