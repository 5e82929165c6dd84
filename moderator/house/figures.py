"""Per label: how the scores separate approved from rejected, the current bands' figures, and recommended bands.

A label's score predicts "a human rejected it". At the reject edge the figure that matters is precision (of
the comments at or above it, the share humans rejected); at the approve edge it is the keep rate (of the
comments below it, the share humans approved). Recommended edges meet the targets on the decisions at hand.

How many decisions a figure needs (the rule stated in every report): a share p measured on n comments has a 95 %
interval of about ±1.96·sqrt(p(1-p)/n), so pinning p to ±h needs n ≈ 1.96²·p(1-p)/h². With h = 1 - target
(precision 0.98 ± 0.02, keep 0.99 ± 0.01) that is 189 comments above a reject edge and 381 below an approve
edge. ROC-AUC's interval is Hanley & McNeil's (1982); wider than ±0.05 is too few. No edge is recommended
with fewer than MIN_SUPPORT (10) comments on its automatic side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moderator.house.decisions import HouseDecisions, HumanDecision, require_both_classes
from moderator.metrics import roc_auc
from moderator.policy import BAND_LABELS, NEVER, Band, Policy
from moderator.records import HOUSE_LABEL

Z95 = 1.96
AUC_HALF_WIDTH = 0.05  # an AUC known to worse than ±0.05 is flagged as too few decisions
SEPARATES = 0.6  # below this AUC a label does not draw the house's line: its band is kept, not re-fitted
HISTOGRAM_BINS = 10
# An edge is recommended only with at least this many comments on its automatic side: below it one comment moves
# the rate by a tenth or more, and a 1-of-1 "precision 1.0" would pass any target.
MIN_SUPPORT = 10
# Labels that get an approve edge even when the current policy does not band them: the house's own score.
APPROVE_ALWAYS = (HOUSE_LABEL,)


def needed(p: float, half_width: float) -> int:
    """Comments needed to pin a share ``p`` to ±``half_width`` at 95 % (normal approximation)."""
    p = min(max(p, 0.5 / 1000), 1 - 0.5 / 1000)
    return math.ceil(Z95**2 * p * (1 - p) / half_width**2)


def auc_half_width(auc: float, positives: int, negatives: int) -> float:
    """95 % half-width of an ROC-AUC (Hanley & McNeil 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (
        positives * negatives
    )
    return Z95 * math.sqrt(max(var, 0.0))


@dataclass(frozen=True)
class Targets:
    """What the house asks of automatic decisions."""

    reject_precision: float = 0.98  # of auto-rejected comments, at least this share rejected by humans
    approve_keep: float = 0.99  # of auto-approved comments, at least this share approved by humans


@dataclass(frozen=True)
class EdgeFigures:
    """One band edge on one label: how many comments fall on its automatic side, and how right that would be.

    ``precision`` is the share of those comments the humans decided the same way (rejected above a reject edge,
    approved below an approve edge); ``recall`` the share of all such human decisions the edge catches.
    """

    edge: float
    n: int
    precision: float | None
    recall: float | None
    needed: int

    @property
    def too_few(self) -> bool:
        return self.n < self.needed

    def as_json(self) -> dict[str, Any]:
        return {
            "edge": self.edge,
            "n": self.n,
            "precision": self.precision,
            "recall": self.recall,
            "needed": self.needed,
            "too_few": self.too_few,
        }


def reject_figures(s: np.ndarray, rejected: np.ndarray, edge: float, target: float) -> EdgeFigures:
    above = s >= edge
    n, hits = int(above.sum()), int((above & rejected).sum())
    return EdgeFigures(
        edge, n, hits / n if n else None, hits / rejected.sum() if rejected.any() else None, needed(target, 1 - target)
    )


def approve_figures(s: np.ndarray, rejected: np.ndarray, edge: float, target: float) -> EdgeFigures:
    below, approved = s < edge, ~rejected
    n, hits = int(below.sum()), int((below & approved).sum())
    return EdgeFigures(
        edge, n, hits / n if n else None, hits / approved.sum() if approved.any() else None, needed(target, 1 - target)
    )


def recommend_reject(s: np.ndarray, rejected: np.ndarray, target: float) -> float:
    """The lowest edge at or above which humans rejected ``target`` or more of at least MIN_SUPPORT comments."""
    for edge in np.unique(s):  # ascending: the first that meets the target catches the most
        above = s >= edge
        if above.sum() >= MIN_SUPPORT and rejected[above].mean() >= target:
            return round(float(edge), 4)
    return NEVER


def recommend_approve(s: np.ndarray, rejected: np.ndarray, target: float) -> float:
    """The highest edge below which humans approved ``target`` or more of at least MIN_SUPPORT comments (0: none)."""
    if (~rejected).mean() >= target:
        return NEVER
    for edge in np.unique(s)[::-1]:  # descending: the first that meets the target approves the most
        below = s < edge
        if below.sum() >= MIN_SUPPORT and (~rejected[below]).mean() >= target:
            return round(float(edge), 4)
    return 0.0


@dataclass
class LabelFigures:
    """One label's separation of the house's decisions, at the current bands and at the recommended ones."""

    label: str
    n: int
    approved: int
    rejected: int
    roc_auc: float | None
    auc_half_width: float | None
    current: Band
    current_approve: EdgeFigures
    current_reject: EdgeFigures
    recommended: Band
    recommended_approve: EdgeFigures
    recommended_reject: EdgeFigures
    refitted: bool  # False: the label does not separate the decisions, its current band is kept
    histogram: dict[str, list[int]] = field(default_factory=dict)  # "approved"/"rejected": counts per tenth

    @property
    def warnings(self) -> list[str]:
        """Plain words for every figure too thin to trust, with how many decisions it would need."""
        out = []
        if self.auc_half_width is not None and self.auc_half_width > AUC_HALF_WIDTH:
            out.append(f"ROC-AUC ±{self.auc_half_width:.2f}: too few decisions to pin it to ±{AUC_HALF_WIDTH}")
        for side, fig in (("reject", self.recommended_reject), ("approve", self.recommended_approve)):
            if fig.edge < NEVER and fig.edge > 0 and fig.too_few:
                out.append(f"{side} edge {fig.edge:g}: {fig.n} comments on its side, about {fig.needed} needed")
        if not self.refitted:
            out.append(f"does not separate the decisions (ROC-AUC below {SEPARATES}): band kept as it is")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": self.n,
            "approved": self.approved,
            "rejected": self.rejected,
            "roc_auc": self.roc_auc,
            "roc_auc_half_width": self.auc_half_width,
            "current": {
                "approve_below": self.current.approve_below,
                "reject_at": self.current.reject_at,
                "approve": self.current_approve.as_json(),
                "reject": self.current_reject.as_json(),
            },
            "recommended": {
                "approve_below": self.recommended.approve_below,
                "reject_at": self.recommended.reject_at,
                "approve": self.recommended_approve.as_json(),
                "reject": self.recommended_reject.as_json(),
            },
            "refitted": self.refitted,
            "histogram": self.histogram,
            "warnings": self.warnings,
        }


