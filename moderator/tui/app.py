"""The moderator's desk app: a thin shell holding the database path, the moderator and the clock.

`make_app` serves both `moderator review` and the tests; handlers live in the desk screen and its widgets.
The app's own `Queue` belongs to the UI thread; thread workers open theirs with `worker_queue()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from textual.app import App

from moderator.clock import utc_now
from moderator.desk import Desk, WordsOnOpen
from moderator.policy import Policy
from moderator.store import Queue, open_db
from moderator.tui.screens.desk import DeskScreen

Clock = Callable[[], datetime]


class ModeratorApp(App[None]):
    """`moderator review`: one moderator's desk over one queue.db."""

    CSS_PATH = "moderator.tcss"
    TITLE = "moderator review"

    def __init__(
        self,
        db_path: Path,
        moderator: str,
        *,
        clock: Clock | None = None,
        policy: Policy | None = None,
        words: WordsOnOpen | None = None,
    ) -> None:
        super().__init__()
        self.words = words  # computes a comment's pending words when it is opened; None: `moderator show` does
        self.db_path = Path(db_path)
        self.moderator = moderator
        self.policy = policy or Policy()  # its review edges decide what the desk shows as high
        self.clock: Clock = clock or utc_now
        self.queue = Queue(open_db(self.db_path), clock=self.clock)
        self.sub_title = moderator

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def worker_queue(self) -> Iterator[Queue]:
        """A Queue on a fresh connection for the calling thread (a sqlite connection is per thread)."""
        queue = Queue(open_db(self.db_path), clock=self.clock)
        try:
            yield queue
        finally:
            queue.db.conn.close()

    def on_mount(self) -> None:
        self.push_screen(DeskScreen())

    def release_and_exit(self) -> None:
        """Quit, dropping this moderator's claims so colleagues can pick the comments up at once."""
        Desk(self.queue, self.moderator).release()
        self.exit()


def make_app(
    db_path: Path,
    moderator: str,
    *,
    clock: Clock | None = None,
    keymap: dict[str, str] | None = None,
    policy: Policy | None = None,
    words: WordsOnOpen | None = None,
) -> ModeratorApp:
    """The desk for `moderator review` and for tests; ``keymap`` maps binding ids to keys ([keys] in config)."""
    app = ModeratorApp(db_path, moderator, clock=clock, policy=policy, words=words)
    if keymap:
        app.set_keymap(keymap)
    return app


def run_review(
    db_path: Path,
    moderator: str,
    keymap: dict[str, str] | None = None,
    policy: Policy | None = None,
    words: WordsOnOpen | None = None,
) -> None:
    """Run the desk in the terminal until the moderator quits (decisions are already saved by then)."""
    app = make_app(db_path, moderator, keymap=keymap, policy=policy, words=words)
    try:
        app.run()
    finally:
        Desk(app.queue, moderator).release()
