"""Command palette (ctrl+p) commands for the desk: every filter, and the actions that have keys too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from moderator.tui.data import STATUS_CYCLE

if TYPE_CHECKING:
    from moderator.tui.screens.desk import DeskScreen

STATUS_HELP = {
    "open": "pending and flagged: what still needs a human",
    "pending": "not yet looked at by anyone",
    "flagged": "queued for a human by a policy",
    "decided": "approved or rejected",
    "all": "every comment",
}


class DeskCommands(Provider):
    """Filters by status, label and article; search; decisions; help."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        desk = cast("DeskScreen", self.screen)

        def status(value: str) -> Callable[[], object]:
            return lambda: desk.set_filters(replace(desk.filters, status=value))

        def label(value: str | None) -> Callable[[], object]:
            return lambda: desk.set_filters(replace(desk.filters, label=value))

        commands: list[tuple[str, str, Callable[[], object]]] = [
            (f"Filter: {value}", STATUS_HELP[value], status(value)) for value in STATUS_CYCLE
        ]
        commands += [
            (
                f"Filter: toxicity ≥ {desk.filters.edge('toxicity'):g}",
                "only comments the scorer finds toxic",
                label("toxicity"),
            ),
            (
                f"Filter: off-topic ≥ {desk.filters.edge('off_topic'):g}",
                "only comments that stray from the article",
                label("off_topic"),
            ),
            ("Filter: any label", "drop the label filter", label(None)),
            (
                "Filter: this article",
                "only comments under the selected comment's article",
                lambda: None if desk.filters.article_id else desk.action_toggle_article_filter(),
            ),
            (
                "Filter: all articles",
                "drop the article filter",
                lambda: desk.set_filters(replace(desk.filters, article_id=None, article_headline="")),
            ),
            ("Search", "search text, author and title as you type", desk.action_search),
            ("Clear search", "show the listing without the search", desk.action_clear_search),
            ("Approve", "approve the selected comment", desk.action_approve),
            ("Reject", "reject the selected comment, with a reason", desk.action_reject),
            ("Undo", "revert your last decision", desk.action_undo),
            ("Note", "add a note to the selected comment's log", desk.action_note),
            ("Approve selected", "approve every marked comment", desk.action_approve_marked),
            ("Reject selected", "reject every marked comment", desk.action_reject_marked),
            ("Clear selection", "unmark every marked comment", desk.action_clear_marks),
            ("Toggle article body", "show or hide the article text", desk.action_toggle_body),
            ("Help", "list every key", desk.action_help),
        ]
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
