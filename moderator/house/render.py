"""The house's figures as text (the CLI and the desk's statistics screen print the same lines) and as policy TOML."""

from __future__ import annotations

from moderator.house.figures import RULE, EdgeFigures, HouseReport, LabelFigures
from moderator.house.replay import Replay
from moderator.policy import NEVER, Policy

BAR_WIDTH = 24


def _edge(value: float) -> str:
    return "never" if value >= NEVER else f"{value:g}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _side(name: str, fig: EdgeFigures) -> str:
    if fig.edge >= NEVER or (name == "approve" and fig.edge <= 0):
        return f"{name} {_edge(fig.edge) if fig.edge > 0 else 'none'}"
    flag = f" (too few: {fig.n} of ~{fig.needed})" if fig.too_few else ""
    return f"{name} {_edge(fig.edge)}: n {fig.n}, precision {_share(fig.precision)}, recall {_share(fig.recall)}{flag}"


def label_lines(fig: LabelFigures) -> list[str]:
    """One label: counts, ROC-AUC, current and recommended edges with their figures, warnings."""
    auc = "-" if fig.roc_auc is None else f"{fig.roc_auc:.3f} ±{fig.auc_half_width or 0:.3f}"
    lines = [f"{fig.label}: {fig.n} decisions ({fig.approved} approved, {fig.rejected} rejected), ROC-AUC {auc}"]
    lines.append(f"  now          {_side('reject', fig.current_reject)}")
    lines.append(f"               {_side('approve', fig.current_approve)}")
    lines.append(f"  recommended  {_side('reject', fig.recommended_reject)}")
    lines.append(f"               {_side('approve', fig.recommended_approve)}")
    lines += [f"  ! {w}" for w in fig.warnings]
    return lines


def histogram_lines(fig: LabelFigures) -> list[str]:
    """Text bars per tenth of the score: approved (+) beside rejected (#), scaled to the fullest bin."""
    approved, rejected = fig.histogram.get("approved", []), fig.histogram.get("rejected", [])
    top = max([*approved, *rejected, 1])
    lines = [f"{fig.label} by decision (+ approved, # rejected)"]
    for k, (a, r) in enumerate(zip(approved, rejected, strict=True)):
        bar_a = "+" * round(BAR_WIDTH * a / top)
        bar_r = "#" * round(BAR_WIDTH * r / top)
        lines.append(f"  {k / 10:.1f}-{(k + 1) / 10:.1f} {bar_a:<{BAR_WIDTH}} {a:>5} | {bar_r:<{BAR_WIDTH}} {r:>5}")
    return lines


def report_lines(report: HouseReport, *, histograms: bool = False) -> list[str]:
    """The whole report: totals, targets, each label (and its histogram), the rule for "too few"."""
    found, t = report.found, report.targets
    lines = [
        f"{len(found.decisions)} human decisions ({found.approved} approved, {found.rejected} rejected)"
        + (f"; {found.unscored} decided comments without scores left out" if found.unscored else ""),
        f"targets: auto-reject precision >= {t.reject_precision:g}, auto-approve keeps >= {t.approve_keep:g}",
        "",
    ]
    for fig in report.labels:
        lines += label_lines(fig)
        if histograms:
            lines += histogram_lines(fig)
        lines.append("")
    lines.append(f"too few: {RULE}")
    return lines


def replay_lines(replay: Replay) -> list[str]:
    """The agreement matrix, the wrong comments, and the time saved."""
    m = replay.matrix
    lines = [
        f"policy {replay.policy} over {replay.total} human decisions",
        f"{'policy / human':<16}{'approved':>10}{'rejected':>10}",
    ]
    for outcome in ("approve", "queue", "reject"):
        lines.append(
            f"{'auto-' + outcome if outcome != 'queue' else 'queue':<16}{m[outcome]['approved']:>10}"
            f"{m[outcome]['rejected']:>10}"
        )
    lines.append(f"auto-approved but rejected by a human: {len(replay.approved_but_rejected)}")
    lines += [f"  {d.comment_id} ({d.moderator}, {d.decided_at}): {rule}" for d, rule in replay.approved_but_rejected]
    lines.append(f"auto-rejected but approved by a human: {len(replay.rejected_but_approved)}")
    lines += [f"  {d.comment_id} ({d.moderator}, {d.decided_at}): {rule}" for d, rule in replay.rejected_but_approved]
    lines.append(
        f"not queued: {replay.not_queued} comments; at {replay.seconds_per_comment:g} s each, "
        f"{replay.hours_saved:.2f} moderator hours saved"
    )
    return lines


def policy_toml(policy: Policy, comment: str = "") -> str:
    """A ``[policy]`` table `flag --policy` loads (policy.load_policy); edges of 'never' are left out."""
    lines = [f"# {line}" for line in comment.splitlines()] + ["[policy]", f'name = "{policy.name}"']
    for label, band in policy.bands.items():
        lines.append(f"[policy.labels.{label}]")
        if band.approve_below < NEVER:
            lines.append(f"approve_below = {band.approve_below:g}")
        if band.reject_at < NEVER:
            lines.append(f"reject_at = {band.reject_at:g}")
        if band.approve_below >= NEVER and band.reject_at >= NEVER:
            lines.append(f"approve_below = {NEVER:g}  # never queues on this label")
    lines.append("[policy.always_queue]")
    lines.append(f"replies_to_flagged = {'true' if policy.queue_replies_to_flagged else 'false'}")
    authors = ", ".join(f'"{a}"' for a in sorted(policy.queue_authors))
    lines.append(f"authors = [{authors}]")
    return "\n".join(lines) + "\n"
