"""Unit tests of the desk's headless parts: literal text, row columns, the page cache, the filters."""

from __future__ import annotations

from datetime import UTC, datetime

from moderator.records import Comment, QueueItem, Status
from moderator.tui.data import Filters, PageCache
from moderator.tui.safe_text import comment_text, safe_block, safe_line
from moderator.tui.widgets.rows import age, bar

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_markup_ansi_and_controls_stay_literal() -> None:
    line = safe_line("[bold red]x[/] \x1b[31m\x07 \u202eevil\nnext")
    assert line.plain == "[bold red]x[/] \\x1b[31m\\x07 \\u202eevil next"
    assert not line.spans
    block = safe_block("a\n\tb\x1b")
    assert block.plain == "a\n    b\\x1b"


def test_evidence_is_marked_by_span_on_escaped_text() -> None:
    text = comment_text(
        "\x1b[2J Ihr Idioten! Das Wetter ist schön.",
        toxic_words=("idioten",),
        passage="Das Wetter ist schön.",
        toxic_style="bold",
        passage_style="underline",
    )
    plain = text.plain
    spans = {(plain[s.start : s.end], str(s.style)) for s in text.spans}
    assert ("Idioten", "bold") in spans
    assert ("Das Wetter ist schön.", "underline") in spans
    assert "idiot" not in {p.lower() for p, _ in spans if p != "Idioten"}


def test_age_and_bar_fit_their_columns() -> None:
    assert age("2026-11-25T11:15:00Z", NOW) == "45m"
    assert age("2026-11-20", NOW) == "5d"
    assert age("2025-01-01", NOW) == "1y"
    assert all(len(age(d, NOW)) <= 4 for d in ("2000-01-01", "2026-06-01", "2026-11-25T12:00:00Z"))
    assert bar(1.0) == "████ 1.0" and bar(0.0) == "     .00" and bar(0.5) == "██   .50"


def _item(n: int) -> QueueItem:
    return QueueItem(Comment(id=f"c{n}", article_id="a", text="t"), "", Status.PENDING, 0.5, None)


def test_page_cache_holds_a_window_and_drops_stale_pages() -> None:
    cache = PageCache(page_size=10, max_pages=3)
    cache.invalidate(100)
    assert cache.missing(0, 25) == [0, 1, 2]
    assert cache.missing(0, 25) == []  # already being fetched
    old = cache.generation
    cache.put(0, [_item(i) for i in range(10)], old)
    assert cache.row(3).comment.id == "c3" and cache.row(13) is None
    for page in (1, 2, 3):
        cache.put(page, [_item(page * 10 + i) for i in range(10)], old)
    assert cache.row(3) is None and cache.row(35).comment.id == "c35"  # page 0 evicted: at most 3 pages
    cache.invalidate(50)
    assert cache.put(4, [_item(40)], old) is False and cache.row(35) is None


def test_filters_cycle_and_describe() -> None:
    f = Filters()
    assert [(f := f.next_status()).status for _ in range(5)] == ["pending", "flagged", "decided", "all", "open"]
    assert f.query().status == "open" and Filters(status="all").query().status is None
    labelled = Filters().next_label()
    assert labelled.query().label == "toxicity" and "toxicity ≥ 0.25" in labelled.describe()
