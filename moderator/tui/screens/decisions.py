"""The desk's decisions: approve, reject (with a reason), undo, notes, and bulk decisions on marked rows.

The rules are `moderator.desk`'s, shared with the CLI; this module asks the questions they call for. Every
decision is written at once with the status the screen showed, so a comment decided meanwhile by someone else
is refused (StaleDecision) rather than overwritten. A comment another moderator has open, and an approved or
rejected one (an overrule), are decided only after an explicit confirmation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.notifications import SeverityLevel
from textual.screen import Screen

from moderator.desk import BulkOutcome, Desk
from moderator.records import Action, QueueItem, Status
from moderator.store import StaleDecision, StoreError
from moderator.textsafe import one_line
from moderator.tui.safe_text import safe_line
from moderator.tui.screens.dialogs import ConfirmScreen, NoteScreen, ReasonScreen
from moderator.tui.widgets.queue_list import QueueList

if TYPE_CHECKING:
    from moderator.store import Queue
    from moderator.tui.app import ModeratorApp

VERB = {Action.APPROVE: "Approve", Action.REJECT: "Reject"}


class DecisionsScreen(Screen[None]):
    """The decision actions of `DeskScreen` (its base class), apart from what the desk shows."""

    session_decided: int = 0

    if TYPE_CHECKING:
        app: ModeratorApp

    @property
    def queue(self) -> Queue:
        """The app's Queue, on the UI thread's connection."""
        return self.app.queue

    @property
    def desk(self) -> Desk:
        """The desk's rules for this moderator, on the UI thread's connection."""
        return Desk(self.queue, self.app.moderator)

    def reload(self, keep_id: str | None = None, cursor: int | None = None) -> None:
        raise NotImplementedError

    def say(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float | None = None
    ) -> None:
        """A toast whose text may hold data (ids, names, a search): shown literally, never as markup."""
        self.notify(one_line(message, 400), title=title, severity=severity, timeout=timeout, markup=False)

    def _current(self) -> QueueItem | None:
        item = self.query_one(QueueList).current
        if item is None:
            self.say("No comment selected.", severity="warning")
        return item

    async def _claim_ok(self, item: QueueItem, verb: str) -> bool:
        """True unless another moderator has the comment open and we decline to decide over them."""
        other = self.desk.holder(item.comment.id)
        if not other:
            return True
        question = Text(f"{verb} anyway? This comment is open by ")
        question.append_text(safe_line(other, "bold", width=40))
        question.append(" right now.")
        answer: bool = await self.app.push_screen_wait(ConfirmScreen(question, yes=verb))
        return answer

    async def _overrule_ok(self, item: QueueItem, verb: str) -> bool:
        """True unless the comment is approved or rejected and we decline to overrule that decision."""
        refusal = self.desk.would_overrule(item.comment.id, item.status)
        if refusal is None:
            return True
        question = Text(f"{one_line(str(refusal), 300)}. Overrule?")
        answer: bool = await self.app.push_screen_wait(ConfirmScreen(question, yes=verb))
        return answer

    def action_approve(self) -> None:
        self._decide_one(Action.APPROVE)

    def action_reject(self) -> None:
        self._decide_one(Action.REJECT)

    @work(exclusive=True, group="decide")
    async def _decide_one(self, action: Action) -> None:
        item = self._current()
        if item is None or not await self._claim_ok(item, VERB[action]):
            return
        if not await self._overrule_ok(item, VERB[action]):
            return
        reason: str | None = ""
        if action is Action.REJECT:
            reason = await self.app.push_screen_wait(ReasonScreen())
            if reason is None:
                return
        index = self.query_one(QueueList).cursor
        if self._write(item, action, reason or ""):
            self.session_decided += 1
            self._after_decision(index, item.comment.id)

    def _write(self, item: QueueItem, action: Action, reason: str) -> bool:
        """Write one decision now (an overrule was confirmed before); on refusal, say why and show the row as it is."""
        try:
            self.desk.decide(item.comment.id, action, reason=reason, seen=item.status, overrule=item.status.is_decided)
        except StaleDecision as exc:
            self.say(str(exc), title="Not saved: decided meanwhile", severity="error", timeout=8)
            self.reload(keep_id=item.comment.id)
            return False
        except StoreError as exc:
            self.say(str(exc), title="Not saved", severity="error", timeout=8)
            return False
        return True

    def _after_decision(self, index: int, decided_id: str) -> None:
        """Reload and put the cursor on the next open comment at or after where the decided one was."""
        self.reload(cursor=index)
        ql = self.query_one(QueueList)
        nxt = next(
            (i for i, it in ql.cache.loaded() if i >= index and it.status.is_open and it.comment.id != decided_id), None
        )
        if nxt is not None:
            ql.cursor = nxt

    def action_undo(self) -> None:
        try:
            decision = self.desk.undo()
        except StoreError as exc:
            self.say(str(exc), title="Nothing undone", severity="warning")
            return
        self.session_decided = max(0, self.session_decided - 1)
        self.reload(keep_id=decision.comment_id)
        self.say(f"Undone: {decision.comment_id} is {decision.status_after.value} again", timeout=3)

    @work(exclusive=True, group="decide")
    async def action_note(self) -> None:
        item = self._current()
        if item is None:
            return
        text = await self.app.push_screen_wait(NoteScreen())
        if text:
            self.desk.note(item.comment.id, text)
            self.reload(keep_id=item.comment.id)
            self.say("Note saved.", timeout=2)

    def action_approve_marked(self) -> None:
        self._decide_marked(Action.APPROVE)

    def action_reject_marked(self) -> None:
        self._decide_marked(Action.REJECT)

    def action_clear_marks(self) -> None:
        self.query_one(QueueList).marked.clear()
        self.query_one(QueueList).refresh()

    @work(exclusive=True, group="decide")
    async def _decide_marked(self, action: Action) -> None:
        ql = self.query_one(QueueList)
        marked = dict(ql.marked)
        if not marked:
            self.say("Nothing selected: mark comments with space first.", severity="warning")
            return
        reason: str | None = ""
        if action is Action.REJECT:
            reason = await self.app.push_screen_wait(ReasonScreen(f"Reject {len(marked)} selected: why?"))
            if reason is None:
                return
        overrules = sum(1 for shown in marked.values() if shown.is_decided)
        if not await self.app.push_screen_wait(
            ConfirmScreen(self._bulk_question(marked, action, reason or "", overrules), yes=VERB[action])
        ):
            return
        outcome = self.desk.decide_many(marked, action, reason=reason or "", overrule=overrules > 0)
        ql.marked.clear()
        self.session_decided += len(outcome.decided)
        self.reload(cursor=ql.cursor)
        self._say_bulk(outcome, action)

    def _bulk_question(self, marked: dict[str, Status], action: Action, reason: str, overrules: int) -> str:
        """Confirm a bulk decision, saying how many of the comments are open elsewhere or already decided."""
        others = sum(1 for cid in marked if self.desk.holder(cid))
        question = f"{VERB[action]} {len(marked)} selected comment{'s' if len(marked) != 1 else ''}"
        question += f" as “{reason}”?" if reason else "?"
        if others:
            question += f" ({others} of them open by another moderator.)"
        if overrules:
            question += f" ({overrules} of them already decided: this overrules them.)"
        return question

    def _say_bulk(self, outcome: BulkOutcome, action: Action) -> None:
        """What a bulk decision did, and why any comment was refused."""
        done = len(outcome.decided)
        message = f"{VERB[action]}d {done}." if action is Action.APPROVE else f"Rejected {done}."
        if outcome.refused:
            reasons = "; ".join(refusal.reason for refusal in outcome.refused[:3])
            message += f" {len(outcome.refused)} refused: {reasons}"
        self.say(message, severity="warning" if outcome.refused else "information", timeout=6)
