"""How one queue row looks: fixed columns shared by the list and its header, data through `safe_line`.

Kept apart from the widget so the column layout (and its widths) live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text

from moderator.records import QueueItem, Status
from moderator.tui.safe_text import safe_line

EIGHTHS = " ▏▎▍▌▋▊▉"
BAR_CELLS = 4
AUTHOR_W = 14
CLAIM_W = 10
AGE_W = 4
SCORE_W = 10
FIXED_W = 2 + 2 + 8 + 1 + SCORE_W * 2 + AUTHOR_W + 1 + CLAIM_W + 1 + 1 + AGE_W
STATUS_LABEL = {
    Status.PENDING: "pending",
    Status.FLAGGED: "flagged",
    Status.APPROVED: "approved",
    Status.REJECTED: "rejected",
}

StyleFor = Callable[[str], Style]


def bar(score: float) -> str:
    """A score in [0, 1] as a 4-cell horizontal bar in eighths, then two decimals."""
    eighths = round(max(0.0, min(1.0, score)) * BAR_CELLS * 8)
    full, rest = divmod(eighths, 8)
    cells = "█" * full + (EIGHTHS[rest] if rest and full < BAR_CELLS else "")
    number = "1.0" if score >= 0.995 else f"{score:.2f}"[1:]
    return f"{cells:<{BAR_CELLS}} {number}"


def age(posted_at: str, now: datetime) -> str:
    """Compact age of a comment (``45m``, ``3h``, ``12d``, ``20w``, ``3y``) from the injected clock."""
    if not posted_at:
        return ""
    try:
        moment = datetime.fromisoformat(posted_at)
    except ValueError:
        return "?"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and (unit != "w" or seconds >= 100 * 86400):
            return f"{seconds // size}{unit}"  # at most 99d, then weeks, then years: it fits 4 cells
    return "now"


def header(width: int) -> Text:
    headline_w = max(8, width - FIXED_W)
    return Text(
        f"{'':4}{'status':8} {'toxicity':{SCORE_W}}{'off-topic':{SCORE_W}}{'author':{AUTHOR_W}} {'claim':{CLAIM_W}} "
        f"{'article':{headline_w}} {'age':>{AGE_W}}",
        no_wrap=True,
    )


def row(
    item: QueueItem, *, width: int, now: datetime, me: str, marked: bool, style: StyleFor, edges: tuple[float, float]
) -> Text:
    """One row as Text; data columns are literal text, styles come from the widget's component classes.

    A score shows as high from its label's review edge (toxicity, off-topic), the policy's "a human looks" line.
    """
    headline_w = max(8, width - FIXED_W)
    text = Text(no_wrap=True, end="")
    text.append("● " if marked else "  ", style("queue-list--marked"))
    claimed = item.held_by_other(me, now)
    text.append("🔒" if claimed else "  ", style("queue-list--claimed"))
    text.append(f"{STATUS_LABEL[item.status]:8} ", style(f"queue-list--{item.status.value}"))
    if item.scores:
        for score, edge in zip((item.scores.toxicity, item.scores.off_topic), edges, strict=True):
            if score is None:  # off-topic not judged: the comment came without its article
                text.append(f"{'     n/a':{SCORE_W}}", style("queue-list--dim"))
                continue
            text.append(f"{bar(score):{SCORE_W}}", style("queue-list--high" if score >= edge else "queue-list--low"))
    else:
        text.append(f"{'unscored':{SCORE_W * 2}}", style("queue-list--dim"))
    author_at = 2 + 2 + 9 + SCORE_W * 2
    claim_at = author_at + AUTHOR_W + 1
    headline_at = claim_at + CLAIM_W + 1
    text.append_text(safe_line(item.comment.author or "—", width=AUTHOR_W))
    _pad_to(text, claim_at)
    text.append_text(safe_line(claimed, style("queue-list--claimed"), width=CLAIM_W))
    _pad_to(text, headline_at)
    text.append_text(safe_line(item.article_headline, width=headline_w))
    _pad_to(text, headline_at + headline_w + 1)
    text.append(f"{age(item.comment.posted_at, now):>{AGE_W}}", style("queue-list--dim"))
    return text


def placeholder(index: int) -> Text:
    return Text(f"{'':4}… loading row {index + 1}", no_wrap=True)


def _pad_to(text: Text, cells: int) -> None:
    """Pad (or cut) ``text`` to exactly ``cells`` terminal cells, so the next column starts aligned."""
    length = text.cell_len
    if length < cells:
        text.append(" " * (cells - length))
    elif length > cells:
        text.truncate(cells)
