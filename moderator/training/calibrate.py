"""Calibrate toxicity after the fine-tune: fit the n-gram model, then the fusion of both logits and the threshold.

The n-gram model is fitted on the fine-tune's own training split; the fusion (a two-input logistic regression)
and the operating threshold on dev; the test split is read once, for the report, beside the transformer alone
(Platt on dev) for comparison. The transformer's logits come from the scorer's own backbone (bf16 weights,
the same cut), so the fusion is fitted on what ``score`` computes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moderator import metrics
from moderator.scoring.artifacts import TOXICITY_REPORT
from moderator.scoring.backbone import Backbone, load_backbone
from moderator.scoring.linear import LinearHead, apply_platt, sigmoid
from moderator.scoring.ngrams import BUCKETS, NgramModel, hashed_counts, tfidf
from moderator.scoring.text import comment_text
from moderator.training import log
from moderator.training.data import Example
from moderator.training.finetune import FINETUNE_KEYS, training_split
from moderator.training.fit import SparseRows, fit_logistic, fit_platt

# L2 strength of the n-gram logistic regression (loss sum + ||w||^2 / 2C), chosen on dev: C 10 and 30 gave
# fused dev macro-F1 0.742 and 0.745 (3: 0.737, before the analyser matched words split on whitespace).
NGRAM_C = 30.0

# (split, dev/test source) -> (labels, transformer logits, n-gram logits)
Parts = dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]


def fit_ngram_model(
    texts: Sequence[str], labels: np.ndarray, sample_weights: np.ndarray | None = None, *, c: float
) -> NgramModel:
    """idf from ``texts``, then the L2-regularised logistic regression (``l2 = 1 / c``) on their TF-IDF rows."""
    counted = [hashed_counts(t) for t in texts]
    df = np.zeros(BUCKETS, np.float64)
    for ids, _ in counted:
        df[ids] += 1
    idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
    rows = SparseRows([(ids, tfidf(ids, tf, idf)) for ids, tf in counted], BUCKETS)
    head = fit_logistic(rows, labels, sample_weights, l2=1.0 / c)
    return NgramModel(idf, head.weights.astype(np.float32), head.bias)


def calibrate_toxicity(
    out_dir: Path, data_dir: Path, base_dir: Path | None = None, *, ngram_c: float = NGRAM_C
) -> dict[str, Any]:
    """Fit the n-gram model on the fine-tune's training split, then the fusion and threshold on dev.

    Rewrites toxicity.json (keeping the fine-tune's record) and writes ngrams.safetensors.
    """
    t0 = time.time()
    record = json.loads((out_dir / TOXICITY_REPORT).read_text())
    finetune = {k: record[k] for k in FINETUNE_KEYS if k in record}
    train, dev, test = training_split(
        data_dir, finetune["seed"], finetune["ge21_weight"], finetune["sources"], finetune.get("limit")
    )
    backbone = load_backbone(
        base_dir,
        n_frozen=finetune["n_frozen"],
        max_length=finetune["max_len"],
        toxicity_dir=out_dir,
        labels=tuple(finetune["labels"]),
    )
    labelled = [e for e in train if "toxic" in e.labels]
    log(f"n-gram model on {len(labelled)} texts")
    ngram = fit_ngram_model(
        [e.text for e in labelled],
        np.array([e.labels["toxic"] for e in labelled]),
        np.array([e.weight for e in labelled]),
        c=ngram_c,
    )
    ngram.save(out_dir)
    ngram = NgramModel.load(out_dir)  # measure what ships (fp16)
    parts = _split_logits(backbone, ngram, {"dev": dev, "test": test}, out_dir)
    report = _fusion_report(parts, list(dev))
    report["ngram"] = {
        "buckets": BUCKETS,
        "c": ngram_c,
        "train_size": len(labelled),
        "seconds": round(time.time() - t0),
    }
    fusion = report["fusion"]
    weights = np.round([fusion["transformer"], fusion["ngram"]], 3).tolist()
    log(f"fusion {weights} {fusion['bias']:.3f} threshold={report['threshold']:.3f}")
    log("test: " + json.dumps({k: {m: v[m] for m in ("macro_f1", "roc_auc")} for k, v in report["test"].items()}))
    (out_dir / TOXICITY_REPORT).write_text(json.dumps({**report, **finetune}, indent=2, default=float) + "\n")
    return report


def _split_logits(
    backbone: Backbone, ngram: NgramModel, splits: dict[str, dict[str, list[Example]]], out_dir: Path
) -> Parts:
    """Labels and both models' logits for every (split, source) of the held-out data."""

    def transformer_logits(exs: list[Example]) -> np.ndarray:
        """The toxicity logits ``score`` computes (bf16 weights), for the texts as it reads them."""
        logits = [enc.tox_logits for enc in backbone.encode_comments([("", e.text) for e in exs])]
        if any(lg is None for lg in logits):
            raise RuntimeError(f"{out_dir}: the backbone has no toxicity top")
        return np.array([float(lg[0]) for lg in logits if lg is not None])

    parts: Parts = {}
    for split, groups in splits.items():
        for k, exs in groups.items():
            y = np.array([e.labels["toxic"] for e in exs]) > 0.5
            parts[split, k] = (y, transformer_logits(exs), ngram.logits([comment_text("", e.text) for e in exs]))
    return parts


def _fusion_report(parts: Parts, dev_keys: list[str]) -> dict[str, Any]:
    """Fit the fusion and the transformer-alone Platt scaling on dev; report both on dev and test."""
    y_dev = np.concatenate([parts["dev", k][0] for k in dev_keys])
    both = {key: np.stack([t, n], 1) for key, (_, t, n) in parts.items()}
    fusion = fit_logistic(np.concatenate([both["dev", k] for k in dev_keys]), y_dev)
    platt = fit_platt(np.concatenate([parts["dev", k][1] for k in dev_keys]), y_dev)
    fused = {key: sigmoid(fusion.logit(x)) for key, x in both.items()}
    alone = {key: apply_platt(t, platt) for key, (_, t, _) in parts.items()}
    threshold = metrics.best_threshold([(parts["dev", k][0], fused["dev", k]) for k in dev_keys])
    alone_threshold = metrics.best_threshold([(parts["dev", k][0], alone["dev", k]) for k in dev_keys])

    def reports(split: str, probs: dict[tuple[str, str], np.ndarray], at: float) -> dict[str, Any]:
        return {k: metrics.binary_report(parts[s, k][0], probs[s, k], at) for s, k in parts if s == split}

    return {
        "fusion": _fusion_json(fusion),
        "threshold": threshold,
        "dev": reports("dev", fused, threshold),
        "test": reports("test", fused, threshold),
        "transformer_alone": {
            "platt": list(platt),
            "threshold": alone_threshold,
            "dev": reports("dev", alone, alone_threshold),
            "test": reports("test", alone, alone_threshold),
        },
        "ngram_alone": {
            s: {
                k: {"roc_auc": metrics.roc_auc(y, n), "average_precision": metrics.average_precision(y, n)}
                for (s2, k), (y, _, n) in parts.items()
                if s2 == s
            }
            for s in ("dev", "test")
        },
    }


def _fusion_json(head: LinearHead) -> dict[str, float]:
    """The fusion as config.json stores it (see artifacts.Fusion)."""
    return {"transformer": float(head.weights[0]), "ngram": float(head.weights[1]), "bias": head.bias}
