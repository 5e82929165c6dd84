"""The queue as a lazy virtual list: a ScrollView that renders only the visible lines (Textual's Line API).

A 100k-comment queue costs a few pages of rows in memory; pages are fetched by the screen (in a thread
worker) when `PagesWanted` says so, and land through `put_page`. Row order is exactly `Queue.items` order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from moderator.policy import Policy
from moderator.records import QueueItem, Status
from moderator.tui.data import PageCache
from moderator.tui.widgets import rows

PREFETCH_ROWS = 40


class QueueList(ScrollView, can_focus=True):
    """Rows of the queue around a cursor; `space` marks rows for bulk decisions."""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Next", show=False, id="next"),
        Binding("up,k", "cursor_up", "Previous", show=False, id="previous"),
        Binding("pagedown", "page_down", "Page down", show=False, id="page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="page_up"),
        Binding("home", "first", "First", show=False, id="first"),
        Binding("end", "last", "Last", show=False, id="last"),
        Binding("space", "toggle_mark", "Select", id="select"),
    ]
    COMPONENT_CLASSES = {
        "queue-list--cursor",
        "queue-list--marked",
        "queue-list--claimed",
        "queue-list--pending",
        "queue-list--flagged",
        "queue-list--approved",
        "queue-list--rejected",
        "queue-list--high",
        "queue-list--low",
        "queue-list--dim",
    }

    cursor: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class Highlighted(Message):
        """The cursor rests on a loaded row (``item``), or on nothing (an empty listing)."""

        item: QueueItem | None

    @dataclass
    class PagesWanted(Message):
        pages: list[int]
        generation: int

    def __init__(self, me: str, clock: Callable[[], datetime], policy: Policy, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.me = me
        self.clock = clock
        self.edges = (policy.review_edge("toxicity"), policy.review_edge("off_topic"))  # where "high" starts
        self.cache = PageCache()
        self.marked: dict[str, Status] = {}
        self._announced: str | None = "\0"
        self._strips: dict[tuple[object, ...], Strip] = {}  # painted rows, keyed by all they depend on
        self._serial = 0  # bumped when a loaded row changes in place

    @property
    def now(self) -> datetime:
        """The app's clock (injected, so tests and screenshots show stable ages)."""
        return self.clock()

    # -- data in ----------------------------------------------------------------------------------------
    def reset(self, total: int, first_pages: dict[int, list[QueueItem]], cursor: int) -> None:
        """A fresh listing: its size, the pages already read, and where the cursor goes.

        `Highlighted` is posted only if the cursor now rests on another comment than before.
        """
        self.cache.invalidate(total)
        for page_no, items in first_pages.items():
            self.cache.put(page_no, items, self.cache.generation)
        self.virtual_size = Size(self.row_width, total)
        self.cursor = max(0, min(cursor, total - 1))

    def put_page(self, page_no: int, items: list[QueueItem], generation: int) -> None:
        if self.cache.put(page_no, items, generation):
            self._serial += 1
            self.refresh()
            self._announce()

    def update_item(self, item: QueueItem) -> None:
        if self.cache.update(item) is not None:
            self._serial += 1
            self.refresh()

    @property
    def current(self) -> QueueItem | None:
        return self.cache.row(self.cursor) if self.cache.total else None

    # -- cursor -----------------------------------------------------------------------------------------
    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self.cache.total - 1)) if self.cache.total else 0

    def watch_cursor(self, value: int) -> None:
        self.scroll_to_region(Region(0, value, 1, 1), animate=False, force=True, immediate=True)
        self._want(value - PREFETCH_ROWS, value + self.size.height + PREFETCH_ROWS)
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        item = self.current
        key = item.comment.id if item else None
        if item is None and self.cache.total:
            return  # the row is still being fetched; announce when it lands
        if key != self._announced:
            self._announced = key
            self.post_message(self.Highlighted(item))

    def _want(self, first: int, last: int) -> None:
        pages = self.cache.missing(first, last)
        if pages:
            self.post_message(self.PagesWanted(pages, self.cache.generation))

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_page_down(self) -> None:
        self.cursor += max(1, self.size.height - 1)

    def action_page_up(self) -> None:
        self.cursor -= max(1, self.size.height - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = self.cache.total - 1

    def action_toggle_mark(self) -> None:
        item = self.current
        if item is None:
            return
        if self.marked.pop(item.comment.id, None) is None:
            self.marked[item.comment.id] = item.status
        self.cursor += 1

    def on_click(self, event: events.Click) -> None:
        self.cursor = self.scroll_offset.y + event.y

    # -- rendering --------------------------------------------------------------------------------------
    @property
    def row_width(self) -> int:
        """Cells a row may use: the widget less its scrollbar gutter."""
        return self.scrollable_content_region.width

    def render_line(self, y: int) -> Strip:
        width = self.row_width
        index = self.scroll_offset.y + y
        base = self.rich_style
        if index >= self.cache.total:
            return Strip.blank(width, base)
        item = self.cache.row(index)
        now = self.now
        key = (
            index,
            self.cache.generation,
            self._serial,
            index == self.cursor,
            width,
            self.has_focus,
            item is not None and item.comment.id in self.marked,
            int(now.timestamp()) // 60,
        )
        if item is not None and key in self._strips:
            return self._strips[key]
        if item is None:
            self._want(index, index + self.size.height)
            text = rows.placeholder(index)
        else:
            text = rows.row(
                item,
                width=width,
                now=now,
                me=self.me,
                marked=item.comment.id in self.marked,
                style=self._style,
                edges=self.edges,
            )
        if index == self.cursor:
            text.stylize(self._style("queue-list--cursor"))
        strip = Strip(list(text.render(self.app.console))).crop_extend(0, width, base).apply_style(base)
        if item is not None:
            if len(self._strips) > 4 * PREFETCH_ROWS:
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # the theme changed: painted rows are stale

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.row_width, self.cache.total)
