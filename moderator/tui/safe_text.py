"""Comment text is data: every string from the queue reaches the screen through here.

Rich markup (``[bold]``), ANSI escapes and other control characters in a comment, author, title or headline
must show literally and do nothing. We never build markup strings from data: we build `rich.text.Text`
objects (which do not parse markup) from text whose control characters were replaced by visible escapes
(``\\x1b``) by `moderator.textsafe`, the same helper the CLI prints with. Highlights are applied by span.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.style import Style, StyleType
from rich.text import Text

from moderator.textsafe import one_line, printable


def safe_line(value: str, style: StyleType = "", width: int = 0) -> Text:
    """One line of data as literal Text: whitespace folded, control characters escaped, cut to ``width``."""
    return Text(one_line(value, width), style=style, no_wrap=True, end="")


def safe_block(value: str, style: StyleType = "") -> Text:
    """A multi-line block of data as literal Text: newlines and tabs kept, other control characters escaped."""
    return Text(printable(value, keep_newlines=True).expandtabs(4), style=style)


def comment_text(
    value: str,
    *,
    toxic_words: Iterable[str] = (),
    passage: str = "",
    toxic_style: Style | str = "bold reverse",
    passage_style: Style | str = "underline",
) -> Text:
    """A comment body with the scorer's evidence marked by span: its toxic words and its off-topic passage.

    Matching is done on the escaped text, so offsets stay right when the comment holds control characters.
    """
    text = safe_block(value)
    plain = text.plain
    if passage:
        needle = printable(passage.strip(), keep_newlines=True).expandtabs(4)
        start = plain.find(needle) if needle else -1
        if start >= 0:
            text.stylize(passage_style, start, start + len(needle))
    for word in toxic_words:
        if not word:
            continue
        pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
        for match in pattern.finditer(plain):
            text.stylize(toxic_style, match.start(), match.end())
    return text
