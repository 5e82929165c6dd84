"""Write the README's screenshot of the desk: `python -m moderator.tui.screenshot QUEUE_DB docs/screenshot.svg`.

Runs the real app headless at 120x36 with a fixed clock, optionally with a colleague holding one comment
(to show the lock) and a few keys pressed first, then saves an SVG with `App.save_screenshot`.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path

from moderator.desk import Desk
from moderator.store import Queue, QueueFilter, open_db
from moderator.tui.app import make_app


async def shoot(db: Path, out: Path, *, moderator: str, at: datetime, keys: list[str], claim_as: str) -> str:
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


def main() -> None:
    parser = argparse.ArgumentParser(description="Save an SVG screenshot of `moderator review`.")
    parser.add_argument("db", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--moderator", default="alice")
    parser.add_argument("--at", default="2023-06-14T12:00:00+00:00", help="the clock, ISO 8601 (ages are from it)")
    parser.add_argument("--keys", default="space", help="keys to press first, comma-separated")
    parser.add_argument("--claim-as", default="bob", help="a colleague who holds the third comment ('' for none)")
    args = parser.parse_args()
    keys = [k for k in args.keys.split(",") if k]
    path = asyncio.run(
        shoot(
            args.db,
            args.out,
            moderator=args.moderator,
            at=datetime.fromisoformat(args.at),
            keys=keys,
            claim_as=args.claim_as,
        )
    )
    print(path)


if __name__ == "__main__":
    main()
