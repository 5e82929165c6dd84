"""Benchmark of `moderator review` on a 100k-comment queue (not a test; run `python scripts/bench_tui.py`).

Measures, headless under Textual's Pilot at 120x36:
- time to first paint: from building the app (which opens the db) to the first queue row painted;
- key-to-next-item latency: from a `j` key event to the new cursor row painted, N times at key-repeat pace
  (crossing page boundaries, so worker page fetches are included), mean / p95 / max; and to the detail pane
  showing the comment (it follows the cursor after a 50 ms rest);
- Pilot's own `press` round trip, for comparison (it waits for the process to look idle, so it is slower);
- jump to the end of the queue (a deep page fetched by a worker) until its row is painted.
Targets: first paint <= 1 s, key latency <= 50 ms.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from moderator.policy import risk_score
from moderator.records import Article, Comment
from moderator.scoring.fake import FakeScorer
from moderator.store import Queue, open_db
from moderator.tui.app import make_app
from moderator.tui.screens.desk import DeskScreen
from moderator.tui.widgets.queue_list import QueueList

WORDS = [
    "die",
    "regierung",
    "plant",
    "neue",
    "steuern",
    "für",
    "windräder",
    "und",
    "die",
    "bahn",
    "idiot",
    "dumm",
    "wetter",
    "fußball",
    "katze",
    "politik",
    "haushalt",
    "kommunen",
    "genehmigung",
    "nachtzug",
]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def build(path: Path, n: int) -> None:
    """A queue of ``n`` scored comments under 50 articles, deterministic."""
    rng = random.Random(5)
    queue = Queue(open_db(path), clock=lambda: NOW)
    articles = [
        Article(id=f"a{i}", headline=f"Schlagzeile {i}: Bahn und Windräder", teaser="Teaser", body="Text")
        for i in range(50)
    ]
    comments = [
        Comment(
            id=f"c{i:06d}",
            article_id=f"a{i % 50}",
            number=i,
            author=f"user{i % 997}",
            posted_at=f"2026-11-{1 + i % 24:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            text=" ".join(rng.choices(WORDS, k=14)),
        )
        for i in range(n)
    ]
    queue.add(articles, comments)
    by_id = {a.id: a for a in articles}
    scorer = FakeScorer()
    for start in range(0, n, 5000):
        batch = comments[start : start + 5000]
        scores = scorer.score([(c, by_id[c.article_id]) for c in batch])
        queue.save_scores([(c.id, s, risk_score(s)) for c, s in zip(batch, scores, strict=True)])
    queue.db.conn.close()


class Probe:
    """Timestamps of what the desk painted: rows, the cursor row, and the detail pane's comment."""

    def __init__(self) -> None:
        self.rows: dict[int, float] = {}
        self.cursor: dict[int, float] = {}
        self.detail: dict[str, float] = {}
        self._originals = (QueueList.render_line, DeskScreen._show_detail)

    def install(self) -> None:
        render_line, show_detail = self._originals
        probe = self

        def timed_line(widget: QueueList, y: int):  # noqa: ANN202
            strip = render_line(widget, y)
            index = widget.scroll_offset.y + y
            if widget.cache.row(index) is not None:
                now = time.perf_counter()
                probe.rows.setdefault(index, now)
                if index == widget.cursor:
                    probe.cursor.setdefault(index, now)
            return strip

        def timed_detail(desk: DeskScreen, item):  # noqa: ANN001, ANN202
            show_detail(desk, item)
            if item is not None:
                probe.detail.setdefault(item.comment.id, time.perf_counter())

        QueueList.render_line = timed_line  # type: ignore[method-assign]
        DeskScreen._show_detail = timed_detail  # type: ignore[method-assign]

    def remove(self) -> None:
        QueueList.render_line, DeskScreen._show_detail = self._originals  # type: ignore[method-assign]


async def until(condition, timeout: float = 10.0) -> float:  # noqa: ANN001
    """Wait for ``condition()`` to return a timestamp; return it."""
    deadline = time.perf_counter() + timeout
    while (value := condition()) is None:
        if time.perf_counter() > deadline:
            raise TimeoutError("the desk never painted what was expected")
        await asyncio.sleep(0.0005)
    return value


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(len(ordered) * q)) - 1)]


async def measure(path: Path, presses: int) -> dict[str, float]:
    probe = Probe()
    probe.install()
    try:
        start = time.perf_counter()
        app = make_app(path, "bench", clock=lambda: NOW)
        async with app.run_test(size=(120, 36)) as pilot:
            first_paint = await until(lambda: min(probe.rows.values(), default=None)) - start
            await pilot.pause(0.5)
            ql = app.screen.query_one(QueueList)
            key_ms, detail_ms = [], []
            for n in range(1, presses + 1):
                t = time.perf_counter()
                app.simulate_key("j")
                key_ms.append((await until(lambda n=n: probe.cursor.get(n)) - t) * 1000)
                if n % 10 == 0:  # every tenth press, rest and let the detail pane follow
                    cid = ql.current.comment.id if ql.current else ""
                    detail_ms.append((await until(lambda cid=cid: probe.detail.get(cid)) - t) * 1000)
                else:
                    await asyncio.sleep(0.03)  # about the pace of key repeat
            pilot_ms = []
            for _ in range(30):
                t = time.perf_counter()
                await pilot.press("j")
                pilot_ms.append((time.perf_counter() - t) * 1000)
            last = ql.cache.total - 1
            t = time.perf_counter()
            app.simulate_key("end")
            jump = await until(lambda: probe.cursor.get(last)) - t
            pages = len(list(ql.cache.loaded())) // ql.cache.page_size
    finally:
        probe.remove()
    return {
        "first paint (s)": first_paint,
        "j to cursor row painted, mean (ms)": statistics.mean(key_ms),
        "j to cursor row painted, p95 (ms)": pct(key_ms, 0.95),
        "j to cursor row painted, max (ms)": max(key_ms),
        "j to detail pane shown, mean (ms)": statistics.mean(detail_ms),
        "Pilot press('j') round trip, mean (ms)": statistics.mean(pilot_ms),
        "end: last row fetched+painted (ms)": jump * 1000,
        "pages held in memory": pages,
    }


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--comments", type=int, default=100_000, show_default=True)
@click.option("--presses", type=int, default=300, show_default=True)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Reuse (or create) this queue.db instead of a temporary one.",
)
def main(comments: int, presses: int, db: Path | None) -> None:
    """Benchmark `moderator review` headless: first paint and key-to-next-item latency."""
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "queue.db"
        if not path.exists():
            t = time.perf_counter()
            build(path, comments)
            click.echo(f"built {comments} scored comments in {time.perf_counter() - t:.1f} s")
        results = asyncio.run(measure(path, presses))
    targets = {
        "first paint (s)": 1.0,
        "j to cursor row painted, mean (ms)": 50,
        "j to cursor row painted, p95 (ms)": 50,
    }
    print(f"\n{'measure':40} {'value':>10} {'target':>8}")
    for name, value in results.items():
        target = targets.get(name)
        verdict = "" if target is None else ("ok" if value <= target else "MISSED")
        print(f"{name:40} {value:10.3f} {('≤ ' + str(target)) if target else '':>8} {verdict}")


if __name__ == "__main__":
    main()
