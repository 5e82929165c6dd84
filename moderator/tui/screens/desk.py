"""The desk: queue list, detail panes and status bar, with loading, filters, search and live refresh.

Decisions (approve, reject, undo, notes, bulk) live in its base, `DecisionsScreen`; this module is about what is shown.
Reads for the visible page and the selected comment are a few milliseconds on the app's own connection;
deep pages, polling and claims run in thread workers, each with its own connection.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from moderator.desk import Desk, WordsOnOpen, renewal_due
from moderator.records import HOUSE_LABEL, QueueItem
from moderator.store import QueueFilter
from moderator.textsafe import one_line
from moderator.tui.commands import DeskCommands
from moderator.tui.data import PAGE_SIZE, Filters, fetch_page, load_detail
from moderator.tui.screens.decisions import DecisionsScreen
from moderator.tui.screens.help import HelpScreen, help_rows
from moderator.tui.widgets.detail import ArticleView, CommentView
from moderator.tui.widgets.queue_list import QueueList
from moderator.tui.widgets.rows import header
from moderator.tui.widgets.status_bar import StatusBar

POLL_S = 2.0
CLAIM_DELAY_S = 0.3
DETAIL_DELAY_S = 0.05
SEARCH_DELAY_S = 0.15
WORDS_AHEAD = 3  # pending comments below the cursor whose words are computed next, so `j` finds them ready


class QueueHeader(Static):
    def render(self) -> Text:
        return header(self.size.width)


class DeskScreen(DecisionsScreen):
    """The main screen; every key is a `Binding` with an id, so users can remap it."""

    BINDINGS = [
        Binding("a", "approve", "Approve", id="approve"),
        Binding("r", "reject", "Reject", id="reject"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("n", "note", "Note", id="note"),
        Binding("A", "approve_marked", "Approve sel", id="approve_selected"),
        Binding("R", "reject_marked", "Reject sel", id="reject_selected"),
        Binding("o", "toggle_body", "Article", id="article_body"),
        Binding("f", "cycle_status", "Filter", id="filter"),
        Binding("l", "cycle_label", "Label filter", show=False, id="label_filter"),
        Binding("i", "toggle_article_filter", "This article only", show=False, id="article_filter"),
        Binding("slash", "search", "Search", id="search"),
        Binding("escape", "clear_search", "Clear search", show=False, id="clear_search"),
        Binding("s", "house_statistics", "Statistics", show=False, id="statistics"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit_desk", "Quit", id="quit"),
    ]
    COMMANDS = {DeskCommands}

    @dataclass
    class Changed(Message):
        """Another process (or this one) changed the queue; the marker is what the poll saw."""

        marker: tuple[object, ...]

    def __init__(self) -> None:
        super().__init__()
        self.filters = Filters()
        self.session_decided = 0
        self._marker: tuple[object, ...] | None = None
        self._claim_timer: Timer | None = None
        self._detail_timer: Timer | None = None
        self._claimed: tuple[str, datetime] = ("", datetime.min)
        self._search_timer: Timer | None = None
        self._words_error = ""  # why words cannot be computed here (the model did not load): said once, not retried

    def compose(self) -> ComposeResult:
        clock = self.app.clock
        policy = self.app.policy
        self.filters = replace(self.filters, edges=policy.review_edges())
        if self.app.queue.has_label(HOUSE_LABEL):  # a model adapted to the house scored here: filter by its line
            self.filters = replace(
                self.filters,
                edges=(*self.filters.edges, (HOUSE_LABEL, policy.review_edge(HOUSE_LABEL))),
                labels=(*self.filters.labels, HOUSE_LABEL),
            )
        yield Input(placeholder="search text, author or title; Enter keeps it, Esc clears", id="search")
        yield QueueHeader(id="queue-header")
        yield QueueList(self.app.moderator, clock, policy, id="queue")
        with Horizontal(id="details"):
            yield CommentView(self.app.moderator, clock, policy, id="comment")
            yield ArticleView(clock, id="article")
        yield StatusBar(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(QueueList).focus()
        self.reload()
        self._poll()  # the baseline marker, so the first change is noticed
        self.set_interval(POLL_S, self._poll)

    # -- loading ----------------------------------------------------------------------------------------
    def reload(self, keep_id: str | None = None, cursor: int | None = None) -> None:
        """Re-read the listing around the cursor, keeping it on ``keep_id`` when that row is still near."""
        ql = self.query_one(QueueList)
        before = ql.current.comment.id if ql.current else None
        flt = self.filters.query()
        total = self.queue.count(flt)
        index = ql.cursor if cursor is None else cursor
        index = max(0, min(index, total - 1))
        pages = {index // PAGE_SIZE: fetch_page(self.queue, flt, index // PAGE_SIZE)}
        for page_no, items in pages.items():
            for offset, item in enumerate(items):
                if keep_id is not None and item.comment.id == keep_id:
                    index = page_no * PAGE_SIZE + offset
        ql.reset(total, pages, index)
        self.refresh_status(total)
        current = ql.current
        if current is not None and current.comment.id == before:
            self._refresh_detail(current)  # same comment, maybe new facts (status, replies, claim)

    def refresh_status(self, shown: int | None = None) -> None:
        ql = self.query_one(QueueList)
        self.query_one(StatusBar).show(
            self.queue.counts_by_status(),
            self.session_decided,
            ql.cache.total if shown is None else shown,
            self.filters.describe(),
            self.app.moderator,
        )

    @on(QueueList.PagesWanted)
    def _pages_wanted(self, event: QueueList.PagesWanted) -> None:
        self._fetch_pages(event.pages, event.generation, self.filters.query())

    @work(thread=True, group="pages")
    def _fetch_pages(self, pages: list[int], generation: int, flt: QueueFilter) -> None:
        worker = get_current_worker()
        with self.app.worker_queue() as queue:
            for page_no in pages:
                if worker.is_cancelled:
                    return
                items = fetch_page(queue, flt, page_no)
                self.app.call_from_thread(self.query_one(QueueList).put_page, page_no, items, generation)

    @on(QueueList.Highlighted)
    def _highlighted(self, event: QueueList.Highlighted) -> None:
        """Follow the cursor with the detail pane once it rests (holding `j` repaints only the list)."""
        for timer in (self._detail_timer, self._claim_timer):
            if timer is not None:
                timer.stop()
        item = event.item
        self._detail_timer = self.set_timer(DETAIL_DELAY_S, lambda: self._show_detail(item))

    def _refresh_detail(self, item: QueueItem) -> None:
        detail = load_detail(self.queue, item.comment.id)
        self._words_note(detail.item if detail else None)
        self.query_one(CommentView).show(detail, keep_scroll=True)
        self.query_one(ArticleView).show(detail)

    def _show_detail(self, item: QueueItem | None) -> None:
        detail = load_detail(self.queue, item.comment.id) if item else None
        wanted = self._words_note(detail.item if detail else None)
        self.query_one(CommentView).show(detail)
        self.query_one(ArticleView).show(detail)
        if item is not None:
            self._claim_timer = self.set_timer(CLAIM_DELAY_S, lambda: self._claim(item.comment.id))
        if wanted and detail is not None:
            ql = self.query_one(QueueList)
            ahead = [ql.cache.row(i) for i in range(ql.cursor + 1, ql.cursor + 1 + WORDS_AHEAD)]
            self._fill_words(detail.item.comment.id, [a.comment.id for a in WordsOnOpen.pending(filter(None, ahead))])

    # -- words that drove toxicity, computed when a comment is opened ------------------------------------
    def _words_note(self, item: QueueItem | None) -> bool:
        """Tell the comment view what happens to ``item``'s pending words; whether to compute them now."""
        wanted = (
            self.app.words is not None and not self._words_error and bool(WordsOnOpen.pending(filter(None, [item])))
        )
        self.query_one(CommentView).words_state = "computing" if wanted else self._words_error
        return wanted

    @work(thread=True, exclusive=True, group="words")
    def _fill_words(self, comment_id: str, ahead: list[str]) -> None:
        """The opened comment's words first (shown as soon as they are stored), then those a few rows below."""
        words = self.app.words
        assert words is not None
        try:
            with self.app.worker_queue() as queue:
                for batch in ([comment_id], ahead):  # read again: the listing's copy may be stale
                    found = words.fill(queue, [item for item in map(queue.get, batch) if item is not None])
                    if words.names_words is False:  # e.g. the lexical test scorer
                        self.app.call_from_thread(self._words_failed, "the model in use names no words")
                        return
                    self.app.call_from_thread(self._words_found, found)
                    if get_current_worker().is_cancelled:
                        return
        except Exception as exc:  # noqa: BLE001 - whatever stops the model loading, the desk goes on without words
            self.app.call_from_thread(self._words_failed, one_line(str(exc) or type(exc).__name__, 120))

    def _words_found(self, found: dict[str, tuple[str, ...]]) -> None:
        ql = self.query_one(QueueList)
        for comment_id in found:
            fresh = self.queue.get(comment_id)
            if fresh is not None:
                ql.update_item(fresh)
        current = ql.current
        if current is not None and current.comment.id in found:
            self._refresh_detail(current)

    def _words_failed(self, reason: str) -> None:
        self._words_error = reason
        self.notify(f"toxic words unavailable: {reason}", severity="warning", markup=False)
        current = self.query_one(QueueList).current
        if current is not None:
            self._refresh_detail(current)

    @work(thread=True, exclusive=True, group="claim")
    def _claim(self, comment_id: str) -> None:
        """Hold the selected comment for a few minutes; say so if another moderator holds it."""
        self._claimed = (comment_id, self.app.now())
        with self.app.worker_queue() as queue:
            other = Desk(queue, self.app.moderator).claim(comment_id)
            item = queue.get(comment_id) if other else None
        if item is not None and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_claimed, item)

    def _show_claimed(self, item: QueueItem) -> None:
        self.query_one(QueueList).update_item(item)
        current = self.query_one(QueueList).current
        if current is not None and current.comment.id == item.comment.id:
            detail = load_detail(self.queue, item.comment.id)
            self.query_one(CommentView).show(detail, item.claimed_by, keep_scroll=True)

    # -- live refresh -----------------------------------------------------------------------------------
    def _poll(self) -> None:
        self._check_changes(self._marker)
        self.query_one(QueueList).refresh()  # ages tick (painted rows are cached per minute)
        comment_id, since = self._claimed
        if comment_id and renewal_due(since, self.app.now()):
            self._claim(comment_id)  # still reading it: renew before the claim runs out

    @work(thread=True, exclusive=True, group="poll")
    def _check_changes(self, seen: tuple[object, ...] | None) -> None:
        with self.app.worker_queue() as queue:
            marker = (*queue.change_marker(), *queue.claims_marker())
        if marker != seen and not get_current_worker().is_cancelled:
            self.post_message(self.Changed(marker))

    @on(Changed)
    def _changed(self, event: Changed) -> None:
        first = self._marker is None
        self._marker = event.marker
        if not first:
            current = self.query_one(QueueList).current
            self.reload(keep_id=current.comment.id if current else None)

    # -- filters and search -----------------------------------------------------------------------------
    def set_filters(self, filters: Filters) -> None:
        self.filters = filters
        self.reload(cursor=0)
        self.say(f"Showing {filters.describe()}", timeout=2)

    def action_cycle_status(self) -> None:
        self.set_filters(self.filters.next_status())

    def action_cycle_label(self) -> None:
        self.set_filters(self.filters.next_label())

    def action_toggle_article_filter(self) -> None:
        current = self.query_one(QueueList).current
        if self.filters.article_id or current is None:
            self.set_filters(replace(self.filters, article_id=None, article_headline=""))
        else:
            self.set_filters(
                replace(self.filters, article_id=current.comment.article_id, article_headline=current.article_headline)
            )

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.display = False
        self.query_one(QueueList).focus()
        if self.filters.search:
            self.set_filters(replace(self.filters, search=""))

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        value = event.value.strip()
        self._search_timer = self.set_timer(
            SEARCH_DELAY_S, lambda: self.set_filters(replace(self.filters, search=value))
        )

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one(QueueList).focus()

    # -- panes, help, quit ------------------------------------------------------------------------------
    def action_toggle_body(self) -> None:
        view = self.query_one(ArticleView)
        view.show_body = not view.show_body

    def action_help(self) -> None:
        rows = help_rows(self.active_bindings.values(), self.app.get_key_display)
        self.app.push_screen(HelpScreen(rows))

    def action_house_statistics(self) -> None:
        """The house's line: how the scores separate this desk's approvals from its rejections."""
        from moderator.tui.screens.house import HouseScreen

        self.app.push_screen(HouseScreen())

    def action_quit_desk(self) -> None:
        self.app.release_and_exit()
