"""TUI fixtures: a small scored queue.db in tmp_path, a fixed clock, and the app built by `make_app`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen

from moderator.policy import risk_score
from moderator.records import Article, Comment
from moderator.scoring.fake import FakeScorer
from moderator.store import Queue, open_db
from moderator.tui.app import ModeratorApp, make_app

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
INJECTION = "[bold red]PWNED[/] \x1b[31m [link=https://evil.example]click[/link]"

ARTICLES = [
    Article(
        id="a-wind",
        kicker="Energiewende",
        headline="Bundesregierung will Genehmigungen für Windräder halbieren",
        teaser="Neue Windräder an Land sollen schneller genehmigt werden.",
        body="Genehmigungsverfahren für Windräder sollen höchstens zwölf Monate dauern. Kommunen warnen.",
    ),
    Article(
        id="a-bahn",
        kicker="Verkehr",
        headline="Bahn streicht Nachtzüge nach Wien",
        teaser="Die Verbindung lohne sich nicht, sagt der Konzern.",
        body="Ab Dezember fährt kein Nachtzug mehr.",
    ),
]
COMMENTS = [
    Comment(
        id="c1",
        article_id="a-wind",
        number=1,
        author="nordlicht",
        posted_at="2026-11-01T09:00:00Z",
        title="Endlich",
        text="Schnellere Genehmigungsverfahren für Windräder sind überfällig.",
    ),
    Comment(
        id="c2",
        article_id="a-wind",
        number=2,
        author="kopf",
        posted_at="2026-11-01T10:00:00Z",
        title="Unglaublich",
        text="Ihr seid doch alle hirnlose Idioten. Haltet die Klappe!",
    ),
    Comment(
        id="c3",
        article_id="a-wind",
        number=3,
        author="fan",
        posted_at="2026-11-01T11:00:00Z",
        title="Spiel",
        text="Der Schiedsrichter beim Pokalspiel gestern war eine Katastrophe.",
    ),
    Comment(
        id="c4",
        article_id="a-wind",
        number=4,
        author="nordlicht",
        posted_at="2026-11-02T08:00:00Z",
        title="@1",
        text="Die Kommunen brauchen mehr Personal für Genehmigungen.",
        parent_id="c1",
    ),
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


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def build_db(path: Path, clock: Callable[[], datetime]) -> Path:
    queue = Queue(open_db(path), clock=clock)
    queue.add(ARTICLES, COMMENTS)
    pairs = queue.unscored(limit=100)
    queue.save_scores([(c.id, s, risk_score(s)) for (c, _), s in zip(pairs, FakeScorer().score(pairs), strict=True)])
    queue.db.conn.close()
    return path


@pytest.fixture
def fixed_clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def db_path(tmp_path: Path, fixed_clock: FixedClock) -> Path:
    return build_db(tmp_path / "queue.db", fixed_clock)


@pytest.fixture
def other(db_path: Path, fixed_clock: FixedClock) -> Queue:
    """A second connection, as another moderator's desk or the scorer would hold."""
    return Queue(open_db(db_path), clock=fixed_clock)


@pytest.fixture
def app(db_path: Path, fixed_clock: FixedClock) -> ModeratorApp:
    return make_app(db_path, "alice", clock=fixed_clock)


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
