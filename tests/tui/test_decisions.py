"""Pilot tests of decisions at the desk: each checks the screen and what the store holds."""

from __future__ import annotations

from moderator.desk import Desk
from moderator.records import Action, Status
from moderator.store import Queue, QueueFilter
from moderator.tui.app import ModeratorApp
from moderator.tui.screens.dialogs import ConfirmScreen, ReasonScreen
from tests.tui.fixtures import settle
from tests.tui.helpers import current_id, row_texts, shown_ids, status_text, toasts

SIZE = (120, 36)


async def test_opens_on_open_queue_in_risk_order(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        expected = [i.comment.id for i in other.items(QueueFilter(status="open"))]
        assert shown_ids(app) == expected
        assert current_id(app) == expected[0] == "c2"
        assert "pending 7" in status_text(app) and "alice" in status_text(app)
        assert "kopf" in row_texts(app)[0]


async def test_approve_moves_to_next_pending(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert other.get("c2").status is Status.APPROVED
        [decision] = other.history("c2")
        assert (decision.action, decision.moderator, decision.status_before) == (
            Action.APPROVE,
            "alice",
            Status.PENDING,
        )
        assert "c2" not in shown_ids(app)
        assert current_id(app) == "c3"
        assert "decided this session 1" in status_text(app)


async def test_reject_with_preset_reason(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReasonScreen)
        await pilot.press("1")
        await settle(pilot)
        assert other.get("c2").status is Status.REJECTED
        assert other.history("c2")[-1].reason == "insult"
        assert current_id(app) == "c3"


async def test_reject_with_free_text_and_cancel(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r", "escape")
        await settle(pilot)
        assert other.get("c2").status is Status.PENDING and other.history("c2") == []
        await pilot.press("r", "tab", *"Werbung fuer Casino", "enter")
        await settle(pilot)
        assert other.get("c2").status is Status.REJECTED
        assert other.history("c2")[-1].reason == "Werbung fuer Casino"


async def test_undo_restores_and_returns_to_comment(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert other.get("c2").status is Status.PENDING
        assert [d.action for d in other.history("c2")] == [Action.APPROVE, Action.REVERT]
        assert current_id(app) == "c2"
        assert "decided this session 0" in status_text(app)


async def test_bulk_approve_after_confirmation(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")
        await settle(pilot)
        assert row_texts(app)[0].startswith("●") and row_texts(app)[1].startswith("●")
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert other.get("c2").status is Status.PENDING
        await pilot.press("A", "y")
        await settle(pilot)
        assert other.get("c2").status is Status.APPROVED and other.get("c3").status is Status.APPROVED
        assert other.get("c6").status is Status.PENDING
        assert shown_ids(app)[:1] == ["c6"]
        assert "decided this session 2" in status_text(app)


async def test_bulk_reject_asks_reason_then_confirms(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "space", "space", "R")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        for cid in ("c6", "c5"):
            assert other.get(cid).status is Status.REJECTED
            assert other.history(cid)[-1].reason == "spam"


async def test_note_is_logged_without_status_change(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", *"ask legal", "enter")
        await settle(pilot)
        [note] = other.history("c2")
        assert (note.action, note.reason) == (Action.NOTE, "ask legal")
        assert other.get("c2").status is Status.PENDING


async def test_claimed_by_other_asks_before_deciding(app: ModeratorApp, other: Queue) -> None:
    assert Desk(other, "bob").claim("c2") is None
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "🔒" in row_texts(app)[0] and "bob" in row_texts(app)[0]
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert other.get("c2").status is Status.PENDING
        await pilot.press("a", "y")
        await settle(pilot)
        assert other.get("c2").status is Status.APPROVED
        assert other.history("c2")[-1].moderator == "alice"


async def test_stale_decision_is_refused_and_row_refreshes(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("QueueList").cursor = 0
        other.decide("c2", Action.REJECT, "bob", reason="insult")  # meanwhile, on bob's desk
        await pilot.press("a")
        await settle(pilot)
        assert other.get("c2").status is Status.REJECTED
        assert [d.moderator for d in other.history("c2")] == ["bob"]
        assert any("already rejected by bob" in t for t in toasts(app))
        assert "c2" not in shown_ids(app)  # the open queue no longer holds it


async def test_overruling_a_decided_comment_asks_first(app: ModeratorApp, other: Queue) -> None:
    other.decide("c2", Action.REJECT, "bob", reason="insult")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f", "f", "f")  # open -> pending -> flagged -> decided
        await settle(pilot)
        assert shown_ids(app) == ["c2"] and current_id(app) == "c2"
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.question.plain
        assert "comment c2 is already rejected by bob at 2026-11-02T09:30:00Z" in question and "Overrule?" in question
        await pilot.press("n")
        await settle(pilot)
        assert other.get("c2").status is Status.REJECTED and len(other.history("c2")) == 1
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert other.get("c2").status is Status.APPROVED
        overrule = other.history("c2")[-1]
        assert (overrule.action, overrule.moderator, overrule.status_before) == (
            Action.APPROVE,
            "alice",
            Status.REJECTED,
        )


async def test_quit_releases_claims(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        assert other.claimed_by_other("c2", "bob") == "alice"
        await pilot.press("q")
        await pilot.pause()
    assert other.claimed_by_other("c2", "bob") is None


async def test_keys_can_be_remapped_by_binding_id(app: ModeratorApp, other: Queue) -> None:
    app.set_keymap({"approve": "x", "next": "ctrl+n"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n", "x")
        await settle(pilot)
        assert other.get("c3").status is Status.APPROVED
        assert other.get("c2").status is Status.PENDING


async def test_keymap_from_config_reaches_the_desk(tmp_path) -> None:
    """The [keys] table of moderator.toml is handed to make_app, which remaps by binding id."""
    from moderator.tui.app import make_app

    app = make_app(tmp_path / "q.db", "alice", keymap={"approve": "x"})
    async with app.run_test(size=(120, 36)):
        keys = {b.id: b.key for _, b, _, _ in app.screen.active_bindings.values() if getattr(b, "id", None)}
        assert keys.get("approve") == "x"
