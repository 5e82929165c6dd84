"""What every input format shares: the rejection record, stable ids, text decoding and date normalisation.

Kept apart from the format modules so the forum, JSONL and CSV parsers produce identical ids and identical
error messages for the same problem.

Encoding decision (all formats): a file is decoded as UTF-8 (a BOM is dropped). If that fails and *no*
multi-byte UTF-8 sequence in it is valid, the file is a legacy Windows export and is decoded as cp1252 as a
whole. If some of it is valid UTF-8 and some is not, the file is "mostly UTF-8 with a few broken records": it
is decoded with ``surrogateescape`` and the records holding undecodable bytes are rejected (never guessed).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from moderator.records import Article, Comment

UTF8 = "utf-8"
CP1252 = "cp1252"
MIXED = "utf-8+invalid"  # mostly UTF-8; records with undecodable bytes (lone surrogates) must be rejected

_NON_ASCII_VALID = re.compile(r"[^\x00-\x7f\udc80-\udcff]")
_SURROGATE = re.compile(r"[\udc80-\udcff]")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2}))?(?:\s*Uhr)?")


@dataclass(frozen=True)
class Rejected:
    """One bad record: where it is (file and physical line), which field, and why."""

    path: str
    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.field:
            return f"{where}: field {self.field!r}: {self.reason}"
        return f"{where}: {self.reason}"


@dataclass
class ParsedSource:
    """Everything read from one input file: good records and the bad ones, each with its place."""

    path: str
    format: str
    articles: list[Article] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def short_hash(*parts: object) -> str:
    """A 16-hex-digit sha1 of the parts; a unit separator keeps ("ab", "c") apart from ("a", "bc")."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(joined.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def article_id(kicker: str, headline: str) -> str:
    """The id of a forum article: the same kicker and headline always give the same id."""
    return "a-" + short_hash(kicker, headline)[:12]


def comment_id(article: str, number: int | None, author: str, posted_at: str, title: str, text: str) -> str:
    """The id of a comment without one of its own: a content hash, so re-parsing yields the same id."""
    return "c-" + short_hash(article, number, author, posted_at, title, text)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a whole file by the rule in the module docstring.

    Returns:
        The text and the encoding used: ``UTF8``, ``CP1252`` or ``MIXED`` (text holds lone surrogates where
        bytes were undecodable; see :func:`has_undecodable`).
    """
    try:
        return data.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError:
        pass
    escaped = data.decode("utf-8-sig", errors="surrogateescape")
    if not _NON_ASCII_VALID.search(escaped):
        try:
            return data.decode(CP1252), CP1252
        except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d, ...): not cp1252 either
            pass
    return escaped, MIXED


def has_undecodable(text: str) -> bool:
    """Whether a record decoded in ``MIXED`` mode holds bytes that were not valid UTF-8."""
    return _SURROGATE.search(text) is not None


def normalise_datetime(value: str) -> str | None:
    """ISO 8601 for a date or datetime string (ISO or German ``DD.MM.YYYY[ HH:MM]``); None if unparsable.

    A bare date stays a date (``2021-05-12``); a datetime keeps its precision and offset.
    """
    value = value.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        pass
    match = _GERMAN_DATE.fullmatch(value)
    if not match:
        return None
    day, month, year, hour, minute = match.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day)).isoformat()
        return datetime(int(year), int(month), int(day), int(hour), int(minute)).isoformat()
    except ValueError:
        return None
