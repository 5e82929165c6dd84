"""Scoring: the Scorer protocol, the transformer scorer and its training, calibration and explanations.

Heavy imports (torch, transformers) live in submodules and are only imported when a command scores.
"""

from moderator.scoring.base import Scorer

__all__ = ["Scorer"]
