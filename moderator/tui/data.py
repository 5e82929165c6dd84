"""Headless view state for the desk: the paged window over the queue, the filters, and a comment's context.

Nothing here imports Textual, so the paging and filter rules are plain Python (and cheap to test).
The list never holds the whole queue: it keeps a few pages of ``PAGE_SIZE`` rows, fetched with limit/offset.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace

from moderator.policy import Policy
from moderator.records import REVIEW_FILTER_CYCLE, Article, Decision, QueueItem
from moderator.store import Queue, QueueFilter

PAGE_SIZE = 100
MAX_PAGES = 8
STATUS_CYCLE = REVIEW_FILTER_CYCLE
LABEL_CYCLE = (None, "toxicity", "off_topic")


class PageCache:
    """Rows of one listing by index, a few pages at a time; ``generation`` outdates fetches in flight."""

    def __init__(self, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES) -> None:
        self.page_size = page_size
        self.max_pages = max_pages
        self.total = 0
        self.generation = 0
        self._pages: OrderedDict[int, list[QueueItem]] = OrderedDict()
        self._pending: set[int] = set()

    def invalidate(self, total: int) -> None:
        """Forget every page (the listing changed); fetches started before this are ignored when they land."""
        self.generation += 1
        self.total = total
        self._pages.clear()
        self._pending.clear()

    def row(self, index: int) -> QueueItem | None:
        page = self._pages.get(index // self.page_size)
        if page is None:
            return None
        offset = index % self.page_size
        return page[offset] if offset < len(page) else None

    def put(self, page_no: int, items: list[QueueItem], generation: int) -> bool:
        """Store a fetched page; False when it belongs to an older generation of the listing."""
        if generation != self.generation:
            return False
        self._pending.discard(page_no)
        self._pages[page_no] = items
        self._pages.move_to_end(page_no)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        return True

    def missing(self, first: int, last: int) -> list[int]:
        """Pages covering rows ``first..last`` that are neither loaded nor being fetched (marked as fetching)."""
        first, last = max(0, first), min(last, self.total - 1)
        wanted = range(first // self.page_size, last // self.page_size + 1) if last >= first else range(0)
        needed = [p for p in wanted if p not in self._pages and p not in self._pending]
        self._pending.update(needed)
        return needed

    def loaded(self) -> Iterator[tuple[int, QueueItem]]:
        for page_no, items in sorted(self._pages.items()):
            for offset, item in enumerate(items):
                yield page_no * self.page_size + offset, item

    def index_of(self, comment_id: str) -> int | None:
        return next((i for i, item in self.loaded() if item.comment.id == comment_id), None)

    def update(self, item: QueueItem) -> int | None:
        """Replace a loaded row in place (e.g. its claim changed); returns its index if loaded."""
        index = self.index_of(item.comment.id)
        if index is not None:
            self._pages[index // self.page_size][index % self.page_size] = item
        return index


def fetch_page(queue: Queue, flt: QueueFilter, page_no: int, page_size: int = PAGE_SIZE) -> list[QueueItem]:
    return queue.items(flt, limit=page_size, offset=page_no * page_size)


@dataclass(frozen=True)
class Filters:
    """What the list shows; ``status`` cycles with `f`, the rest come from keys and the command palette."""

    status: str = "open"
    article_id: str | None = None
    article_headline: str = ""
    label: str | None = None
    search: str = ""
    edges: tuple[tuple[str, float], ...] = Policy().review_edges()  # where a label filter starts
    labels: tuple[str | None, ...] = LABEL_CYCLE  # what the label key cycles through

    def edge(self, label: str) -> float:
        return dict(self.edges).get(label, 0.5)

    def query(self) -> QueueFilter:
        return QueueFilter(
            status=None if self.status == "all" else self.status,
            article_id=self.article_id,
            label=self.label,
            label_min=self.edge(self.label) if self.label else 0.5,
            search=self.search or None,
        )

    def next_status(self) -> Filters:
        return replace(self, status=STATUS_CYCLE[(STATUS_CYCLE.index(self.status) + 1) % len(STATUS_CYCLE)])

    def next_label(self) -> Filters:
        return replace(self, label=self.labels[(self.labels.index(self.label) + 1) % len(self.labels)])

    def describe(self) -> str:
        parts = [self.status]
        if self.label:
            parts.append(f"{self.label.replace('_', '-')} ≥ {self.edge(self.label):g}")
        if self.article_id:
            parts.append(f"article {self.article_headline or self.article_id}")
        if self.search:
            parts.append(f"“{self.search}”")
        return " · ".join(parts)


@dataclass(frozen=True)
class CommentDetail:
    """Everything the detail pane shows of one comment, read in one go."""

    item: QueueItem
    article: Article | None
    parent: QueueItem | None
    replies: list[QueueItem]
    author_history: list[QueueItem]
    history: list[Decision]


def load_detail(queue: Queue, comment_id: str) -> CommentDetail | None:
    item = queue.get(comment_id)
    if item is None:
        return None
    c = item.comment
    return CommentDetail(
        item=item,
        article=queue.article(c.article_id),
        parent=queue.get(c.parent_id) if c.parent_id else None,
        replies=queue.replies(c.id),
        author_history=queue.author_history(c.author, exclude=c.id, limit=8) if c.author else [],
        history=queue.history(c.id),
    )
