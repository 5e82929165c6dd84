"""The status bar: queue counts, what this session decided, the active filter and who is moderating."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from moderator.tui.safe_text import safe_line


class StatusBar(Static):
    """One line of counts; updated by the desk after every reload."""

    def show(self, counts: dict[str, int], session: int, shown: int, filters: str, me: str) -> None:
        text = Text(no_wrap=True)
        text.append(f" pending {counts.get('pending', 0)}", style="bold")
        text.append(f" · flagged {counts.get('flagged', 0)}", style="bold")
        text.append(f" · decided this session {session}")
        text.append(f"  │  {shown} shown: ")
        text.append_text(safe_line(filters, width=60))
        text.append("  │  moderator ")
        text.append_text(safe_line(me, "bold", width=30))
        self.update(text)
