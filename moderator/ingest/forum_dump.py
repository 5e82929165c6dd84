"""Forum page dumps: the text of a news article page with its reader forum, as copied from the browser.

Why a parser of its own: moderators get threads as such dumps, and off-topic scoring needs the article
*clean* (no captions, galleries, agency lines or site footer) beside the comments.

Format, top to bottom::

    <kicker> <headline>            (or kicker and headline on two lines, or "Kicker: Headline")
    <teaser paragraph>
    <caption> / <photo credit> / <caption again>        -- removed
    <body paragraphs, subheadings kept>
    Fotostrecke / "9  Bilder" / <gallery title>          -- removed
    SPIEGEL ONLINE / ase/dpa/AFP                         -- removed
    Forum - Diskutieren Sie über diesen Artikel
    insgesamt 214 Beiträge                               -> Article.comments_total
    Alle Kommentare öffnen / Seite 1                     -- navigation, ends a comment
    <author> <DD.MM.YYYY>[ HH:MM]                        -- comment header (author may hold . _ digits spaces)
    <n>. <title>                                         -- title may be empty ("5.")
    <body lines, blank lines between paragraphs>
    ... more comments, more pages ("Seite 2") ...
    © SPIEGEL ONLINE 2021 / Alle Rechte vorbehalten / ... -- site footer, removed

A comment header counts only when the next line is its "<n>." line, so a body line ending in a date is not
taken for a header. A title or body starting with "@2" (also "@ 2", "@2.") replies to comment 2.
Comment bodies are verbatim: only trailing whitespace of lines and blank lines around the body are trimmed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from moderator.ingest.common import ParsedSource, Rejected, article_id, comment_id
from moderator.records import Article, Comment

FORUM_MARKER = re.compile(r"^\s*Forum\s*[-–—]\s*Diskutieren Sie", re.IGNORECASE)
_TOTAL = re.compile(r"^\s*insgesamt\s+(\d[\d.]*)\s+Beitr", re.IGNORECASE)
_HEADER = re.compile(
    r"^(?P<author>\S.{0,59}?)\s+(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"
    r"(?:,?\s+(?:um\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?:\s*Uhr)?)?$"
)
_NUMBER = re.compile(r"^(?P<number>\d+)\.(?:\s+(?P<title>.*))?$")
_REPLY = re.compile(r"^\s*@\s?(\d+)(?!\d)")
_NAVIGATION = re.compile(r"^\s*(?:Alle Kommentare öffnen|Seite \d+(?:\s*(?:von|/)\s*\d+)?)\s*$")
_FOOTER = re.compile(
    r"^\s*(?:©|\(c\)\s|Alle Rechte vorbehalten|Vervielfältigung nur|Die Homepage wurde aktualisiert"
    r"|Hinweis nicht mehr anzeigen)"
)
_AGENCY = re.compile(
    r"^\s*(?:SPIEGEL ONLINE|SPIEGEL\+|[a-z]{2,4}(?:/[A-Za-z][\w-]{1,12})+"
    r"|(?:dpa|AFP|Reuters|AP|KNA|epd|SID|dpa-AFX)(?:/[A-Za-z][\w-]{1,12})*)\s*$"
)
_GALLERY = re.compile(r"^\s*Fotostrecke\s*$")
_GALLERY_COUNT = re.compile(r"^\s*\d+\s+Bild(?:er)?\s*$")
_CREDIT = re.compile(r"^\s*Fotos?:\s")
_MAX_AUTHOR_WORDS = 4


def parse_forum(text: str, path: str) -> ParsedSource:
    """Parse one forum page dump (already decoded) into its article and comments."""
    lines = [line.rstrip(" \t\r") for line in text.split("\n")]
    marker = next((i for i, line in enumerate(lines) if FORUM_MARKER.match(line)), len(lines))
    kicker, headline, teaser, body = parse_article(lines[:marker])
    result = ParsedSource(path=path, format="forum")
    if not headline:  # an empty file or a bare thread: comments without their article cannot be judged
        result.rejected.append(Rejected(path, 1, "headline", "no article headline before the forum"))
        return result
    aid = article_id(kicker, headline)
    comments = _parse_thread(lines, marker, aid, path, result.rejected)
    result.articles.append(
        Article(
            id=aid,
            headline=headline,
            kicker=kicker,
            teaser=teaser,
            body=body,
            comments_total=_announced_total(lines[marker:]),
            source=path,
        )
    )
    result.comments.extend(_link_replies(comments))
    return result


# -- article ------------------------------------------------------------------------------------------
def parse_article(lines: list[str]) -> tuple[str, str, str, str]:
    """Split the article part into kicker, headline, teaser and body (boilerplate removed).

    Returns:
        ``(kicker, headline, teaser, body)``; paragraphs of the body are separated by a blank line.
    """
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines):
        return "", "", "", ""
    first = lines[start].strip()
    second = lines[start + 1].strip() if start + 1 < len(lines) else ""
    if second and _looks_like_kicker(first) and not _is_boilerplate(second):
        kicker, headline, rest = first, second, lines[start + 2 :]
    else:
        kicker, headline = split_kicker(first)
        rest = lines[start + 1 :]
    paragraphs = _paragraphs(_drop_boilerplate(rest))
    teaser = paragraphs[0] if paragraphs else ""
    return kicker, headline, teaser, "\n\n".join(paragraphs[1:])


def split_kicker(line: str) -> tuple[str, str]:
    """Split a one-line "Kicker Headline": "Kicker: Headline" at the colon, else after the first word.

    Kickers on these pages are one (often compound) word, "Energiewende", "Mietpreisbremse"; a line of a
    single word is a headline without kicker.
    """
    head, sep, tail = line.partition(": ")
    if sep and len(head.split()) <= 3 and tail:
        return head.strip(), tail.strip()
    words = line.split(maxsplit=1)
    if len(words) < 2:
        return "", line
    return words[0], words[1].strip()


def _looks_like_kicker(line: str) -> bool:
    """A line standing alone above the headline: short and not a sentence."""
    return len(line.split()) <= 3 and len(line) <= 40 and not line.endswith((".", "!", "?", ":"))


def _is_boilerplate(line: str) -> bool:
    return bool(_AGENCY.match(line) or _FOOTER.match(line) or _NAVIGATION.match(line) or _GALLERY.match(line))


def _drop_boilerplate(lines: list[str]) -> list[str]:
    """Blank out captions (a line repeated around its photo credit), credits, galleries, agency and footer."""
    seen: dict[str, int] = {}
    for line in lines:
        if line.strip():
            seen[line.strip()] = seen.get(line.strip(), 0) + 1
    kept = list(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if seen[stripped] > 1:
            kept[i] = ""
            if i + 1 < len(lines) and _looks_like_credit(lines[i + 1]):
                kept[i + 1] = ""
        elif _is_boilerplate(stripped) or _CREDIT.match(stripped):
            kept[i] = ""
        if _GALLERY.match(stripped):
            _drop_gallery(lines, i, kept)
    return kept


def _drop_gallery(lines: list[str], at: int, kept: list[str]) -> None:
    """After "Fotostrecke": the "N Bilder" line and the gallery title right below it."""
    i = at + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines) and _GALLERY_COUNT.match(lines[i]):
        kept[i] = ""
        if i + 1 < len(lines):
            kept[i + 1] = ""


def _looks_like_credit(line: str) -> bool:
    """A photo credit: "dpa", "Getty Images", "REUTERS", "Foto: Max Muster"."""
    line = line.strip()
    return bool(line) and len(line) <= 40 and len(line.split()) <= 4 and not line.endswith((".", "!", "?"))


def _paragraphs(lines: list[str]) -> list[str]:
    """Runs of non-blank lines, each joined by newlines."""
    paragraphs: list[str] = []
    run: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            run.append(line)
        elif run:
            paragraphs.append("\n".join(run).strip())
            run = []
    return paragraphs


# -- thread -------------------------------------------------------------------------------------------
@dataclass
class _Draft:
    """A comment while its body lines are still being read."""

    line: int  # 1-based line of the header
    author: str
    posted_at: str
    number: int
    title: str
    body: list[str] = field(default_factory=list)


def _announced_total(lines: list[str]) -> int | None:
    for line in lines:
        match = _TOTAL.match(line)
        if match:
            return int(match.group(1).replace(".", ""))
    return None


def _parse_thread(lines: list[str], start: int, aid: str, path: str, rejected: list[Rejected]) -> list[Comment]:
    """Read comments from the forum marker on; a comment ends at the next header, navigation or footer."""
    comments: list[Comment] = []
    draft: _Draft | None = None
    i = start
    while i < len(lines):
        header = _header_at(lines, i)
        if header is not None or _ends_comment(lines[i]):
            if draft is not None:
                _finish(draft, aid, path, comments, rejected)
            draft = header
            i += 2 if header is not None else 1
            continue
        if draft is not None:
            draft.body.append(lines[i])
        i += 1
    if draft is not None:
        _finish(draft, aid, path, comments, rejected)
    return comments


def _ends_comment(line: str) -> bool:
    return any(p.match(line) for p in (_NAVIGATION, _FOOTER, FORUM_MARKER, _TOTAL))


def _header_at(lines: list[str], i: int) -> _Draft | None:
    """A comment header at line ``i``: "<author> <date>[ <time>]" followed by "<n>. <title>"."""
    match = _HEADER.match(lines[i])
    if match is None or i + 1 >= len(lines):
        return None
    number = _NUMBER.match(lines[i + 1])
    author = match.group("author").strip()
    if number is None or len(author.split()) > _MAX_AUTHOR_WORDS:
        return None
    posted_at = _posted_at(match)
    if posted_at is None:
        return None
    return _Draft(
        line=i + 1,
        author=author,
        posted_at=posted_at,
        number=int(number.group("number")),
        title=(number.group("title") or "").strip(),
    )


def _posted_at(match: re.Match[str]) -> str | None:
    """ISO date, or datetime when the header gives a time; None for an impossible date."""
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    try:
        if match["hour"] is None:
            return date(year, month, day).isoformat()
        return datetime(year, month, day, int(match["hour"]), int(match["minute"])).isoformat()
    except ValueError:
        return None


def _finish(draft: _Draft, aid: str, path: str, comments: list[Comment], rejected: list[Rejected]) -> None:
    """Trim blank lines around the body and turn the draft into a Comment (or a rejection if empty)."""
    body = draft.body
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    if not body:
        rejected.append(Rejected(path, draft.line, "text", f"comment {draft.number} has no body"))
        return
    text = "\n".join(body)
    cid = comment_id(aid, draft.number, draft.author, draft.posted_at, draft.title, text)
    comments.append(
        Comment(
            id=cid,
            article_id=aid,
            text=text,
            author=draft.author,
            title=draft.title,
            number=draft.number,
            posted_at=draft.posted_at,
            source=f"{path}:{draft.line}",
        )
    )


def _link_replies(comments: list[Comment]) -> list[Comment]:
    """Drop repeats (the same comment on two pages) and point "@n" replies at comment n of the thread."""
    unique: dict[str, Comment] = {}
    for c in comments:
        unique.setdefault(c.id, c)
    by_number: dict[int, str] = {}
    for c in unique.values():
        if c.number is not None:
            by_number.setdefault(c.number, c.id)
    linked = []
    for c in unique.values():
        target = _reply_target(c)
        parent = by_number.get(target) if target is not None and target != c.number else None
        linked.append(replace(c, parent_id=parent) if parent else c)
    return linked


def _reply_target(comment: Comment) -> int | None:
    match = _REPLY.match(comment.title) or _REPLY.match(comment.text)
    return int(match.group(1)) if match else None
