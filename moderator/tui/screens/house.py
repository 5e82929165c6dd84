"""The house's statistics (key `s`): how the scores separate what this desk's moderators approved and rejected.

The same figures as `moderator calibrate` (moderator.house, read in a thread worker on its own connection):
per label ROC-AUC, precision and recall at the policy's bands, counts, warnings where too few decisions back a
figure, and text histograms of the scores by decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from moderator.house import HouseError, house_report, human_decisions
from moderator.house.render import report_lines

if TYPE_CHECKING:
    from moderator.tui.app import ModeratorApp


class HouseScreen(ModalScreen[None]):
    """A modal report; Escape, q or s closes it."""

    BINDINGS = [Binding("escape,q,s", "dismiss", "Close", id="house_close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="house"):
            yield Static(Text("Reading the house's decisions…", style="dim"), id="house-report")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        app: ModeratorApp = self.app  # type: ignore[assignment]
        with app.worker_queue() as queue:
            try:
                lines = report_lines(house_report(human_decisions(queue), app.policy), histograms=True)
                text = Text("The house's line\n\n", style="bold")
                text.append("\n".join(lines))
            except HouseError as exc:
                text = Text(f"The house's line\n\n{exc}.", style="bold")
        app.call_from_thread(self.query_one("#house-report", Static).update, text)
