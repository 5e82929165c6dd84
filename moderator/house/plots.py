"""The house's figures as pictures: precision-recall, reliability and score histograms by decision (PNG and SVG).

matplotlib is an optional extra (`pip install moderator[plots]`): imported here only, when plots are asked for,
so nothing else depends on it. Reliability: is a score of 0.8 rejected by the house 80 % of the time?
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from moderator.house.figures import RELIABILITY_BINS, HouseReport, label_values, precision_recall, reliability

MISSING = "plots need matplotlib, an optional extra: pip install 'moderator[plots]' (or pip install matplotlib)"


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed; the message says how to install it."""


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotsUnavailable(MISSING) from exc
    plt.rcParams["svg.hashsalt"] = "moderator"  # stable SVG ids: regenerated plots diff only where figures moved
    plt.rcParams["svg.fonttype"] = "none"
    return plt


def write_plots(report: HouseReport, out_dir: Path) -> list[Path]:
    """Draw the three figures into ``out_dir`` as PNG and SVG; returns the files written."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    decisions = report.found.decisions
    labels = [fig.label for fig in report.labels if fig.roc_auc is not None]
    written: list[Path] = []

    def save(fig: Any, stem: str) -> None:
        fig.tight_layout()
        for ext in ("png", "svg"):
            path = out_dir / f"{stem}.{ext}"
            fig.savefig(path, dpi=110, metadata={"Date": None} if ext == "svg" else None)
            written.append(path)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for label in labels:
        s, rejected = label_values(decisions, label)
        p, r = precision_recall(s, rejected)
        ax.plot(r, p, label=label, drawstyle="steps-post")
    ax.axhline(report.targets.reject_precision, color="grey", ls=":", lw=1, label="reject target")
    ax.set(xlabel="recall (share of human rejections caught)", ylabel="precision", ylim=(0, 1.02), xlim=(0, 1))
    ax.set_title(f"Precision-recall against {len(decisions)} human decisions")
    ax.legend(fontsize=8)
    save(fig, "precision_recall")

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    edges = np.linspace(0, 1, RELIABILITY_BINS + 1)
    for label in labels:
        xs, ys = reliability(*label_values(decisions, label))
        ax.plot(xs, ys, marker="o", label=label)
    ax.set(xlabel="score (mean within a tenth)", ylabel="share rejected by the house", xlim=(0, 1), ylim=(0, 1))
    ax.set_title("Reliability: score against the house's rejections")
    ax.legend(fontsize=8)
    save(fig, "reliability")

    cols = 2
    rows = (len(report.labels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(9, 2.4 * rows), squeeze=False)
    for ax, figures in zip(axes.flat, report.labels, strict=False):
        s, rejected = label_values(decisions, figures.label)
        ax.hist([s[~rejected], s[rejected]], bins=edges, label=["approved", "rejected"], color=["#4c9a6a", "#c2453c"])
        for edge in (figures.current.approve_below, figures.current.reject_at):
            if edge <= 1:
                ax.axvline(edge, color="black", ls=":", lw=1)
        ax.set_title(figures.label, fontsize=9)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(report.labels) :]:
        ax.axis("off")
    save(fig, "histograms")
    return written
