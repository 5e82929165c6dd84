"""Binary classification metrics in numpy (no scikit-learn dependency): ROC-AUC, AP, P/R/F1, macro-F1."""

from __future__ import annotations

import numpy as np


def roc_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    """Area under the ROC curve via the rank statistic (ties get average ranks); None if one class only."""
    y, s = np.asarray(y, bool), np.asarray(s, float)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), float)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def average_precision(y: np.ndarray, s: np.ndarray) -> float | None:
    """Mean of precision at each positive, ranking by score (ties broken by input order, stable)."""
    y, s = np.asarray(y, bool), np.asarray(s, float)
    if y.sum() == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    hits = y[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision_at[hits].mean())


def prf(y: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    y, pred = np.asarray(y, bool), np.asarray(pred, bool)
    tp = float((y & pred).sum())
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / y.sum() if y.sum() else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    y, pred = np.asarray(y, bool), np.asarray(pred, bool)
    return (prf(y, pred)[2] + prf(~y, ~pred)[2]) / 2.0


def binary_report(y: np.ndarray, s: np.ndarray, threshold: float | np.ndarray) -> dict[str, float | int | None]:
    """All metrics for one label; ``pred = score >= threshold``, where ``threshold`` may be one per record
    (records judged by different heads); ``threshold`` in the report is then None, for the caller to name."""
    y, s = np.asarray(y, bool), np.asarray(s, float)
    pred = s >= threshold
    p, r, f = prf(y, pred)
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": roc_auc(y, s),
        "average_precision": average_precision(y, s),
        "precision": p,
        "recall": r,
        "f1": f,
        "macro_f1": macro_f1(y, pred),
        "threshold": float(threshold) if np.ndim(threshold) == 0 else None,
    }


def best_threshold(groups: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The threshold maximising the mean macro-F1 over the given (labels, scores) groups."""
    cands = np.unique(np.round(np.concatenate([s for _, s in groups]), 4))
    best, best_t = -1.0, 0.5
    for t in cands:
        val = float(np.mean([macro_f1(y, s >= t) for y, s in groups]))
        if val > best:
            best, best_t = val, float(t)
    return best_t
