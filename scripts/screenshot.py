"""Write the README's screenshot of the desk: `python scripts/screenshot.py QUEUE_DB docs/screenshot.svg`.

Runs the real app headless at 120x36 with a fixed clock, optionally with a colleague holding one comment
(to show the lock) and a few keys pressed first, then saves an SVG with `App.save_screenshot`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import click

from moderator.desk import Desk
from moderator.store import Queue, QueueFilter, open_db
from moderator.tui.app import make_app


async def shoot(db: Path, out: Path, *, moderator: str, at: datetime, keys: list[str], claim_as: str) -> str:
    """Run the desk headless on ``db``, press ``keys``, save the SVG to ``out``; returns its path."""
    if claim_as:
        other = Queue(open_db(db), clock=lambda: at)
        rows = other.items(QueueFilter(status="open"), limit=3)
        if len(rows) == 3:
            Desk(other, claim_as).claim(rows[2].comment.id)
        other.db.conn.close()
    app = make_app(db, moderator, clock=lambda: at)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.3)
        await pilot.press(*keys)
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        return app.save_screenshot(filename=out.name, path=str(out.parent))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("db", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--moderator", default="alice", show_default=True)
@click.option(
    "--at", default="2023-06-14T12:00:00+00:00", show_default=True, help="The clock, ISO 8601 (ages are from it)."
)
@click.option("--keys", default="space", show_default=True, help="Keys to press first, comma-separated.")
@click.option(
    "--claim-as", default="bob", show_default=True, help="A colleague who holds the third comment ('' for none)."
)
def main(db: Path, out: Path, moderator: str, at: str, keys: str, claim_as: str) -> None:
    """Save an SVG screenshot of `moderator review`."""
    pressed = [k for k in keys.split(",") if k]
    path = asyncio.run(
        shoot(db, out, moderator=moderator, at=datetime.fromisoformat(at), keys=pressed, claim_as=claim_as)
    )
    click.echo(path)


if __name__ == "__main__":
    main()
