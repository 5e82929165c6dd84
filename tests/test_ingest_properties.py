"""Property tests of ingest: random bytes never raise, and good records among them are never lost.

A hostile or broken export must cost only its broken records: whatever bytes a JSONL or CSV file holds,
`read_source` returns (it never raises), and every well-formed record in it comes out as a comment.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderator.ingest import read_source
from moderator.store import Queue, open_db

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x85\u2028\u2029"),
    min_size=1,
    max_size=40,
).filter(lambda t: not t.isspace())


@SETTINGS
@given(data=st.binary(max_size=600), fmt=st.sampled_from(["jsonl", "csv"]))
def test_random_bytes_never_raise_and_what_parses_can_be_stored(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / f"random.{fmt}"
    path.write_bytes(data)
    parsed = read_source(path, fmt)
    assert all(r.line >= 1 for r in parsed.rejected)
    Queue(open_db(None)).add(parsed.articles, parsed.comments)  # nothing parsed is refused by the store


@SETTINGS
@given(
    texts=st.lists(TEXT, min_size=1, max_size=8),
    junk=st.lists(st.binary(max_size=60).filter(lambda b: b"\n" not in b and b"\r" not in b), max_size=8),
)
def test_good_jsonl_records_survive_any_junk_lines_between_them(
    tmp_path: Path, texts: list[str], junk: list[bytes]
) -> None:
    good = [json.dumps({"id": f"g{i}", "article_id": "a", "text": t}).encode() for i, t in enumerate(texts)]
    lines = []
    for i, line in enumerate(good):
        lines.append(line)
        if i < len(junk):
            lines.append(b"{" + junk[i])  # an opening brace makes it (almost always) broken JSON, not a record
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = read_source(path, "jsonl")
    assert {f"g{i}" for i in range(len(texts))} <= {c.id for c in parsed.comments}
    assert {c.id: c.text for c in parsed.comments if c.id.startswith("g")} == {f"g{i}": t for i, t in enumerate(texts)}


@SETTINGS
@given(
    texts=st.lists(TEXT.filter(lambda t: '"' not in t), min_size=1, max_size=8),
    junk=st.lists(
        st.text(max_size=40).filter(lambda t: not set(t) & set('"\r\n\x85\u2028\u2029') and not t.startswith("g")),
        max_size=8,
    ),
)
def test_good_csv_rows_survive_any_unquoted_junk_rows_between_them(
    tmp_path: Path, texts: list[str], junk: list[str]
) -> None:
    """Junk rows without quotes cost only themselves (an unclosed quote, by CSV's rules, takes the rest with it)."""
    lines = ["id,article_id,text"]
    for i, text in enumerate(texts):
        lines.append(f'g{i},a,"{text}"')
        if i < len(junk):
            lines.append(junk[i])
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = read_source(path, "csv")
    assert {c.id: c.text for c in parsed.comments if c.id.startswith("g")} == {f"g{i}": t for i, t in enumerate(texts)}
