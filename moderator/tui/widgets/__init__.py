"""Widgets of the moderator's desk: the lazy queue list, the detail pane and the status bar."""
