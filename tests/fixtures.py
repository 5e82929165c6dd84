"""What tests share besides pytest fixtures: paths, a fixed clock, the wind-power thread, a scored queue.

Tests import these names from here; ``conftest.py`` only turns them into fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from moderator.policy import risk_score
from moderator.records import Article, Comment
from moderator.scoring.fake import FakeScorer
from moderator.store import Queue, open_db

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TEST_DATA = Path(__file__).resolve().parent / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test cleanly when it is not there (e.g. outside CI)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


class FixedClock:
    """A clock that only moves when told: stable timestamps in stored rows and exports."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


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


def scored_queue(
    path: Path | None,
    clock: Callable[[], datetime],
    articles: Sequence[Article] = (ARTICLE,),
    comments: Sequence[Comment] = tuple(COMMENTS),
    *,
    scored: bool = True,
) -> Queue:
    """A queue holding ``comments`` under ``articles``, scored by the fake scorer unless ``scored`` is False."""
    queue = Queue(open_db(path), clock=clock)
    queue.add(articles, comments)
    if scored:
        pairs = queue.unscored(limit=len(comments) + 1)
        scores = FakeScorer().score(pairs)
        queue.save_scores([(c.id, s, risk_score(s)) for (c, _), s in zip(pairs, scores, strict=True)])
    return queue
