"""Pytest fixtures over tests/fixtures.py: an isolated environment, a fixed clock, and a small scored queue."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from moderator.store import Queue  # noqa: E402
from tests.fixtures import FixedClock, scored_queue  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the developer's own config or environment."""
    for name in list(os.environ):
        if name.startswith("MODERATOR_") and name != "MODERATOR_CACHE":
            monkeypatch.delenv(name)
    monkeypatch.setenv("MODERATOR_CONFIG", str(tmp_path_factory.mktemp("cfg") / "absent.toml"))
    monkeypatch.setenv("USER", "tester")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def make_queue(clock: FixedClock) -> Callable[..., Queue]:
    def factory(path: Path | None = None, *, scored: bool = True) -> Queue:
        return scored_queue(path, clock, scored=scored)

    return factory


@pytest.fixture
def queue(make_queue: Callable[..., Queue]) -> Iterator[Queue]:
    yield make_queue()
