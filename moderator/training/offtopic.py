"""Train the off-topic head: grouped (by article) cross-validation, Platt scaling and threshold, final fit.

Training data: One Million Posts (omp_dev.jsonl, real off-topic labels, article titles only) plus synthetic
pairs (a comment paired with another article is off-topic) at a low weight: at weight 0.3 they lowered
grouped-CV AUC. Evaluation is grouped by article. The features are the scorer's own
(moderator/scoring/offtopic.py), computed through the scorer's backbone.
"""

from __future__ import annotations

import functools
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from moderator import metrics
from moderator.scoring.artifacts import OFFTOPIC_REPORT, OFFTOPIC_WEIGHTS
from moderator.scoring.backbone import Encoded, load_backbone
from moderator.scoring.linear import LinearHead, apply_platt
from moderator.scoring.offtopic import FEATURES, pair_features, unit
from moderator.training.fit import fit_logistic, fit_platt

# Principal components of the comment embedding appended to FEATURES (what kind of post it is), and the L2
# strength: chosen by grouped CV repeated over 8 fold assignments on the 80 % dev articles (0.747 for 10
# components at L2 30, against 0.730 for the earlier 50 components at L2 1000).
N_COMPONENTS = 10
L2 = 30.0
CV_REPEATS = 8


def _encode_omp(
    records: list[dict[str, Any]], base_dir: Path | None, n_frozen: int, max_length: int, article_max_length: int
) -> tuple[list[Encoded], dict[str, np.ndarray]]:
    """Encode OMP posts and titles with the scorer's own backbone: same code path, weights and cut as scoring."""
    backbone = load_backbone(base_dir, n_frozen=n_frozen, max_length=max_length, article_max_length=article_max_length)
    encs = backbone.encode_comments([(r.get("headline") or "", r["text"]) for r in records])
    titles = sorted({r["article_title"] for r in records})
    return encs, dict(zip(titles, backbone.encode_passages(titles), strict=True))


def _rows(
    idx: list[int],
    records: list[dict[str, Any]],
    encs: list[Encoded],
    titles: dict[str, np.ndarray],
    generic: np.ndarray,
    proj: np.ndarray,
    article_of: dict[int, str] | None = None,
) -> np.ndarray:
    """Feature rows (the scorer's features + principal components) of records ``idx`` against their article
    (or against ``article_of[i]``)."""
    out = []
    for i in idx:
        e = encs[i]
        ref = titles[article_of[i] if article_of else records[i]["article_title"]]
        row, _ = pair_features(e.whole, e.body, e.sentences, e.n_tokens, ref, generic)
        out.append(np.concatenate([row, proj @ e.whole]))
    return np.array(out)


def _fit(
    idx: list[int],
    records: list[dict[str, Any]],
    encs: list[Encoded],
    titles: dict[str, np.ndarray],
    l2: float,
    synth_weight: float,
    seed: int,
    n_components: int = N_COMPONENTS,
) -> tuple[LinearHead, np.ndarray, np.ndarray]:
    """Fit generic vector, PCA projection and head on the records ``idx`` (labelled + optional synthetic)."""
    generic = unit(np.mean([titles[records[i]["article_title"]] for i in idx], axis=0))
    whole = np.array([encs[i].whole for i in idx])
    proj = np.linalg.svd(whole - whole.mean(0), full_matrices=False)[2][:n_components]
    lab = [i for i in idx if records[i]["off_topic"] is not None]
    x = _rows(lab, records, encs, titles, generic, proj)
    y = np.array([float(records[i]["off_topic"]) for i in lab])
    w = np.ones(len(lab))
    if synth_weight > 0:  # a comment under another article is off-topic
        rng = random.Random(seed)
        names = sorted({records[i]["article_title"] for i in idx})
        neg = [i for i in idx if records[i]["off_topic"] is not True]
        other = {i: rng.choice([t for t in names if t != records[i]["article_title"]]) for i in neg}
        x = np.vstack([x, _rows(neg, records, encs, titles, generic, proj, other)])
        y = np.concatenate([y, np.ones(len(neg))])
        w = np.concatenate([w, np.full(len(neg), synth_weight)])
    return fit_logistic(x, y, w, l2=l2, standardise=True), generic, proj


