"""The whole training run behind `moderator train`: fine-tune -> calibrate -> off-topic -> config.json.

Each step writes its own files into the model directory (toxicity.*, ngrams.safetensors, offtopic.*); the
last one gathers what the scorer needs into config.json through ``artifacts.ModelConfig``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from moderator.scoring.artifacts import (
    OFFTOPIC_REPORT,
    QUERY_PREFIX,
    TOXICITY_REPORT,
    Fusion,
    ModelConfig,
    OffTopicConfig,
    ToxicityConfig,
)
from moderator.training import log
from moderator.training.calibrate import calibrate_toxicity
from moderator.training.finetune import train_toxicity
from moderator.training.offtopic import train_offtopic

OFFTOPIC_CONFIG_KEYS = ("features", "mean", "std", "weights", "bias", "platt", "threshold", "generic", "reference")


def train_main(
    out_dir: Path, data_dir: Path, base_dir: Path | None = None, *, skip_finetune: bool = False, **kwargs: Any
) -> dict[str, Any]:
    """Train both parts into ``out_dir`` and write its config.json; returns the config as written.

    ``kwargs`` go to ``train_toxicity`` (``n_frozen`` also to the off-topic features).
    """
    out_dir, data_dir = Path(out_dir), Path(data_dir)
    t0 = time.time()
    if not skip_finetune:
        train_toxicity(out_dir, data_dir, base_dir, **kwargs)
    calibrate_toxicity(out_dir, data_dir, base_dir)
    max_length = json.loads((out_dir / TOXICITY_REPORT).read_text())["max_len"]  # comments cut as scoring cuts them
    train_offtopic(out_dir, data_dir, base_dir, n_frozen=kwargs.get("n_frozen", 6), max_length=max_length)
    config = write_config(out_dir)
    log(f"done in {time.time() - t0:.0f}s -> {out_dir}")
    return config.to_json()


def write_config(out_dir: Path, name: str | None = None) -> ModelConfig:
    """config.json from the two training records (toxicity.json, offtopic.json) in ``out_dir``."""
    tox = json.loads((out_dir / TOXICITY_REPORT).read_text())
    off = json.loads((out_dir / OFFTOPIC_REPORT).read_text())
    name = name or out_dir.name
    config = ModelConfig(
        name=name,
        model_version=f"{name}+e5s-{tox['base_conversion_sha256'][:8]}",
        base_model_id=tox["base_model_id"],
        base_conversion_sha256=tox["base_conversion_sha256"],
        n_frozen=tox["n_frozen"],
        max_length=tox["max_len"],
        article_max_length=off["article_max_length"],
        query_prefix=QUERY_PREFIX,
        article_prefix=QUERY_PREFIX,  # articles are embedded like comments (symmetric similarity)
        labels=tox["labels"],
        toxicity=ToxicityConfig(Fusion(**tox["fusion"]), tox["threshold"]),
        off_topic=OffTopicConfig(**{k: off[k] for k in OFFTOPIC_CONFIG_KEYS}),
        bf16=True,
    )
    config.write(out_dir)
    return config
