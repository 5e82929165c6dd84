"""The store's refusals, in one place so every face can catch them without importing the store's parts.

Each message is meant for the moderator: the CLI prints it, the desk shows it as a toast.
"""

from __future__ import annotations


class StoreError(Exception):
    """A request the queue refuses; the message is meant for the moderator."""


class StaleDecision(StoreError):
    """The comment was decided by someone else since it was shown."""
