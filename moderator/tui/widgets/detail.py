"""The detail pane: the selected comment (evidence highlighted), its thread and log, its article and author.

All data goes through `safe_text`; highlight styles are component classes, so the theme colours them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from moderator.policy import Policy
from moderator.records import OFF_TOPIC_NOT_JUDGED, QueueItem
from moderator.tui.data import CommentDetail
from moderator.tui.safe_text import comment_text, safe_block, safe_line
from moderator.tui.widgets.rows import STATUS_LABEL, age


def _heading(label: str) -> Text:
    return Text(f"\n{label}\n", style="bold")


def _item_line(item: QueueItem, now: datetime) -> Text:
    line = Text(f"{STATUS_LABEL[item.status]:8} {age(item.comment.posted_at, now):>4}  ", style="dim")
    line.append_text(safe_line(item.comment.author or "—", "bold", width=16))
    line.append(": ")
    line.append_text(safe_line(item.comment.text, width=160))
    return line


def _passage(detail: CommentDetail, edge: float) -> str:
    """The scorer's off-topic passage, when the comment or that passage reaches the off-topic review edge."""
    s = detail.item.scores
    if s is None or not s.off_topic_passage:
        return ""
    return s.off_topic_passage if max(s.off_topic or 0.0, s.passage_off_topic or 0.0) >= edge else ""


class CommentView(VerticalScroll):
    """The comment itself: header, scores, text with toxic words and the off-topic passage marked."""

    COMPONENT_CLASSES = {"comment-view--toxic", "comment-view--passage", "comment-view--claimed"}

    def __init__(self, me: str, clock: Callable[[], datetime], policy: Policy, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.me = me
        self.clock = clock
        self.off_topic_edge = policy.review_edge("off_topic")  # the passage is underlined from here
        # What the desk does about words scoring left pending: "" (nothing: `moderator show` computes them),
        # "computing" (a worker is on it), or why it could not.
        self.words_state = ""

    @property
    def now(self) -> datetime:
        """The app's clock (injected, so tests and screenshots show stable ages)."""
        return self.clock()

    def compose(self) -> ComposeResult:
        yield Static(id="comment-head")
        yield Static(id="comment-body")
        yield Static(id="comment-thread")

    def show(self, detail: CommentDetail | None, claimed_by: str = "", *, keep_scroll: bool = False) -> None:
        head, body, thread = Text("Nothing to review here."), Text(), Text()
        if detail is not None:
            head, body, thread = self._head(detail, claimed_by), self._body(detail), self._thread(detail)
        self.query_one("#comment-head", Static).update(head)
        self.query_one("#comment-body", Static).update(body)
        self.query_one("#comment-thread", Static).update(thread)
        if not keep_scroll:
            self.scroll_home(animate=False)

    def _head(self, detail: CommentDetail, claimed_by: str) -> Text:
        item, c = detail.item, detail.item.comment
        head = Text()
        head.append(f"#{c.number} " if c.number is not None else "")
        head.append_text(safe_line(c.author or "—", "bold", width=40))
        when = age(c.posted_at, self.now)
        head.append(f"  {f'{when} ago' if when else '(no date)'}  {STATUS_LABEL[item.status]}", style="dim")
        other = claimed_by or item.held_by_other(self.me, self.now)
        if other:
            head.append("  🔒 claimed by ", style=self._style("claimed"))
            head.append_text(safe_line(other, self._style("claimed"), width=30))
        if item.scores:
            s = item.scores
            labels = ", ".join(f"{k} {v:.2f}" for k, v in sorted(s.labels.items()))
            head.append(f"\ntoxicity {s.toxicity:.2f}" + (f" ({labels})" if labels else ""))
            passage = f" (passage {s.passage_off_topic:.2f})" if s.passage_off_topic is not None else ""
            off = OFF_TOPIC_NOT_JUDGED if s.off_topic is None else f"off-topic {s.off_topic:.2f}{passage}"
            head.append(f" · {off} · ")  # a drifting comment: passage >> whole
            head.append_text(safe_line(s.model_version, "dim", width=40))
            legend = [
                Text(name, style=self._style(kind))
                for name, kind, shown in (
                    ("toxic words", "toxic", bool(s.toxic_words)),
                    ("off-topic passage", "passage", bool(self._passage(detail))),
                )
                if shown
            ]
            if legend:
                head.append("\nmarked: ", style="dim")
                head.append_text(Text(" · ", style="dim").join(legend))
            if s.words_pending:  # over the threshold, words left for when a person reads it
                head.append(self._pending_words_note(item.comment.id), style="dim")
        else:
            head.append("\nnot scored yet", style="dim")
        if c.title:
            head.append("\n")
            head.append_text(safe_line(c.title, "bold italic", width=200))
        return head

    def _pending_words_note(self, comment_id: str) -> str:
        if self.words_state == "computing":
            return "\nfinding the words that drove toxicity…"
        if self.words_state:
            return f"\ntoxic words unavailable here ({self.words_state}): moderator show {comment_id}"
        return f"\ntoxic words not computed yet: moderator show {comment_id}"

    def _passage(self, detail: CommentDetail) -> str:
        return _passage(detail, self.off_topic_edge)

    def _body(self, detail: CommentDetail) -> Text:
        s = detail.item.scores
        return comment_text(
            "\n" + detail.item.comment.text,
            toxic_words=s.toxic_words if s else (),
            passage=self._passage(detail),
            toxic_style=self._style("toxic"),
            passage_style=self._style("passage"),
        )

    def _thread(self, detail: CommentDetail) -> Text:
        thread = Text()
        if detail.parent is not None:
            thread.append_text(_heading("In reply to"))
            thread.append_text(_item_line(detail.parent, self.now))
        if detail.replies:
            thread.append_text(_heading(f"Replies ({len(detail.replies)})"))
            thread.append_text(Text("\n").join(_item_line(r, self.now) for r in detail.replies[:20]))
        if detail.history:
            thread.append_text(_heading("Log"))
            for d in detail.history:
                thread.append(f"{d.decided_at}  {d.action.value:7} ", style="dim")
                thread.append_text(safe_line(d.moderator, "bold", width=20))
                if d.reason:
                    thread.append(": ")
                    thread.append_text(safe_line(d.reason, width=120))
                thread.append("\n")
        return thread

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"comment-view--{name}", partial=True)


