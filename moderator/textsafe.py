"""Comment text is data: make it safe to print on a terminal (no ANSI, no control codes, no markup effects).

Used by the CLI's human-readable output and by the TUI, so both show the same literal text.
"""

from __future__ import annotations

import re

# C0 and C1 control characters, DEL, and bidi overrides that can disguise text; newline and tab are kept
# only where the caller allows them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """Replace control characters by visible escapes (``\\x1b``); newlines and tabs survive if asked."""
    pattern = _CONTROL if keep_newlines else _CONTROL_ONE_LINE
    return pattern.sub(_visible, text)


def one_line(text: str, width: int = 0) -> str:
    """A single-line, control-free excerpt, cut to ``width`` characters with an ellipsis when given."""
    flat = printable(" ".join(text.split()), keep_newlines=False)
    if width and len(flat) > width:
        return flat[: max(0, width - 1)] + "…"
    return flat
