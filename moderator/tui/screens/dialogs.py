"""Modal dialogs: confirm (bulk or contested decisions), reject reason, and a moderator's note.

Each returns its answer through `dismiss`, so callers can `await push_screen_wait(...)`.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

PRESET_REASONS = ("insult", "off-topic", "spam", "illegal content")


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no; `y`/`n`, Enter/Escape or the buttons. Defaults to No."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no"),
    ]

    def __init__(self, question: str | Text, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question if isinstance(question, Text) else Text(question)
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog--question")
            with Horizontal(classes="dialog--buttons"):
                yield Button(Text(f"{self.yes} (y)"), variant="primary", id="yes")
                yield Button(Text("No (n)"), id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ReasonScreen(ModalScreen[str | None]):
    """Why a comment is rejected: a preset (keys 1-4 or the list) or free text; Escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="reason_cancel"),
        *(
            Binding(str(n), f"pick({n - 1})", reason, show=False, id=f"reason_{n}")
            for n, reason in enumerate(PRESET_REASONS, start=1)
        ),
    ]

    def __init__(self, title: str = "Reject: why?") -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog--question")
            yield OptionList(
                *(Option(f"{n}  {reason}", id=reason) for n, reason in enumerate(PRESET_REASONS, start=1)),
                id="reasons",
            )
            yield Input(placeholder="or type a reason and press Enter", id="reason-text")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_pick(self, index: int) -> None:
        if not isinstance(self.focused, Input):
            self.dismiss(PRESET_REASONS[index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteScreen(ModalScreen[str | None]):
    """A free-text note for the audit log; Enter saves, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="note_cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Note on this comment (kept in the log)", classes="dialog--question")
            yield Input(placeholder="note text, Enter to save", id="note-text")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