def label_values(decisions: list[HumanDecision], label: str) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rejected) of the decisions whose scores carry ``label``."""
    policy = Policy()
    pairs = [(v, d.rejected) for d in decisions if (v := policy.label_value(d.scores, label)) is not None]
    return np.array([v for v, _ in pairs], float), np.array([r for _, r in pairs], bool)


RELIABILITY_BINS = 10


def precision_recall(s: np.ndarray, rejected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(precision, recall) of "reject at or above t" for every distinct score t, highest t first."""
    order = np.argsort(-s, kind="mergesort")
    hits = np.cumsum(rejected[order])
    shown = np.arange(1, len(s) + 1)
    last = np.r_[np.diff(s[order]) != 0, True]  # the last row of each run of equal scores
    return (hits / shown)[last], (hits / max(int(rejected.sum()), 1))[last]


def reliability(s: np.ndarray, rejected: np.ndarray, bins: int = RELIABILITY_BINS) -> tuple[list[float], list[float]]:
    """(mean score, share rejected by the house) per tenth of the score that holds comments.

    Is a score of 0.8 rejected by the house 80 % of the time? The plots and the desk draw the same points.
    """
    edges = np.linspace(0, 1, bins + 1)
    k = np.clip(np.digitize(s, edges) - 1, 0, bins - 1)
    used = [b for b in range(bins) if (k == b).any()]
    return [float(s[k == b].mean()) for b in used], [float(rejected[k == b].mean()) for b in used]


