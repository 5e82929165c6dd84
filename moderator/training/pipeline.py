"""The whole training run behind `moderator train`: fine-tune -> calibrate -> off-topic -> config.json.

Each step writes its own files into the model directory (toxicity.*, ngrams.safetensors, offtopic.*); the
last one gathers what the scorer needs into config.json through ``artifacts.ModelConfig``.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from moderator.config import DEFAULT_PAGES_DIR
from moderator.scoring.artifacts import (
    OFFTOPIC_PAGES_REPORT,
    OFFTOPIC_REPORT,
    OFFTOPIC_TEASER_REPORT,
    OFFTOPIC_WEIGHTS,
    QUERY_PREFIX,
    TOXICITY_REPORT,
    Fusion,
    ModelConfig,
    OffTopicConfig,
    ToxicityConfig,
)
from moderator.scoring.linear import logit, sigmoid
from moderator.training import log
from moderator.training.calibrate import calibrate_toxicity
from moderator.training.finetune import train_toxicity
from moderator.training.offtopic import train_offtopic
from moderator.training.offtopic_pages import train_offtopic_pages, train_offtopic_teaser

OFFTOPIC_CONFIG_KEYS = ("features", "mean", "std", "weights", "bias", "platt", "threshold", "generic", "reference")


def train_main(
    out_dir: Path,
    data_dir: Path,
    base_dir: Path | None = None,
    *,
    pages_dir: Path | None = None,
    skip_finetune: bool = False,
    **kwargs: Any,
) -> dict[str, Any]:
    """Train every part into ``out_dir`` and write its config.json; returns the config as written.

    ``kwargs`` go to ``train_toxicity`` (``n_frozen`` also to the off-topic features). ``pages_dir`` holds the
    labelled forum pages of the body off-topic model (None: ../shared/samples/pages).
    """
    out_dir, data_dir = Path(out_dir), Path(data_dir)
    t0 = time.time()
    if not skip_finetune:
        train_toxicity(out_dir, data_dir, base_dir, **kwargs)
    calibrate_toxicity(out_dir, data_dir, base_dir)
    max_length = json.loads((out_dir / TOXICITY_REPORT).read_text())["max_len"]  # comments cut as scoring cuts them
    train_offtopic(out_dir, data_dir, base_dir, n_frozen=kwargs.get("n_frozen", 6), max_length=max_length)
    write_config(out_dir)
    train_body_offtopic(out_dir, data_dir, pages_dir or DEFAULT_PAGES_DIR, base_dir)
    config = train_teaser_offtopic(out_dir, pages_dir or DEFAULT_PAGES_DIR, base_dir)
    log(f"done in {time.time() - t0:.0f}s -> {out_dir}")
    return config.to_json()


# The review edge the title head's scores were read at before the body model (sent 76 % of One Million Posts
# off-topic posts to a human in CV). The title head's calibration is shifted so that the body model's default
# edge falls where this one did: one default policy then means the same under an article body and a headline.
TITLE_OPERATING_EDGE = 0.2


def train_body_offtopic(out_dir: Path, data_dir: Path, pages_dir: Path, base_dir: Path | None = None) -> ModelConfig:
    """The off-topic model for articles with a body, fitted over the model already in ``out_dir`` (its
    toxicity is one of the features); adds its background to offtopic.safetensors and its section to config.json,
    and aligns the title head's calibration with the body model's review edge (from offtopic.json, so a rerun
    gives the same config).
    """
    from safetensors.numpy import load_file, save_file

    from moderator.scoring.body_offtopic import BACKGROUND_ARTICLES, BACKGROUND_TOPICS
    from moderator.scoring.transformer import TransformerScorer

    scorer = TransformerScorer.load(out_dir, base_dir)
    body, background, report = train_offtopic_pages(scorer, data_dir, pages_dir)
    tensors = {k: v for k, v in load_file(str(out_dir / OFFTOPIC_WEIGHTS)).items() if k == "projection"}
    tensors[BACKGROUND_ARTICLES] = background.articles.astype(np.float16)
    tensors[BACKGROUND_TOPICS] = background.topics.astype(np.float16)
    save_file(tensors, str(out_dir / OFFTOPIC_WEIGHTS))
    config = ModelConfig.read(out_dir)
    title = json.loads((out_dir / OFFTOPIC_REPORT).read_text())
    shift = logit(body.threshold) - logit(TITLE_OPERATING_EDGE)
    a, b = title["platt"]
    threshold = float(sigmoid(logit(title["threshold"]) + shift))
    aligned = replace(config.off_topic, platt=[a, b + shift], threshold=threshold)
    config = replace(config, off_topic=aligned, off_topic_body=body)
    config.write(out_dir)
    report["title_head_alignment"] = {
        "from_edge": TITLE_OPERATING_EDGE,
        "to_edge": body.threshold,
        "logit_shift": shift,
    }
    (out_dir / OFFTOPIC_PAGES_REPORT).write_text(json.dumps(report, indent=2, default=float) + "\n")
    return config


def train_teaser_offtopic(out_dir: Path, pages_dir: Path, base_dir: Path | None = None) -> ModelConfig:
    """The off-topic model under a headline with a teaser, fitted over the model in ``out_dir`` (its body
    model's background and review edges); adds its section to config.json and writes its report."""
    from moderator.scoring.transformer import TransformerScorer

    scorer = TransformerScorer.load(out_dir, base_dir)
    config = ModelConfig.read(out_dir)
    if config.off_topic_body is None:
        raise ValueError(f"{out_dir}: the teaser model is fitted over a model with a body off-topic model")
    teaser, report = train_offtopic_teaser(scorer, pages_dir, config.off_topic_body)
    config = replace(config, off_topic_teaser=teaser)
    config.write(out_dir)
    (out_dir / OFFTOPIC_TEASER_REPORT).write_text(json.dumps(report, indent=2, default=float) + "\n")
    return config


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
