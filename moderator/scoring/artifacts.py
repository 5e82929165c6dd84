"""What a model directory holds: the file names, and ONE definition of its config.json.

Training writes config.json and the scorer reads it; both go through ``ModelConfig``, so a field is added,
renamed or defaulted in one place. ``heads_digest`` names the trained files in every score's model version.
Reading and writing round-trip exactly (read -> write gives the same bytes), so rewriting a shipped config
never changes its digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"
TOXICITY_WEIGHTS = "toxicity.safetensors"  # the fine-tuned top layers and label heads
TOXICITY_REPORT = "toxicity.json"  # the fine-tune's settings and held-out metrics
NGRAM_WEIGHTS = "ngrams.safetensors"
OFFTOPIC_WEIGHTS = "offtopic.safetensors"  # the principal-component projection
OFFTOPIC_REPORT = "offtopic.json"
OFFTOPIC_PAGES_REPORT = "offtopic_pages.json"  # the body model's page-grouped CV and its edges
OFFTOPIC_TEASER_REPORT = "offtopic_teaser.json"  # the teaser model's page-grouped CV and its alignment
HEAD_FILES = (CONFIG_FILE, TOXICITY_WEIGHTS, NGRAM_WEIGHTS, OFFTOPIC_WEIGHTS)  # what the model version hashes

# The toxicity heads, headline label first; the others are reported conditional on it.
LABELS = ("toxic", "insult", "profanity", "abuse", "threat")
QUERY_PREFIX = "query: "  # e5's prefix; comments and articles both get it (symmetric similarity)


@dataclass(frozen=True)
class Fusion:
    """The toxicity logit: ``transformer * transformer_logit + ngram * ngram_logit + bias``."""

    transformer: float
    ngram: float
    bias: float


E5_COLUMN = "e5_"  # a house head feature named e5_<k> reads dimension k of the comment's pooled e5 vector


def reads_e5_columns(features: Sequence[str]) -> bool:
    """Whether a house head over ``features`` reads the comment's e5 vector (so its first pass must compute it)."""
    return any(name.startswith(E5_COLUMN) for name in features)


@dataclass(frozen=True)
class HouseHead:
    """A newsroom's own toxicity head, fitted on its moderators' decisions (`train --from-decisions`).

    A standardised linear head over ``features``: the toxicity heads' logits (``toxic``, ``insult``, ...), the
    n-gram model's (``ngram``) and, where there were enough decisions, the comment's pooled e5 embedding
    (``e5_0`` ...). Its probability, "this house would reject it", is the score's ``house`` label; toxicity stays
    the general one (the house's line is not GermEval's, and a policy can band on either).
    """

    features: list[str]
    mean: list[float]
    std: list[float]
    weights: list[float]
    bias: float
    threshold: float  # best macro-F1 on out-of-fold probabilities of the decisions it was fitted on
    decisions: int  # how many decisions it was fitted on

    @property
    def reads_e5(self) -> bool:
        return reads_e5_columns(self.features)


@dataclass(frozen=True)
class ToxicityConfig:
    fusion: Fusion
    threshold: float  # on the fused probability, chosen on dev


@dataclass(frozen=True)
class OffTopicConfig:
    """The off-topic head (a standardised linear head over ``features``), its Platt scaling and threshold."""

    features: list[str]
    mean: list[float]
    std: list[float]
    weights: list[float]
    bias: float
    platt: list[float]  # (a, b)
    threshold: float
    generic: list[float]  # the mean article embedding: how generic a comment is
    reference: str = "blend"  # what a comment is compared with: "headline", "article" or "blend" (both)


@dataclass(frozen=True)
class BodyOffTopicConfig:
    """The off-topic head for articles with a body (body_offtopic.py), fitted on labelled forum pages; the
    teaser model has the same form, fitted on those pages cut to headline and teaser.

    ``platt`` calibrates the whole comment's logit, ``passage_platt`` the worst passage's relative similarity;
    ``threshold`` and ``passage_threshold`` are the review edges the page-grouped CV chose (the default policy's).
    """

    features: list[str]
    mean: list[float]
    std: list[float]
    weights: list[float]
    bias: float
    platt: list[float]  # (a, b)
    passage_platt: list[float]  # (a, b) over the worst passage's relative similarity
    threshold: float
    passage_threshold: float
    comment_max_length: int = 256  # tokens of a comment read for off-topic (toxicity reads max_length)


@dataclass(frozen=True)
class ModelConfig:
    """A model directory's config.json, field by field, in the order it is written."""

    name: str
    model_version: str
    base_model_id: str
    base_conversion_sha256: str
    n_frozen: int  # bottom encoder layers shared by both branches
    max_length: int  # tokens of a comment, prefix and specials included
    labels: list[str]
    toxicity: ToxicityConfig
    off_topic: OffTopicConfig
    article_max_length: int = 512
    query_prefix: str = QUERY_PREFIX
    article_prefix: str = QUERY_PREFIX
    bf16: bool = True
    base_model: str | None = None  # a checkpoint directory to score on instead of the converted base
    off_topic_body: BodyOffTopicConfig | None = None  # under articles with a body; None: the title head alone
    off_topic_teaser: BodyOffTopicConfig | None = None  # under a headline with a teaser; None: the title head
    house: HouseHead | None = None  # a newsroom's own line (`train --from-decisions`); None: the shared data alone

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelConfig:
        """The config of a parsed config.json; an unknown field is an error, a missing optional one a default."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(unknown)}")
        tox = data["toxicity"]
        values = dict(
            data,
            toxicity=ToxicityConfig(Fusion(**tox["fusion"]), tox["threshold"]),
            house=HouseHead(**data["house"]) if data.get("house") else None,
            off_topic=OffTopicConfig(**data["off_topic"]),
            off_topic_body=BodyOffTopicConfig(**data["off_topic_body"]) if data.get("off_topic_body") else None,
            off_topic_teaser=BodyOffTopicConfig(**data["off_topic_teaser"]) if data.get("off_topic_teaser") else None,
        )
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The JSON object, keys in the order of ``_ORDER`` (the order every shipped config.json has)."""
        data = asdict(self)
        for optional in ("base_model", "off_topic_body", "off_topic_teaser", "house"):
            if data[optional] is None:  # absent, not null: shipped configs round-trip byte for byte
                del data[optional]
        return {key: data[key] for key in _ORDER if key in data}

    @classmethod
    def read(cls, model_dir: Path) -> ModelConfig:
        path = Path(model_dir) / CONFIG_FILE
        try:
            return cls.from_json(json.loads(path.read_text()))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a model config ({exc})") from exc

    def write(self, model_dir: Path) -> None:
        (Path(model_dir) / CONFIG_FILE).write_text(json.dumps(self.to_json(), indent=2) + "\n")


_ORDER = (
    "name",
    "model_version",
    "base_model_id",
    "base_conversion_sha256",
    "n_frozen",
    "max_length",
    "article_max_length",
    "query_prefix",
    "article_prefix",
    "labels",
    "toxicity",
    "off_topic",
    "off_topic_body",
    "off_topic_teaser",
    "house",
    "bf16",
    "base_model",
)


def heads_digest(model_dir: Path) -> str:
    """Short hash of the trained files, so a retrained head can never pass for the old one in the audit log."""
    digest = hashlib.sha256()
    for name in HEAD_FILES:
        digest.update((Path(model_dir) / name).read_bytes())
    return digest.hexdigest()[:8]
