"""JSONL and CSV: good records survive bad ones, rejections name file, line and field, encodings, speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moderator.ingest import FORMATS, ParsedSource, Rejected, detect_format, read_source
from moderator.ingest.common import CP1252, MIXED, UTF8, decode_bytes, normalise_datetime

DATA = Path(__file__).parent / "data"


def _where(parsed: ParsedSource) -> list[tuple[int, str | None]]:
    return [(r.line, r.field) for r in parsed.rejected]


# -- JSONL ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def jsonl() -> ParsedSource:
    return read_source(DATA / "comments_good_and_bad.jsonl")


def test_jsonl_rejections_have_exact_lines_and_fields(jsonl: ParsedSource) -> None:
    assert jsonl.format == "jsonl"
    assert _where(jsonl) == [
        (4, None),
        (5, None),
        (6, "text"),
        (7, "text"),
        (8, "posted_at"),
        (9, "article_id"),
        (11, "text"),
        (13, "number"),
    ]
    path = str(DATA / "comments_good_and_bad.jsonl")
    assert str(jsonl.rejected[2]) == f"{path}:6: field 'text': missing"
    assert str(jsonl.rejected[3]) == f"{path}:7: field 'text': expected a string, got number"
    assert str(jsonl.rejected[1]) == f"{path}:5: expected a JSON object, got list"
    assert str(jsonl.rejected[0]).startswith(f"{path}:4: invalid JSON")


def test_jsonl_good_records_survive(jsonl: ParsedSource) -> None:
    assert [c.id for c in jsonl.comments][:2] == ["k-1", "2"]  # an int id becomes a string
    assert [c.source.rsplit(":", 1)[1] for c in jsonl.comments] == ["1", "2", "10", "12", "14", "15"]
    first, second, reply, markup, german_date, _ = jsonl.comments
    assert (first.author, first.title, first.number) == ("nordlicht", "Endlich", 1)
    assert first.posted_at == "2021-05-12"
    assert second.text == "Wer zahlt das?\n\nDie Netzentgelte steigen."
    assert reply.parent_id == "2" and reply.id.startswith("c-")  # no id: a content hash
    assert reply.posted_at == "2021-05-12T09:00:00+00:00"  # "Z" normalised
    assert markup.text == "[bold]LAUT[/] \x1b[31mrot\x1b[0m 🙂 <script>x</script>"
    assert german_date.posted_at == "2023-03-14T10:05:00"


def test_jsonl_articles_merge_first_non_empty(jsonl: ParsedSource) -> None:
    wind, rente = jsonl.articles
    assert (wind.id, wind.kicker) == ("art-wind", "Energiewende")
    assert wind.headline == "Windräder schneller genehmigen"
    assert wind.teaser == "Die Regierung will Tempo."
    assert wind.body == "Der Entwurf sieht eine Stichtagsregelung vor."
    assert rente.headline == "Rente mit 69?"  # the first non-empty title wins over a later one
    assert rente.source == str(DATA / "comments_good_and_bad.jsonl")


def test_jsonl_hash_ids_are_stable(jsonl: ParsedSource) -> None:
    again = read_source(DATA / "comments_good_and_bad.jsonl", "jsonl")
    assert [c.id for c in again.comments] == [c.id for c in jsonl.comments]


def test_jsonl_bom_crlf_and_raw_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"article_id": 7, "text": "a\x07b\\u001b[1m"}\r\n\r\n{"article_id": "7", "text": "x"}'
    )
    parsed = read_source(path)
    assert [c.text for c in parsed.comments] == ["a\x07b\x1b[1m", "x"]
    assert parsed.articles[0].id == "7" and parsed.rejected == []


def test_jsonl_undecodable_line_in_utf8_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    good = '{"article_id": "a", "text": "Grüße"}'.encode()
    path.write_bytes(good + b"\n" + '{"article_id": "a", "text": "Käse"}'.encode("latin-1") + b"\n" + good)
    parsed = read_source(path)
    assert [c.text for c in parsed.comments] == ["Grüße", "Grüße"]
    assert parsed.rejected == [Rejected(str(path), 2, None, "not valid UTF-8 (the rest of the file is)")]


def test_jsonl_whole_cp1252_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes('{"article_id": "a", "text": "Käse – 5 €"}\n'.encode("cp1252"))
    assert read_source(path).comments[0].text == "Käse – 5 €"


def test_jsonl_huge_comment_kept_whole(tmp_path: Path) -> None:
    text = "Ä" * 1_000_000 + "\x1b[0m"
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"article_id": "a", "text": text}, ensure_ascii=False), encoding="utf-8")
    assert read_source(path).comments[0].text == text


def test_jsonl_100k_lines_all_parse(tmp_path: Path) -> None:
    """Volume, not speed: the speed target lives in scripts/bench_ingest.py, never in a timed test."""
    record = {
        "article_id": "a1",
        "article_title": "Titel",
        "author": "u",
        "posted_at": "2021-05-12T08:30:00",
        "title": "T",
        "text": "Ein ganz normaler Kommentar mit Umlauten äöü. " * 3,
    }
    lines = [json.dumps({**record, "id": f"c{i}", "number": i}, ensure_ascii=False) for i in range(100_000)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    parsed = read_source(path)
    assert len(parsed.comments) == 100_000 and parsed.rejected == []
    assert parsed.comments[-1].id == "c99999" and parsed.comments[-1].number == 99_999


# -- CSV --------------------------------------------------------------------------------------------------
def test_csv_bom_multiline_and_bad_rows() -> None:
    parsed = read_source(DATA / "comments_bom.csv")
    assert parsed.format == "csv"
    assert [c.id for c in parsed.comments] == ["c1", "c2", "c6"]
    # the physical line each record starts on
    assert [c.source.rsplit(":", 1)[1] for c in parsed.comments] == ["2", "3", "10"]
    assert _where(parsed) == [(6, "text"), (7, "posted_at"), (8, None)]
    first, second, _ = parsed.comments
    assert first.text == "Erster Kommentar, mit Komma"
    assert second.text == 'Zeile eins\r\n\r\nZeile drei "zitiert"' and second.parent_id == "c1"
    assert parsed.articles[0].headline == "Lokführer streiken"


def test_csv_semicolon_cp1252_excel() -> None:
    path = DATA / "comments_excel_semicolon_cp1252.csv"
    assert detect_format(path) == "csv"
    parsed = read_source(path)
    assert [(c.author, c.number, c.posted_at) for c in parsed.comments] == [
        ("Jürgen", 1, "2021-09-21"),
        ("Käthe", 2, "2021-09-21"),
    ]
    assert parsed.comments[0].text == "Mieter müssen rügen – ganz formlos"
    assert parsed.comments[1].text == "Größer; mit Semikolon\r\nund zweiter Zeile"
    assert _where(parsed) == [(5, "number")]
    assert parsed.articles[0].headline == "Mietpreisbremse gestärkt"


def test_csv_missing_required_column() -> None:
    parsed = read_source(DATA / "comments_missing_column.csv")
    assert parsed.comments == [] and _where(parsed) == [(1, "article_id")]


def test_csv_undecodable_row_in_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("text,article_id\nGrüße,a\n".encode() + "Käse,a\n".encode("latin-1") + b"ok,a\n")
    parsed = read_source(path)
    assert [c.text for c in parsed.comments] == ["Grüße", "ok"] and _where(parsed) == [(3, None)]


# -- detection, decoding, dates ---------------------------------------------------------------------------
def test_detect_format_by_content(tmp_path: Path) -> None:
    jsonl_as_txt = tmp_path / "export.txt"
    jsonl_as_txt.write_text('\n{"article_id": "a", "text": "x"}\n', encoding="utf-8")
    csv_as_txt = tmp_path / "export.dat"
    csv_as_txt.write_text("id;Text;article_id\n1;x;a\n", encoding="utf-8")
    assert (detect_format(jsonl_as_txt), detect_format(csv_as_txt)) == ("jsonl", "csv")
    assert FORMATS == ("forum", "jsonl", "csv")
    with pytest.raises(ValueError, match="unknown format"):
        read_source(csv_as_txt, "xml")


def test_decode_bytes_rule() -> None:
    assert decode_bytes("Grüße".encode()) == ("Grüße", UTF8)
    assert decode_bytes(b"\xef\xbb\xbfx") == ("x", UTF8)
    assert decode_bytes("Grüße €".encode("cp1252")) == ("Grüße €", CP1252)
    assert decode_bytes("ä".encode() + b"\xe4")[1] == MIXED


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2021-05-12", "2021-05-12"),
        ("2021-05-12 08:30", "2021-05-12T08:30:00"),
        ("2021-05-12T08:30:00+02:00", "2021-05-12T08:30:00+02:00"),
        ("12.05.2021", "2021-05-12"),
        ("12.05.2021, 08:30 Uhr", "2021-05-12T08:30:00"),
        ("2021-13-01", None),
        ("gestern", None),
    ],
)
def test_normalise_datetime(raw: str, iso: str | None) -> None:
    assert normalise_datetime(raw) == iso


GOOD = b'{"id":"good","article_id":"a","text":"bleibt"}'


@pytest.mark.parametrize(
    ("line", "where"),
    [
        # an ignored field nested 1,000 levels deep (RecursionError in the JSON decoder)
        (('{"id":"n","article_id":"a","text":"t","x":' + "[" * 1000 + "]" * 1000 + "}").encode(), "nested too deeply"),
        (b'{"id":"s2","article_id":"a","text":"x \\ud800"}', "field 'text': holds a lone surrogate"),
        (b'{"id":"s3","article_id":"a","text":"t","author":"\\udfff"}', "field 'author': holds a lone surrogate"),
        (b'{"id":"big","article_id":"a","text":"t","number":100000000000000000000}', "field 'number': out of range"),
    ],
)
def test_hostile_jsonl_lines_are_rejected_by_line_and_field_and_the_good_ones_stored(
    tmp_path: Path, line: bytes, where: str
) -> None:
    from moderator.store import Queue, open_db

    path = tmp_path / "hostile.jsonl"
    path.write_bytes(line + b"\n" + GOOD + b"\n")
    parsed = read_source(path)
    assert [c.id for c in parsed.comments] == ["good"]
    assert [str(r) for r in parsed.rejected] == [str(r) for r in parsed.rejected if r.line == 1]
    assert where in str(parsed.rejected[0])
    queue = Queue(open_db(None))
    assert queue.add(parsed.articles, parsed.comments).new_comments == 1  # nothing left that the store refuses


def test_csv_numbers_out_of_range_or_not_ascii_digits_cost_one_row(tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    path.write_bytes("id,article_id,text,number\nc1,a,hi,²\nc2,a,ok,99999999999999999999\nc3,a,fine,3\n".encode())
    parsed = read_source(path)
    assert [(c.id, c.number) for c in parsed.comments] == [("c3", 3)]
    assert [(r.line, r.field) for r in parsed.rejected] == [(2, "number"), (3, "number")]


def test_an_old_mac_csv_with_bare_cr_line_ends_is_detected_and_read(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    path.write_bytes(b"id,article_id,text\rc1,a,hi\r")
    assert detect_format(path) == "csv"
    parsed = read_source(path)
    assert [(c.id, c.text) for c in parsed.comments] == [("c1", "hi")] and parsed.rejected == []
