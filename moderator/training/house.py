"""Adapt a model to the house from its moderators' decisions: `moderator train --from-decisions`.

The decisions say where this newsroom draws its line, which is not GermEval's. The latest 30 % of the decisions
(by time, as the model will meet new comments) are held out; on the older 70 % a house head is fitted with THE
logistic fitter (training/fit.py): a new fusion of the toxicity heads' logits (toxic and the fine labels) and
the n-gram model's, calibrated to the house's rejections, and, with enough decisions of both kinds, over the
comment's pooled e5 embedding too; its L2 strength is chosen by cross-validation on the 70 %, its threshold on
out-of-fold probabilities. Its probability is a new score label, ``house``, which policies can band on; the
general toxicity (and so GermEval) is left as it is, since the house's line is not GermEval's and a head that
moved toxicity to the house's line cost up to 0.1 GermEval macro-F1 in the simulated house (scripts/bench_house.py).
The new model directory is the active one's files with config.json's ``house`` section, name and version
changed, and its own MODEL_CARD.md; before (toxicity) / after (house) on the held-out 30 %.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from moderator import metrics
from moderator.house.decisions import HouseError, HumanDecision, human_decisions, require_both_classes
from moderator.records import Article, Comment
from moderator.scoring.artifacts import CONFIG_FILE, E5_COLUMN, HouseHead, ModelConfig
from moderator.scoring.linear import LinearHead, sigmoid
from moderator.scoring.transformer import TransformerScorer, house_features
from moderator.store import Queue
from moderator.training import log
from moderator.training.fit import fit_logistic

HELD_OUT = 0.3  # the latest share of decisions, by time
MIN_PER_CLASS_FOR_EMBEDDING = 30  # fewer approvals or rejections than this: the fusion alone is refitted
L2_GRID = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)  # for the embedding head, chosen by CV on the 70 %
FUSION_L2_GRID = (1.0, 10.0, 100.0)  # for the fusion of the logits alone
FOLDS = 5
HOUSE_REPORT = "house.json"


@dataclass
class Candidate:
    name: str
    features: list[str]
    l2: float
    standardise: bool
    cv_auc: float
    oof: np.ndarray


def _pairs(queue: Queue, decisions: list[HumanDecision]) -> list[tuple[Comment, Article]]:
    out = []
    for d in decisions:
        item = queue.require(d.comment_id)
        article = queue.article(item.comment.article_id) or Article(id=item.comment.article_id, headline="")
        out.append((item.comment, article))
    return out


def _folds(y: np.ndarray, k: int = FOLDS) -> np.ndarray:
    """Fold ids, each class dealt round-robin in order (deterministic, stratified)."""
    fold = np.zeros(len(y), int)
    for cls in (False, True):
        idx = np.flatnonzero(y == cls)
        fold[idx] = np.arange(len(idx)) % k
    return fold


def _cv(x: np.ndarray, y: np.ndarray, l2: float, standardise: bool) -> np.ndarray:
    """Out-of-fold probabilities."""
    fold, oof = _folds(y), np.zeros(len(y))
    for f in range(FOLDS):
        train = fold != f
        head = fit_logistic(x[train], y[train], l2=l2, standardise=standardise)
        oof[~train] = sigmoid(head.logit(x[~train]))
    return oof


def _candidates(
    x_logits: np.ndarray, logit_names: list[str], e5: np.ndarray, y: np.ndarray, use_embedding: bool
) -> list[Candidate]:
    """The fusion of the logits, and (with enough decisions) the embedding head, at each L2 of their grids."""
    out = []
    for l2 in FUSION_L2_GRID:
        oof = _cv(x_logits, y, l2, True)
        out.append(Candidate("fusion", logit_names, l2, True, metrics.roc_auc(y, oof) or 0.5, oof))
    if use_embedding:
        names = logit_names + [f"{E5_COLUMN}{k}" for k in range(e5.shape[1])]
        x = np.hstack([x_logits, e5])
        for l2 in L2_GRID:
            oof = _cv(x, y, l2, True)
            out.append(Candidate("fusion + e5 embedding", names, l2, True, metrics.roc_auc(y, oof) or 0.5, oof))
    return out


def _report(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    r = metrics.binary_report(y, p, threshold)
    return {k: r[k] for k in ("n", "positives", "roc_auc", "macro_f1", "precision", "recall", "threshold")}


@torch.inference_mode()
def train_from_decisions(
    queue: Queue, model_dir: Path, out_dir: Path, *, since: str | None = None, base_dir: Path | None = None
) -> dict[str, Any]:
    """Fit the house head on the older 70 % of the decisions, write ``out_dir``; returns the report."""
    t0 = time.time()
    found = human_decisions(queue, since)
    require_both_classes(found)
    decisions = found.decisions
    n_test = round(len(decisions) * HELD_OUT)
    train_part, test_part = decisions[: len(decisions) - n_test], decisions[len(decisions) - n_test :]
    for name, part in (("older 70 %", train_part), ("held-out latest 30 %", test_part)):
        kinds = {d.rejected for d in part}
        if len(kinds) < 2:
            raise HouseError(f"the {name} of the decisions ({len(part)}) holds only one class; more decisions needed")
    if out_dir.resolve() == model_dir.resolve() or out_dir.exists():
        raise HouseError(f"{out_dir}: already exists; choose a new model directory")

    scorer = TransformerScorer.load(model_dir, base_dir)
    scorer.words_until = -1.0  # no word attributions: only logits and embeddings are read
    pairs = _pairs(queue, decisions)
    log(f"encoding {len(pairs)} decided comments with {scorer.model_version}")
    encs, fused = scorer.encode(pairs)  # the encodings carry the n-gram logits too
    logit_names = [*scorer.labels, "ngram"]
    x_logits = house_features(logit_names, encs, scorer.labels)
    e5 = np.stack([e.whole for e in encs]).astype(np.float64)
    y = np.array([d.rejected for d in decisions])
    tr = np.arange(len(train_part))
    te = np.arange(len(train_part), len(decisions))
    y_tr = y[tr]
    use_embedding = min(int(y_tr.sum()), int((~y_tr).sum())) >= MIN_PER_CLASS_FOR_EMBEDDING
    cands = _candidates(x_logits[tr], logit_names, e5[tr], y_tr, use_embedding)
    best = max(cands, key=lambda c: c.cv_auc)
    log("CV ROC-AUC on the 70 %: " + ", ".join(f"{c.name} l2={c.l2:g}: {c.cv_auc:.3f}" for c in cands))
    threshold = metrics.best_threshold([(y_tr, best.oof)])
    x_all = house_features(best.features, encs, scorer.labels)
    head = fit_logistic(x_all[tr], y_tr, l2=best.l2, standardise=best.standardise)

    config = ModelConfig.read(model_dir)
    before = sigmoid(fused)  # the model's toxicity, as scored today
    after = sigmoid(head.logit(x_all))  # the new `house` label
    report = {
        "decisions": len(decisions),
        "approved": found.approved,
        "rejected": found.rejected,
        "since": since,
        "from_model": f"{model_dir.name} ({scorer.model_version})",
        "split": {
            "train": len(train_part),
            "held_out": len(test_part),
            "train_until": train_part[-1].decided_at,
            "held_out_from": test_part[0].decided_at,
            "articles_shared": len({d.article_id for d in train_part} & {d.article_id for d in test_part}),
            "held_out_articles": len({d.article_id for d in test_part}),
        },
        "head": {"kind": best.name, "l2": best.l2, "features": len(best.features), "threshold": threshold},
        "cv_roc_auc": {f"{c.name} l2={c.l2:g}": round(c.cv_auc, 4) for c in cands},
        "held_out": {
            "before": _report(y[te], before[te], config.toxicity.threshold),
            "after": _report(y[te], after[te], threshold),
        },
        "seconds": round(time.time() - t0),
    }
    _write_model(model_dir, out_dir, config, head, best.features, threshold, len(train_part), report)
    return report


def _write_model(
    model_dir: Path,
    out_dir: Path,
    config: ModelConfig,
    head: LinearHead,
    features: list[str],
    threshold: float,
    fitted_on: int,
    report: dict[str, Any],
) -> None:
    """The active model's files, with the house head, threshold, name and version in config.json, and a card."""
    out_dir.mkdir(parents=True)
    for path in model_dir.iterdir():
        if path.is_file() and path.name not in ("MODEL_CARD.md", HOUSE_REPORT):
            shutil.copy2(path, out_dir / path.name)
    house = HouseHead(
        features=features,
        mean=np.broadcast_to(head.mean, (len(features),)).astype(float).tolist(),
        std=np.broadcast_to(head.std, (len(features),)).astype(float).tolist(),
        weights=np.asarray(head.weights, float).tolist(),
        bias=float(head.bias),
        threshold=round(threshold, 4),
        decisions=fitted_on,
    )
    name = out_dir.name
    new = replace(config, name=name, model_version=f"{name}+e5s-{config.base_conversion_sha256[:8]}", house=house)
    new.write(out_dir)
    (out_dir / HOUSE_REPORT).write_text(json.dumps(report, indent=2, default=float) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(model_card(name, report))
    assert (out_dir / CONFIG_FILE).exists()


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _row(title: str, r: dict[str, Any]) -> str:
    pr = f"{_fmt(r['precision'])} / {_fmt(r['recall'])}"
    return f"| {title} | {_fmt(r['roc_auc'])} | {_fmt(r['macro_f1'])} | {pr} | {r['threshold']:.4f} |"


def model_card(name: str, report: dict[str, Any]) -> str:
    """What the adapted model learnt from, how many decisions, and before/after on the held-out decisions."""
    s, h, b, a = report["split"], report["head"], report["held_out"]["before"], report["held_out"]["after"]
    return f"""# {name}

Adapted to a house's own line by `moderator train --from-decisions` from **{report["from_model"]}**.

## What it learnt from

{report["decisions"]} standing human decisions ({report["approved"]} approved, {report["rejected"]} rejected;
latest per comment, undos honoured, automatic `auto:*` decisions left out, `client:*` counted as human)
{"since " + str(report["since"]) if report["since"] else "from the whole log"}. Split by time: the older
{s["train"]} (until {s["train_until"]}) to fit, the latest {s["held_out"]} (from {s["held_out_from"]}) held out;
{s["articles_shared"]} of the {s["held_out_articles"]} held-out articles also appear in the older part.

## What changed

A new score label, `house`: the probability that this house rejects the comment, from a house head
({h["kind"]}, {h["features"]} inputs, L2 {h["l2"]:g} chosen by {FOLDS}-fold CV on the older part; its
threshold {h["threshold"]:.4f} is the best macro-F1 on out-of-fold probabilities). Policies band on it like on any
label (`[policy.labels.house]`; `moderator calibrate --current-scores` recommends edges after a rescore).
Everything else is the original's: encoder, fine-tuned layers, n-gram model, fusion, toxicity threshold, fine
labels, off-topic models, so toxicity scores (and GermEval figures) are unchanged.
CV ROC-AUC on the older part: {report["cv_roc_auc"]}.

## Held-out (latest {s["held_out"]} decisions, {b["positives"]} rejected): toxicity before, `house` after

| | ROC-AUC | macro-F1 | precision / recall (reject) | threshold |
|---|---|---|---|---|
{_row("before (" + report["from_model"].split(" ")[0] + ")", b)}
{_row(f"after ({name})", a)}

A held-out slice of this size pins ROC-AUC to a few hundredths at best; read small differences as noise.
Check the general toxicity is kept (e.g. GermEval dev macro-F1) before `moderator model use {name}`.
"""
