"""The help screen: every key the desk answers to, read from the live bindings (so remapped keys show)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "The queue is ordered by risk (the worst of toxicity and off-topic). Decisions are saved at once; "
    "undo appends a revert. Comments open by another moderator show a lock; decisions on them ask first."
)


def help_rows(bindings: Iterable[ActiveBinding], key_display: Callable[[Binding], str]) -> list[tuple[str, str]]:
    """(keys, description) per action, keys of one action joined: ``j / ↓  Next``."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for active in bindings:
        binding: Binding = active.binding
        if not binding.description or not binding.id:
            continue  # only the desk's own keys (all have ids); not the scroll keys a ScrollView inherits
        grouped.setdefault((binding.action, binding.description), []).append(key_display(binding))
    return [(" / ".join(dict.fromkeys(keys)), desc) for (_action, desc), keys in grouped.items()]


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; any of Escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help_close")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        text = Text("Keys\n\n", style="bold")
        width = max((len(keys) for keys, _ in self.rows), default=4) + 2
        for keys, description in self.rows:
            text.append(f"{keys:>{width}}  ", style="bold")
            text.append(f"{description}\n")
        text.append(f"\n{INTRO}\n\nctrl+p opens the command palette: filters, selection and more.", style="dim")
        with VerticalScroll(classes="dialog", id="help"):
            yield Static(text)