def _labels(idx: list[int], records: list[dict[str, Any]]) -> np.ndarray:
    """Whether each record of ``idx`` is off-topic."""
    return np.array([bool(records[i]["off_topic"]) for i in idx])


def _grouped_cv(
    articles: list[str],
    records: list[dict[str, Any]],
    encs: list[Encoded],
    titles: dict[str, np.ndarray],
    labelled: list[int],
    *,
    folds: int,
    repeats: int,
    seed: int,
    l2: float,
    synth_weight: float,
    n_components: int,
) -> tuple[list[int], list[float], list[float | None], list[float | None], list[float]]:
    """K-fold CV grouped by article, over ``repeats`` fold assignments of ``articles``.

    Returns out-of-fold (record index, logit) pairs of every repeat, the first assignment's per-fold ROC-AUC and
    title-cosine baseline AUC, and each repeat's mean ROC-AUC.
    """
    oof_idx: list[int] = []
    oof: list[float] = []
    fold_aucs: list[float | None] = []
    base_aucs: list[float | None] = []
    repeat_means: list[float] = []
    for rep in range(repeats):
        order = list(articles)
        if rep:  # the first assignment is the one reported per fold, as before
            random.Random(seed + 1000 * rep).shuffle(order)
        fold_of = {a: k % folds for k, a in enumerate(order)}
        rep_aucs = []
        for k in range(folds):
            tr = [i for i, r in enumerate(records) if fold_of.get(r["article_id"], -1) not in (-1, k)]
            te = [i for i in labelled if fold_of.get(records[i]["article_id"]) == k]
            head, generic, proj = _fit(tr, records, encs, titles, l2, synth_weight, seed + k, n_components)
            xt = _rows(te, records, encs, titles, generic, proj)
            logit = head.logit(xt)
            rep_aucs.append(metrics.roc_auc(_labels(te, records), logit))
            if rep == 0:
                fold_aucs.append(rep_aucs[-1])
                base_aucs.append(metrics.roc_auc(_labels(te, records), -xt[:, 0]))
            oof_idx += te
            oof += logit.tolist()
        repeat_means.append(float(np.mean([a for a in rep_aucs if a is not None])))
    return oof_idx, oof, fold_aucs, base_aucs, repeat_means