class ArticleView(VerticalScroll):
    """The article the comment sits under (body on `o`), and the author's recent comments."""

    show_body: reactive[bool] = reactive(False)

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self._detail: CommentDetail | None = None

    @property
    def now(self) -> datetime:
        """The app's clock (injected, so tests and screenshots show stable ages)."""
        return self.clock()

    def compose(self) -> ComposeResult:
        yield Static(id="article-text")
        yield Static(id="author-history")

    def show(self, detail: CommentDetail | None) -> None:
        self._detail = detail
        self._render_article()
        history = Text()
        if detail is not None and detail.item.comment.author:
            history.append_text(_heading("Author's recent comments"))
            if detail.author_history:
                history.append_text(Text("\n").join(_item_line(i, self.now) for i in detail.author_history))
            else:
                history.append("none other in the queue", style="dim")
        self.query_one("#author-history", Static).update(history)

    def watch_show_body(self) -> None:
        self._render_article()

    def _render_article(self) -> None:
        article = self._detail.article if self._detail else None
        text = Text()
        if article is not None:
            if article.kicker:
                text.append_text(safe_line(article.kicker, "dim", width=200))
                text.append("\n")
            text.append_text(safe_line(article.headline or article.id, "bold", width=300))
            if article.teaser:
                text.append("\n")
                text.append_text(safe_block(article.teaser, "italic"))
            if self.show_body and article.body:
                text.append("\n\n")
                text.append_text(safe_block(article.body))
            elif article.body:
                text.append(f"\n[o] show article body ({len(article.body)} chars)", style="dim")
        if self.is_mounted:
            self.query_one("#article-text", Static).update(text)
