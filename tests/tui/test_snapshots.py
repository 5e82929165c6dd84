"""SVG snapshots of the desk, the help screen and the reject dialog (fixed clock, so ages are stable).

Update with `pytest tests/tui --snapshot-update` only after reading the new SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from moderator.tui.app import ModeratorApp
from tests.tui.fixtures import settle

SIZE = (120, 36)


def pressing(*keys: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return run_before


def test_main_screen(snap_compare: Callable[..., bool], app: ModeratorApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("j", "j"))


def test_help_screen(snap_compare: Callable[..., bool], app: ModeratorApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("question_mark"))


def test_reject_dialog(snap_compare: Callable[..., bool], app: ModeratorApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("r"))