def train_offtopic(
    out_dir: Path,
    data_dir: Path,
    base_dir: Path | None = None,
    *,
    n_frozen: int = 6,
    max_length: int = 128,
    folds: int = 5,
    seed: int = 13,
    test_fraction: float = 0.2,
    l2: float = L2,
    synth_weight: float = 0.05,
    reference: str = "blend",
    article_max_length: int = 512,
    n_components: int = N_COMPONENTS,
    repeats: int = CV_REPEATS,
) -> dict[str, Any]:
    """Grouped (by article) CV on 80% of articles, one untouched test on the other 20%, then fit on all.

    The CV is repeated over ``repeats`` fold assignments: with ~18 positives a fold, one assignment's mean
    moves by ±0.01 from the next. Platt scaling and the threshold come from the pooled out-of-fold scores.
    """
    from safetensors.numpy import save_file

    t0 = time.time()
    with (Path(data_dir) / "omp_dev.jsonl").open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    encs, titles = _encode_omp(records, base_dir, n_frozen, max_length, article_max_length)
    articles = sorted({r["article_id"] for r in records})
    random.Random(seed).shuffle(articles)
    n_test = round(len(articles) * test_fraction)
    test_articles, dev_articles = set(articles[:n_test]), articles[n_test:]
    labelled = [i for i, r in enumerate(records) if r["off_topic"] is not None]
    cross_validate = functools.partial(  # the same CV settings over the 80 % and over every article
        _grouped_cv,
        records=records,
        encs=encs,
        titles=titles,
        labelled=labelled,
        folds=folds,
        repeats=repeats,
        seed=seed,
        l2=l2,
        synth_weight=synth_weight,
        n_components=n_components,
    )
    oof_idx, oof, fold_aucs, base_aucs, repeat_means = cross_validate(dev_articles)
    # The same CV over every article (all 386 labels): the steadiest estimate for new articles. The settings
    # were chosen on the 80 % alone; the other 20 % enter here for the first time, as extra folds' data.
    all_articles = cross_validate(sorted({r["article_id"] for r in records}))[4]
    y_oof = _labels(oof_idx, records)
    platt = fit_platt(np.array(oof), y_oof)
    cal = apply_platt(np.array(oof), platt)
    threshold = metrics.best_threshold([(y_oof, cal)])
    dev_idx = [i for i, r in enumerate(records) if r["article_id"] not in test_articles]
    te = [i for i in labelled if records[i]["article_id"] in test_articles]
    head, generic, proj = _fit(dev_idx, records, encs, titles, l2, synth_weight, seed, n_components)
    xt = _rows(te, records, encs, titles, generic, proj)
    test_prob = apply_platt(head.logit(xt), platt)
    test = metrics.binary_report(_labels(te, records), test_prob, threshold)
    test["title_cosine_baseline_roc_auc"] = metrics.roc_auc(_labels(te, records), -xt[:, 0])
    final, generic, proj = _fit(list(range(len(records))), records, encs, titles, l2, synth_weight, seed, n_components)
    report = {
        "features": [*FEATURES, *(f"pc{k}" for k in range(n_components))],
        "mean": final.mean.tolist(),
        "std": final.std.tolist(),
        "weights": final.weights.tolist(),
        "bias": final.bias,
        "platt": list(platt),
        "threshold": threshold,
        "generic": generic.tolist(),
        "reference": reference,
        "article_max_length": article_max_length,
        "max_length": max_length,
        "n_frozen": n_frozen,
        "l2": l2,
        "synth_weight": synth_weight,
        "n_components": n_components,
        "cv": {
            "folds": folds,
            "grouped_by": "article_id",
            "articles": len(dev_articles),
            "fold_roc_auc": fold_aucs,
            "mean_roc_auc": float(np.mean(repeat_means)),
            "first_assignment_mean_roc_auc": float(np.mean([a for a in fold_aucs if a is not None])),
            "repeats": repeats,
            "repeat_mean_roc_auc": repeat_means,
            "title_cosine_baseline_mean_roc_auc": float(np.mean([a for a in base_aucs if a is not None])),
            "pooled_oof": metrics.binary_report(y_oof, cal, threshold),
            # for policy bands: how much a lower "queue from" edge catches, and how much it queues
            "oof_recall_and_queued_share": {
                f"{t:.2f}": [float((cal[y_oof] >= t).mean()), float((cal >= t).mean())]
                for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
            },
        },
        "test": dict(test, articles=n_test),
        "cv_all_articles": {
            "folds": folds,
            "repeats": repeats,
            "articles": len(articles),
            "mean_roc_auc": float(np.mean(all_articles)),
            "repeat_mean_roc_auc": all_articles,
        },
        "labelled": len(labelled),
        "seconds": round(time.time() - t0),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({"projection": proj.astype(np.float32)}, str(out_dir / OFFTOPIC_WEIGHTS))
    (out_dir / OFFTOPIC_REPORT).write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {
                "cv": report["cv"]["mean_roc_auc"],
                "test": test["roc_auc"],
                "baseline_cv": report["cv"]["title_cosine_baseline_mean_roc_auc"],
            }
        )
    )
    return report
