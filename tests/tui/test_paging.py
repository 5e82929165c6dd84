"""The list reads the queue lazily: pages of rows fetched by workers as the cursor travels, never all rows."""

from __future__ import annotations

from pathlib import Path

from moderator.policy import risk_score
from moderator.records import Comment
from moderator.scoring.fake import FakeScorer
from moderator.store import Queue, QueueFilter, open_db
from moderator.tui.app import make_app
from moderator.tui.data import MAX_PAGES, PAGE_SIZE
from moderator.tui.widgets.queue_list import QueueList
from tests.fixtures import FixedClock
from tests.tui.fixtures import ARTICLES, settle
from tests.tui.helpers import current_id

N = PAGE_SIZE * (MAX_PAGES + 2) + 7
WORDS = ("Windräder", "Idioten", "Genehmigung", "Pokalspiel", "dumm", "Kommunen")


def big_db(path: Path, clock: FixedClock) -> Queue:
    queue = Queue(open_db(path), clock=clock)
    comments = [
        Comment(
            id=f"p{i:05d}",
            article_id="a-wind",
            author=f"u{i % 37}",
            number=i,
            posted_at=f"2026-11-01T{i % 24:02d}:{i % 60:02d}:00Z",
            text=" ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 1 + i % 5)) or "leer",
        )
        for i in range(N)
    ]
    queue.add(ARTICLES, comments)
    pairs = queue.unscored(limit=N)
    queue.save_scores([(c.id, s, risk_score(s)) for (c, _), s in zip(pairs, FakeScorer().score(pairs), strict=True)])
    return queue


async def test_pages_load_on_demand_and_stay_bounded(tmp_path: Path, fixed_clock: FixedClock) -> None:
    queue = big_db(tmp_path / "big.db", fixed_clock)
    order = [i.comment.id for i in queue.items(QueueFilter(status="open"), limit=N + 10)]
    app = make_app(tmp_path / "big.db", "alice", clock=fixed_clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        ql = app.screen.query_one(QueueList)
        assert ql.cache.total == N
        assert len(list(ql.cache.loaded())) <= 2 * PAGE_SIZE  # only the first page(s), not the queue
        await pilot.press("end")
        await settle(pilot)
        assert current_id(app) == order[-1]
        for _ in range(3):
            await pilot.press("pageup")
        await settle(pilot)
        assert current_id(app) == order[ql.cursor]
        ql.cursor = PAGE_SIZE * 3 + 2  # a jump into a page nobody has read yet (as a scroll-bar drag does)
        await pilot.press("k", "k", "k")
        await settle(pilot)
        assert ql.cursor == PAGE_SIZE * 3 - 1
        assert current_id(app) == order[ql.cursor]
        assert len(list(ql.cache.loaded())) <= MAX_PAGES * PAGE_SIZE
        await pilot.press("home")
        await settle(pilot)
        assert current_id(app) == order[0]
