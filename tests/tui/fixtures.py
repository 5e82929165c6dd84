"""What the desk's tests share: two articles with seven comments (one of them hostile markup), a scored
queue.db built from them, and `settle`, which waits for the desk's workers. ``conftest.py`` only makes fixtures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from textual.pilot import Pilot
from textual.screen import ModalScreen

from moderator.records import Article, Comment
from tests.fixtures import ARTICLE as WIND_ARTICLE
from tests.fixtures import COMMENTS as WIND_COMMENTS
from tests.fixtures import scored_queue

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
INJECTION = "[bold red]PWNED[/] \x1b[31m [link=https://evil.example]click[/link]"

ARTICLES = [
    WIND_ARTICLE,
    Article(
        id="a-bahn",
        kicker="Verkehr",
        headline="Bahn streicht Nachtzüge nach Wien",
        teaser="Die Verbindung lohne sich nicht, sagt der Konzern.",
        body="Ab Dezember fährt kein Nachtzug mehr.",
    ),
]
# The wind-power thread of tests/fixtures.py, posted within the last two days (the desk shows ages), and a
# second article whose thread holds hostile markup and a reply.
_POSTED = ("2026-11-01T09:00:00Z", "2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z", "2026-11-02T08:00:00Z")
COMMENTS = [
    *(replace(comment, posted_at=posted) for comment, posted in zip(WIND_COMMENTS, _POSTED, strict=True)),
    Comment(
        id="c5",
        article_id="a-bahn",
        number=1,
        author="pendler",
        posted_at="2026-10-30T07:00:00Z",
        text="Nachtzüge nach Wien waren immer voll, das ist dumm und kurzsichtig.",
    ),
    Comment(
        id="c6",
        article_id="a-bahn",
        number=2,
        author="[red]mallory[/]",
        posted_at="2026-11-02T09:00:00Z",
        title="\x1b[2Jtitle",
        text=INJECTION,
    ),
    Comment(
        id="c7",
        article_id="a-bahn",
        number=3,
        author="kopf",
        posted_at="2026-11-02T09:20:00Z",
        text="Der Konzern ist ein Haufen Trottel, Nachtzüge lohnen sich sehr wohl.",
        parent_id="c5",
    ),
]


def build_db(path: Path, clock: Callable[[], datetime]) -> Path:
    scored_queue(path, clock, ARTICLES, COMMENTS).db.conn.close()
    return path


async def settle(pilot: Pilot) -> None:
    """Let workers (page fetches, claims, decisions) finish and the screen repaint.

    A decision worker waiting on an open dialog is left alone: it finishes when the test answers the dialog.
    """
    app = pilot.app
    for _ in range(3):
        await pilot.pause(0.1)  # the detail pane follows the cursor after a short rest
        dialog_open = isinstance(app.screen, ModalScreen)
        running = [w for w in app.workers if w.is_running and not (dialog_open and w.group == "decide")]
        if running:
            await asyncio.wait_for(app.workers.wait_for_complete(running), timeout=20)
    await pilot.pause()
