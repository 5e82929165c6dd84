"""Turning one flat record (a JSONL object or a CSV row) into a Comment, its article_* fields into Articles.

JSONL and CSV carry the same columns, so they share this validation and their rejections read alike.
Kept lean on purpose: it runs once per record and ingest must manage well over 20k comments per second.

Fields: ``text`` (required, non-blank string), ``article_id`` (required; string or int), ``id`` (string or
int; missing -> content hash), ``author``, ``title``, ``posted_at`` (ISO date/datetime, normalised),
``parent_id`` (string or int), ``number`` (int), ``article_title``, ``article_kicker``, ``article_teaser``,
``article_body``. Empty strings and nulls count as absent. Unknown fields are ignored.

A record with ``"type": "article"`` registers an article without comments (what ``PUT /v1/articles/{id}`` of
`moderator serve` takes, so a CMS feed can be replayed): ``id`` and ``headline`` required, ``kicker``,
``teaser``, ``body``, ``url`` optional. Comments of the same file merge into it, first non-empty field winning.
"""

from __future__ import annotations

import re
from typing import Any

from moderator.ingest.common import ParsedSource, Rejected, comment_id, normalise_datetime
from moderator.records import Article, Comment

MAX_NUMBER = 2**63 - 1  # SQLite's INTEGER
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ARTICLE_FIELDS = (
    ("article_title", "headline"),
    ("article_kicker", "kicker"),
    ("article_teaser", "teaser"),
    ("article_body", "body"),
)

ARTICLE_RECORD_FIELDS = ("headline", "kicker", "teaser", "body", "url")


class BadField(Exception):
    """A field of one record is wrong; carries the field name and the reason."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _kind(value: object) -> str:
    """A JSON-ish name for a value's type, for messages ("number", "list", ...)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else type(value).__name__


def _text(record: dict[str, Any], name: str) -> str:
    """An optional string field; absent, null and "" all give ""."""
    value = record.get(name)
    if value is None:
        return ""
    if value.__class__ is str:
        return _checked(name, value)
    raise BadField(name, f"expected a string, got {_kind(value)}")


def _checked(name: str, value: str) -> str:
    """A string that can be stored: a lone surrogate (JSON's "\\ud800") is no text and no database takes it."""
    if _LONE_SURROGATE.search(value):
        raise BadField(name, "holds a lone surrogate (\\ud800-\\udfff), which is not text")
    return value


def _ident(record: dict[str, Any], name: str) -> str:
    """An identifier: a string, or an integer written as one."""
    value = record.get(name)
    if value is None or value.__class__ is str:
        return _checked(name, value.strip()) if value else ""
    if value.__class__ is int:
        return str(value)
    raise BadField(name, f"expected a string or integer, got {_kind(value)}")


def _number(record: dict[str, Any]) -> int | None:
    value = record.get("number")
    if value is None or value == "":
        return None
    if value.__class__ is str and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if value.__class__ is int:
        if not 0 <= value <= MAX_NUMBER:
            raise BadField("number", f"out of range (0 to {MAX_NUMBER}): {value}")
        return int(value)
    raise BadField("number", f"expected an integer, got {value!r}")


def _posted_at(record: dict[str, Any]) -> str:
    raw = _text(record, "posted_at")
    if not raw:
        return ""
    iso = normalise_datetime(raw)
    if iso is None:
        raise BadField("posted_at", f"not an ISO 8601 date or datetime: {raw!r}")
    return iso


class RecordBuilder:
    """Collects Comments, Rejections and the merged Articles of one file."""

    def __init__(self, result: ParsedSource) -> None:
        self.result = result
        self._articles: dict[str, dict[str, str]] = {}

    def reject(self, line: int, field: str | None, reason: str) -> None:
        self.result.rejected.append(Rejected(self.result.path, line, field, reason))

    def add(self, record: dict[str, Any], line: int) -> None:
        """Validate one record; a good one becomes a Comment (or an article), a bad one a Rejected naming the field."""
        try:
            if record.get("type") == "article":
                self._article_record(record)
            else:
                self.result.comments.append(self._comment(record, line))
        except BadField as bad:
            self.reject(line, bad.field, bad.reason)

    def _article_record(self, record: dict[str, Any]) -> None:
        """An article on its own line: id and headline required, the rest optional."""
        aid = _ident(record, "id")
        if not aid:
            raise BadField("id", "missing (an article record needs its id)")
        fields = {attr: _text(record, attr) for attr in ARTICLE_RECORD_FIELDS}
        if not fields["headline"].strip():
            raise BadField("headline", "missing")
        known = self._articles.setdefault(aid, dict.fromkeys(ARTICLE_RECORD_FIELDS, ""))
        for attr, value in fields.items():
            if not known[attr]:
                known[attr] = value

    def _comment(self, record: dict[str, Any], line: int) -> Comment:
        text = record.get("text")
        if text is None or text == "":
            raise BadField("text", "missing")
        if text.__class__ is not str:
            raise BadField("text", f"expected a string, got {_kind(text)}")
        if text.isspace():
            raise BadField("text", "empty (only whitespace)")
        _checked("text", text)
        article = _ident(record, "article_id")
        if not article:
            raise BadField("article_id", "missing")
        author, title, posted_at, number = (
            _text(record, "author"),
            _text(record, "title"),
            _posted_at(record),
            _number(record),
        )
        cid = _ident(record, "id") or comment_id(article, number, author, posted_at, title, text)
        parent = _ident(record, "parent_id") or None
        self._merge_article(article, record)
        return Comment(
            id=cid,
            article_id=article,
            text=text,
            author=author,
            title=title,
            number=number,
            posted_at=posted_at,
            parent_id=parent,
            source=f"{self.result.path}:{line}",
        )

    def _merge_article(self, aid: str, record: dict[str, Any]) -> None:
        """Per field, the first non-empty value seen for this article wins.

        Fields already known are not read again (ingest speed), so their type is only checked while needed.
        """
        known = self._articles.get(aid)
        if known is None:
            self._articles[aid] = {attr: _text(record, name) for name, attr in _ARTICLE_FIELDS} | {"url": ""}
            return
        for name, attr in _ARTICLE_FIELDS:
            if not known[attr]:
                known[attr] = _text(record, name)

    def finish(self) -> ParsedSource:
        """Append the merged articles (in order of first appearance) and return the result."""
        self.result.articles.extend(
            Article(
                id=aid,
                headline=f["headline"],
                kicker=f["kicker"],
                teaser=f["teaser"],
                body=f["body"],
                url=f["url"],
                source=self.result.path,
            )
            for aid, f in self._articles.items()
        )
        return self.result
