"""Shared fixtures: an isolated environment, a fixed clock, and a small scored queue."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from moderator.policy import risk_score  # noqa: E402
from moderator.records import Article, Comment  # noqa: E402
from moderator.scoring.fake import FakeScorer  # noqa: E402
from moderator.store import Queue, open_db  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TEST_DATA = Path(__file__).resolve().parent / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test cleanly when it is not there (e.g. outside CI)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the developer's own config or environment."""
    for name in list(os.environ):
        if name.startswith("MODERATOR_") and name != "MODERATOR_CACHE":
            monkeypatch.delenv(name)
    monkeypatch.setenv("MODERATOR_CONFIG", str(tmp_path_factory.mktemp("cfg") / "absent.toml"))
    monkeypatch.setenv("USER", "tester")


class FixedClock:
    """A clock that only moves when told: stable timestamps in stored rows and exports."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


ARTICLE = Article(
    id="a-wind",
    kicker="Energiewende",
    headline="Bundesregierung will Genehmigungen für Windräder halbieren",
    teaser="Neue Windräder an Land sollen schneller genehmigt werden.",
    body="Genehmigungsverfahren für Windräder sollen höchstens zwölf Monate dauern. Kommunen warnen.",
)
COMMENTS = [
    Comment(
        id="c1",
        article_id="a-wind",
        number=1,
        author="nordlicht",
        posted_at="2021-05-12",
        title="Endlich",
        text="Schnellere Genehmigungsverfahren für Windräder sind überfällig.",
    ),
    Comment(
        id="c2",
        article_id="a-wind",
        number=2,
        author="kopf",
        posted_at="2021-05-12",
        title="Unglaublich",
        text="Ihr seid doch alle hirnlose Idioten. Haltet die Klappe!",
    ),
    Comment(
        id="c3",
        article_id="a-wind",
        number=3,
        author="fan",
        posted_at="2021-05-12",
        title="Spiel",
        text="Der Schiedsrichter beim Pokalspiel gestern war eine Katastrophe.",
    ),
    Comment(
        id="c4",
        article_id="a-wind",
        number=4,
        author="nordlicht",
        posted_at="2021-05-13",
        title="@1",
        text="Die Kommunen brauchen mehr Personal für Genehmigungen.",
        parent_id="c1",
    ),
]


@pytest.fixture
def make_queue(clock: FixedClock) -> Callable[..., Queue]:
    def factory(path: Path | None = None, *, scored: bool = True) -> Queue:
        queue = Queue(open_db(path), clock=clock)
        queue.add([ARTICLE], COMMENTS)
        if scored:
            pairs = queue.unscored(limit=100)
            queue.save_scores(
                [(c.id, s, risk_score(s)) for (c, _), s in zip(pairs, FakeScorer().score(pairs), strict=True)]
            )
        return queue

    return factory


@pytest.fixture
def queue(make_queue: Callable[..., Queue]) -> Iterator[Queue]:
    yield make_queue()
