"""TUI fixtures: a small scored queue.db in tmp_path, a fixed clock, and the app built by `make_app`."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderator.store import Queue, open_db
from moderator.tui.app import ModeratorApp, make_app
from tests.fixtures import FixedClock
from tests.tui.fixtures import NOW, build_db


@pytest.fixture
def fixed_clock() -> FixedClock:
    return FixedClock(NOW)


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
