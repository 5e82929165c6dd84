"""JSON Lines: one comment object per line, the format exports and scrapers produce most often.

Why line by line: a broken line must cost only that line. Blank lines are skipped; broken JSON, a value that
is not an object, or a bad field becomes a ``Rejected`` with its line number, and the rest is kept.
JSON strings may hold raw control characters (decoded leniently) and are kept verbatim.
Fields and their checks: see :mod:`moderator.ingest.fields`; decoding rule: :mod:`moderator.ingest.common`
(JSONL is UTF-8 by definition, so a line with undecodable bytes in an otherwise UTF-8 file is rejected).
"""

from __future__ import annotations

import json

from moderator.ingest.common import MIXED, ParsedSource, decode_bytes, has_undecodable
from moderator.ingest.fields import RecordBuilder

_DECODER = json.JSONDecoder(strict=False)  # raw control characters inside strings are data, not errors


def parse_jsonl(data: bytes, path: str) -> ParsedSource:
    """Parse a JSONL file's bytes; never raises on bad content."""
    text, encoding = decode_bytes(data)
    builder = RecordBuilder(ParsedSource(path=path, format="jsonl"))
    check_bytes = encoding == MIXED
    decode = _DECODER.decode
    add = builder.add
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            continue
        if check_bytes and has_undecodable(line):
            builder.reject(number, None, "not valid UTF-8 (the rest of the file is)")
            continue
        try:
            record = decode(line)
        except ValueError as exc:
            builder.reject(
                number, None, f"invalid JSON: {getattr(exc, 'msg', exc)} (column {getattr(exc, 'colno', '?')})"
            )
            continue
        except RecursionError:  # a field nested a thousand levels deep: the line is rejected, the file goes on
            builder.reject(number, None, "invalid JSON: nested too deeply")
            continue
        if record.__class__ is not dict:
            builder.reject(number, None, f"expected a JSON object, got {type(record).__name__}")
            continue
        add(record, number)
    return builder.finish()
