"""CSV: the same columns as JSONL, for comments that come out of spreadsheets and CMS exports.

Why its own module: Excel in Germany writes ``;``-separated, often cp1252, often with a BOM, and quoted
fields may span lines. So: the delimiter (``,``, ``;`` or tab) is read off the header row; decoding follows
:mod:`moderator.ingest.common` (UTF-8 with/without BOM, else cp1252 for the whole file); a record's line
number is the physical line where it *starts*. The header must name ``text`` and ``article_id``; other
columns are optional (see :mod:`moderator.ingest.fields`), unknown ones ignored, names case-insensitive.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from moderator.ingest.common import MIXED, ParsedSource, decode_bytes, has_undecodable
from moderator.ingest.fields import RecordBuilder

if TYPE_CHECKING:
    from _csv import Reader

REQUIRED_COLUMNS = ("text", "article_id")
_DELIMITERS = (",", ";", "\t")


def sniff_delimiter(header: str) -> str:
    """The delimiter used most in the header row; ``,`` when none is."""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def first_line(text: str) -> str:
    """The header row: up to the first line end of any kind (old Mac exports end lines with a bare CR)."""
    return (text.splitlines() or [""])[0]


def header_names(header: str) -> list[str]:
    """The column names of a header row, lower-cased and stripped."""
    header = first_line(header)
    row = next(csv.reader([header], delimiter=sniff_delimiter(header)), [])
    return [name.strip().lower() for name in row]


def parse_csv(data: bytes, path: str) -> ParsedSource:
    """Parse a CSV file's bytes; a missing required column rejects the file at line 1."""
    text, encoding = decode_bytes(data)
    builder = RecordBuilder(ParsedSource(path=path, format="csv"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line(text)))
    names = [name.strip().lower() for name in next(reader, [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        for column in missing:
            builder.reject(1, column, f"required column missing (header: {', '.join(names) or 'empty'})")
        return builder.finish()
    _read_rows(reader, names, builder, check_bytes=encoding == MIXED)
    return builder.finish()


def _read_rows(reader: Reader, names: list[str], builder: RecordBuilder, *, check_bytes: bool) -> None:
    """Feed each row to the builder with the line it starts on; a CSV syntax error ends the file."""
    end = reader.line_num
    rows = iter(reader)
    while True:
        start = end + 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            builder.reject(start, None, f"CSV syntax error, rest of file skipped: {exc}")
            return
        end = reader.line_num
        if not any(row):
            continue
        if len(row) > len(names):
            builder.reject(start, None, f"{len(row)} fields, but the header has {len(names)}")
        elif check_bytes and any(has_undecodable(value) for value in row):
            builder.reject(start, None, "not valid UTF-8 (the rest of the file is)")
        else:
            builder.add(dict(zip(names, row, strict=False)), start)
