"""Reading the desk back in tests: the rows it shows, the detail text, the status bar, the toasts."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from moderator.tui.app import ModeratorApp
from moderator.tui.widgets.queue_list import QueueList


def shown_ids(app: ModeratorApp) -> list[str]:
    ql = app.screen.query_one(QueueList)
    return [item.comment.id for _, item in ql.cache.loaded()]


def current_id(app: ModeratorApp) -> str | None:
    item = app.screen.query_one(QueueList).current
    return item.comment.id if item else None


def row_texts(app: ModeratorApp) -> list[str]:
    """What the list paints, line by line (the real render path, not the cache)."""
    ql = app.screen.query_one(QueueList)
    return [ql.render_line(y).text for y in range(min(ql.size.height, ql.cache.total))]


def static_text(app: ModeratorApp, selector: str) -> str:
    content = app.screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


def status_text(app: ModeratorApp) -> str:
    return static_text(app, "#status")


def toasts(app: ModeratorApp) -> list[str]:
    return [n.message for n in app._notifications]
