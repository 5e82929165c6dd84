"""Reading input files into records: forum page dumps, JSONL and CSV.

Why a package of its own: every format ends in the same `Article` and `Comment` records plus a list of
`Rejected` records (file, line, field, reason), so the store and the CLI never care where comments came from.
Parsing only; storing is `moderator.store`'s job.
"""

from __future__ import annotations

from pathlib import Path

from moderator.ingest.common import MIXED, ParsedSource, Rejected, decode_bytes

__all__ = ["FORMATS", "ParsedSource", "Rejected", "detect_format", "read_source"]

FORMATS = ("forum", "jsonl", "csv")
_SNIFF_BYTES = 8192
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "csv"}


def detect_format(path: Path) -> str:
    """'forum', 'jsonl' or 'csv', judged by the first bytes; the extension only breaks ties.

    A JSON object on the first line means JSONL; a first line naming the ``text`` and ``article_id``
    columns means CSV; anything else is taken for a forum page dump.
    """
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith("{"):
        return "jsonl"
    from moderator.ingest.csv_format import header_names

    if {"text", "article_id"} <= set(header_names(text)):
        return "csv"
    from moderator.ingest.forum_dump import FORUM_MARKER

    if any(FORUM_MARKER.match(line) for line in text.split("\n")):
        return "forum"
    return _EXTENSIONS.get(Path(path).suffix.lower(), "forum")


def read_source(path: Path, fmt: str | None = None) -> ParsedSource:
    """Parse one file; bad records land in ``rejected`` and never stop the good ones.

    Raises:
        OSError: the file cannot be read.
        ValueError: ``fmt`` is not one of ``FORMATS``.
    """
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    data = Path(path).read_bytes()
    name = str(path)
    if fmt == "forum":
        from moderator.ingest.forum_dump import parse_forum

        text, encoding = decode_bytes(data)
        if encoding == MIXED:  # a dump has no records to reject: show the broken bytes as U+FFFD
            text = data.decode("utf-8-sig", errors="replace")
        return parse_forum(text, name)
    if fmt == "jsonl":
        from moderator.ingest.jsonl import parse_jsonl

        return parse_jsonl(data, name)
    from moderator.ingest.csv_format import parse_csv

    return parse_csv(data, name)
