"""The desk's rules, shared by the CLI and the TUI: stale and overruled decisions, bulk decisions, claims."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderator.clock import iso
from moderator.desk import CLAIM_TTL_S, AlreadyDecided, Desk, renewal_due
from moderator.records import Action, Status, claim_is_live
from moderator.store import Queue, StaleDecision, StoreError


def test_deciding_an_open_comment_needs_no_overrule(queue: Queue) -> None:
    decision = Desk(queue, "ana").decide("c2", "reject", reason="insult", seen=Status.PENDING)
    assert (decision.status_before, decision.status_after, decision.reason) == (
        Status.PENDING,
        Status.REJECTED,
        "insult",
    )


def test_an_overrule_is_refused_with_who_decided_and_when(queue: Queue) -> None:
    Desk(queue, "ana").decide("c2", "reject")
    for seen in (None, Status.REJECTED):
        with pytest.raises(AlreadyDecided) as refused:
            Desk(queue, "ben").decide("c2", "approve", seen=seen)
        assert str(refused.value) == "comment c2 is already rejected by ana at 2026-11-02T09:30:00Z"
    with pytest.raises(AlreadyDecided):
        Desk(queue, "ana").decide("c2", "approve")  # by anyone, one's own decision too
    assert queue.require("c2").status is Status.REJECTED and len(queue.history("c2")) == 1


def test_an_asked_for_overrule_is_decided_and_logged(queue: Queue) -> None:
    Desk(queue, "ana").decide("c2", "reject")
    desk = Desk(queue, "ben")
    assert isinstance(desk.would_overrule("c2", Status.REJECTED), AlreadyDecided)
    decision = desk.decide("c2", "approve", seen=Status.REJECTED, overrule=True)
    assert (decision.status_before, decision.status_after, decision.moderator) == (
        Status.REJECTED,
        Status.APPROVED,
        "ben",
    )
    assert desk.would_overrule("c1", Status.PENDING) is None


def test_a_stale_status_wins_over_an_overrule(queue: Queue) -> None:
    """Shown pending, rejected meanwhile: the moderator never saw the decision, so it is stale, not an overrule."""
    Desk(queue, "ana").decide("c2", "reject")
    desk = Desk(queue, "ben")
    assert desk.would_overrule("c2", Status.PENDING) is None
    for overrule in (False, True):
        with pytest.raises(StaleDecision, match="already rejected by ana"):
            desk.decide("c2", "approve", seen=Status.PENDING, overrule=overrule)
    assert queue.require("c2").status is Status.REJECTED


def test_bulk_decides_what_it_may_and_says_why_it_refused_the_rest(queue: Queue) -> None:
    Desk(queue, "ana").decide("c1", "approve")
    seen = {"c1": Status.PENDING, "c2": Status.PENDING, "c3": Status.PENDING, "nope": None}
    outcome = Desk(queue, "ben").decide_many(seen, Action.REJECT, reason="spam")
    assert [d.comment_id for d in outcome.decided] == ["c2", "c3"]
    assert [(r.comment_id, type(r.error)) for r in outcome.refused] == [("c1", StaleDecision), ("nope", StoreError)]
    assert "already approved by ana" in outcome.refused[0].reason
    assert outcome.refused[1].reason == "no comment with id 'nope'"
    assert [queue.require(c).status for c in ("c1", "c2", "c3")] == [Status.APPROVED, Status.REJECTED, Status.REJECTED]


def test_bulk_overrules_only_when_asked(queue: Queue) -> None:
    Desk(queue, "ana").decide("c1", "approve")
    desk = Desk(queue, "ben")
    refused = desk.decide_many(["c1", "c2"], "reject")
    assert [r.comment_id for r in refused.refused] == ["c1"] and isinstance(refused.refused[0].error, AlreadyDecided)
    forced = desk.decide_many(["c1"], "reject", overrule=True)
    assert [d.status_before for d in forced.decided] == [Status.APPROVED] and not forced.refused


def test_undo_and_notes_are_the_moderators_own(queue: Queue) -> None:
    desk = Desk(queue, "ana")
    desk.decide("c2", "reject")
    desk.note("c2", "check with legal")
    assert desk.undo().action is Action.REVERT
    assert queue.require("c2").status is Status.PENDING
    assert [d.action for d in queue.history("c2")] == [Action.REJECT, Action.NOTE, Action.REVERT]
    with pytest.raises(StoreError, match="nothing of ben's to undo"):
        Desk(queue, "ben").undo()


def test_claims_expire_and_show_who_holds_them(queue: Queue, clock) -> None:
    assert Desk(queue, "ana").claim("c1") is None
    assert Desk(queue, "ben").claim("c1") == "ana"
    assert queue.claimed_by_other("c1", "ben") == "ana"
    assert Desk(queue, "ben").holder("c1") == "ana"
    assert queue.require("c1").claimed_by == "ana"
    clock.advance(301)
    assert Desk(queue, "ben").claim("c1") is None
    Desk(queue, "ben").release()
    assert queue.require("c1").claimed_by == ""


def test_a_moderator_holds_one_comment_at_a_time(queue: Queue) -> None:
    desk = Desk(queue, "ana")
    desk.claim("c1")
    desk.claim("c2")
    assert (queue.require("c1").claimed_by, queue.require("c2").claimed_by) == ("", "ana")


def test_a_claim_holds_until_its_last_second_and_is_renewed_halfway(queue: Queue, clock) -> None:
    start = clock.now
    Desk(queue, "ana").claim("c1")
    item = queue.require("c1")
    assert item.claimed_until == iso(start + timedelta(seconds=CLAIM_TTL_S))
    just_before = start + timedelta(seconds=CLAIM_TTL_S - 1)
    at_expiry = start + timedelta(seconds=CLAIM_TTL_S)
    assert claim_is_live(item.claimed_until, just_before) and not claim_is_live(item.claimed_until, at_expiry)
    assert item.held_by_other("ben", just_before) == "ana" and item.held_by_other("ana", just_before) == ""
    assert item.held_by_other("ben", at_expiry) == ""
    assert not claim_is_live("", start)
    assert not renewal_due(start, start + timedelta(seconds=CLAIM_TTL_S / 2))
    assert renewal_due(start, start + timedelta(seconds=CLAIM_TTL_S / 2 + 1))