def label_figures(
    decisions: list[HumanDecision], label: str, current: Band | None, targets: Targets
) -> LabelFigures | None:
    """The figures of one label (None when no decision's scores carry it).

    A label the policy does not band (``current`` None) is recommended a reject edge only, except the house's own
    score: an approve edge on a new label could only take comments away from auto-approval.
    """
    s, rejected = label_values(decisions, label)
    if not len(s):
        return None
    pos, neg = int(rejected.sum()), int((~rejected).sum())
    auc = roc_auc(rejected, s)
    refit = auc is not None and auc >= SEPARATES
    banded = current is not None or label in APPROVE_ALWAYS
    current = current or Band()
    if refit:
        reject_at = recommend_reject(s, rejected, targets.reject_precision)
        approve = recommend_approve(s, rejected, targets.approve_keep) if banded else reject_at
        recommended = Band(min(approve, reject_at), reject_at)
    else:
        recommended = current
    bins = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    return LabelFigures(
        label=label,
        n=len(s),
        approved=neg,
        rejected=pos,
        roc_auc=auc,
        auc_half_width=auc_half_width(auc, pos, neg) if auc is not None else None,
        current=current,
        current_approve=approve_figures(s, rejected, current.approve_below, targets.approve_keep),
        current_reject=reject_figures(s, rejected, current.reject_at, targets.reject_precision),
        recommended=recommended,
        recommended_approve=approve_figures(s, rejected, recommended.approve_below, targets.approve_keep),
        recommended_reject=reject_figures(s, rejected, recommended.reject_at, targets.reject_precision),
        refitted=refit,
        histogram={
            "approved": np.histogram(np.clip(s[~rejected], 0, 1), bins)[0].tolist(),
            "rejected": np.histogram(np.clip(s[rejected], 0, 1), bins)[0].tolist(),
        },
    )


@dataclass
class HouseReport:
    """Every label's figures over the house's decisions, and the policy they recommend."""

    found: HouseDecisions
    targets: Targets
    labels: list[LabelFigures]
    current: Policy

    def recommended_policy(self, name: str = "house") -> Policy:
        """The current policy with each separating label's band replaced by the recommended one.

        Labels without a band today get one only when the recommendation does something (an edge below 1).
        """
        bands = dict(self.current.bands)
        for fig in self.labels:
            band = fig.recommended
            if fig.refitted and (fig.label in bands or band.approve_below < NEVER or band.reject_at < NEVER):
                bands[fig.label] = band
        return Policy(name, bands, self.current.queue_replies_to_flagged, self.current.queue_authors)

    def as_json(self) -> dict[str, Any]:
        return {
            "decisions": len(self.found.decisions),
            "approved": self.found.approved,
            "rejected": self.found.rejected,
            "unscored": self.found.unscored,
            "model_versions": dict(self.found.model_versions),
            "targets": {"reject_precision": self.targets.reject_precision, "approve_keep": self.targets.approve_keep},
            "rule": RULE,
            "labels": {fig.label: fig.as_json() for fig in self.labels},
        }


RULE = (
    "a share p pinned to ±h at 95 % needs n ≈ 1.96²·p(1-p)/h² comments on the edge's automatic side, "
    "h = 1 - target (precision 0.98 ± 0.02: 189 above a reject edge; keep 0.99 ± 0.01: 381 below an approve edge); "
    f"ROC-AUC by Hanley & McNeil, too few when wider than ±{AUC_HALF_WIDTH}"
)


def house_report(found: HouseDecisions, current: Policy, targets: Targets | None = None) -> HouseReport:
    """Measure every label over the house's decisions; refuses a log without both classes (HouseError)."""
    require_both_classes(found)
    targets = targets or Targets()
    labels = []
    for label in BAND_LABELS:
        fig = label_figures(found.decisions, label, current.bands.get(label), targets)
        if fig is not None:
            labels.append(fig)
    return HouseReport(found, targets, labels, current)
