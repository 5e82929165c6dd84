"""A small progress line on stderr (count, rate, ETA) for long jobs; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import IO


class Progress:
    """Counts work done and redraws one stderr line at most ten times a second."""

    def __init__(
        self, label: str, total: int | None = None, *, stream: IO[str] | None = None, enabled: bool | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self._last_draw = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and (now - self._last_draw > 0.1 or self.done == self.total):
            self._last_draw = now
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate()
        if self.total:
            eta = (self.total - self.done) / rate if rate > 0 else 0.0
            return (
                f"{self.label}: {self.done}/{self.total} ({100 * self.done / self.total:.0f}%) "
                f"{rate:,.1f}/s ETA {int(eta // 60)}:{int(eta % 60):02d}"
            )
        return f"{self.label}: {self.done} {rate:,.1f}/s"

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + self.line() + "\x1b[K\n")
            self.stream.flush()
