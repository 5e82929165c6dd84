"""Forum page dumps: article clean-up, comment splitting, replies, pages, stable ids, shared samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moderator.ingest import ParsedSource, Rejected, detect_format, read_source
from moderator.ingest.forum_dump import split_kicker
from tests.fixtures import SHARED

DATA = Path(__file__).parent / "data"
SAMPLES = SHARED / "samples"


@pytest.fixture(scope="module")
def bahn() -> ParsedSource:
    return read_source(DATA / "forum_bahnstreik_pages.txt")


def test_detects_forum_by_content(tmp_path: Path) -> None:
    copy = tmp_path / "dump.csv"  # a misleading extension: the content decides
    copy.write_bytes((DATA / "forum_bahnstreik_pages.txt").read_bytes())
    assert detect_format(copy) == "forum"


def test_kicker_and_headline_on_separate_lines(bahn: ParsedSource) -> None:
    article = bahn.articles[0]
    assert (article.kicker, article.headline) == ("Tarifkonflikt", "Lokführer streiken erneut im Fernverkehr")
    assert article.teaser.startswith("Die Gewerkschaft der Lokführer ruft")
    assert article.comments_total == 1024  # "1.024" with a thousands separator


def test_article_body_without_captions_credits_gallery_agency(bahn: ParsedSource) -> None:
    body = bahn.articles[0].body
    assert "Streit um die 35-Stunden-Woche" in body  # subheading kept
    assert "Die nächste Verhandlungsrunde ist für den 20.02.2024 angesetzt." in body
    for gone in (
        "Leere Bahnsteige",
        "Foto: Max Mustermann",
        "Fotostrecke",
        "12 Bilder",
        "Chronik eines",
        "SPIEGEL ONLINE",
        "dab/dpa/Reuters",
        "Forum",
    ):
        assert gone not in body


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Energiewende Bundesregierung will bauen", ("Energiewende", "Bundesregierung will bauen")),
        ("Raumfahrt: Sonde erreicht den Jupiter", ("Raumfahrt", "Sonde erreicht den Jupiter")),
        ("Eilmeldung", ("", "Eilmeldung")),
    ],
)
def test_split_kicker(line: str, expected: tuple[str, str]) -> None:
    assert split_kicker(line) == expected


def test_comments_across_two_pages(bahn: ParsedSource) -> None:
    assert [c.number for c in bahn.comments] == [1, 2, 3, 4, 5, 6]
    assert [c.author for c in bahn.comments] == [
        "pendler_koeln",
        "Max Mustermann",
        "pendler_koeln",
        "user.name_42",
        "Max Mustermann",
        "Gewerkschafter 1984",
    ]
    assert bahn.rejected == []


def test_times_dates_titles_and_sources(bahn: ParsedSource) -> None:
    first, _, third, *_, last = bahn.comments
    assert first.posted_at == "2024-02-08T07:15:00"
    assert last.posted_at == "2024-02-08"  # no time in the header
    assert third.title == ""  # "3." alone
    assert first.source == f"{DATA / 'forum_bahnstreik_pages.txt'}:31"


def test_bodies_verbatim_and_not_split_on_date_lines(bahn: ParsedSource) -> None:
    by_number = {c.number: c for c in bahn.comments}
    assert by_number[1].text == "Ich stehe seit einer Stunde am Bahnsteig.\nKeine Durchsage, nichts."
    assert by_number[2].text.endswith("das Chaos nicht.\n\n\n\nIch nehme morgen das Auto.")
    assert by_number[3].text.startswith("Nachtrag: Der Zug fährt laut App am 09.02.2024\n1a. Das ist")
    assert len(by_number[4].text.split("\n\n")) == 3


def test_reply_chain(bahn: ParsedSource) -> None:
    ids = {c.number: c.id for c in bahn.comments}
    parents = {c.number: c.parent_id for c in bahn.comments}
    assert parents == {1: None, 2: ids[1], 3: None, 4: ids[2], 5: ids[4], 6: None}  # "@1", "@ 2", "@4."


def test_ids_are_stable_and_distinct(bahn: ParsedSource) -> None:
    again = read_source(DATA / "forum_bahnstreik_pages.txt")
    assert [c.id for c in again.comments] == [c.id for c in bahn.comments]
    assert again.articles[0].id == bahn.articles[0].id and bahn.articles[0].id.startswith("a-")
    assert len({c.id for c in bahn.comments}) == 6
    assert all(c.article_id == bahn.articles[0].id for c in bahn.comments)


def test_page_with_no_comments() -> None:
    parsed = read_source(DATA / "forum_no_comments.txt")
    article = parsed.articles[0]
    assert (article.kicker, article.headline) == ("Raumfahrt", "Europäische Sonde erreicht den Jupiter")
    assert article.comments_total == 0
    assert article.body == "Die Sonde soll die Eismonde untersuchen. Die Mission kostete 1,6 Milliarden Euro."
    assert parsed.comments == [] and parsed.rejected == []


def test_repeated_page_and_crlf_do_not_duplicate(tmp_path: Path) -> None:
    text = (DATA / "forum_bahnstreik_pages.txt").read_text(encoding="utf-8")
    page = tmp_path / "twice.txt"
    page.write_bytes((text + text).replace("\n", "\r\n").encode("utf-8"))
    parsed = read_source(page)
    assert [c.number for c in parsed.comments] == [1, 2, 3, 4, 5, 6]
    assert parsed.comments[0].text == "Ich stehe seit einer Stunde am Bahnsteig.\nKeine Durchsage, nichts."


def test_markup_controls_and_cp1252_kept(tmp_path: Path) -> None:
    body = "[bold]laut[/] \x1b[31mrot\x1b[0m \x0b\x1c 🙂 Grüße"
    page = tmp_path / "page.txt"
    page.write_bytes(
        f"Politik Eine Schlagzeile\n\nForum - Diskutieren Sie über diesen Artikel\n"
        f"anna 01.02.2024\n1. Titel\n{body}\n".encode("cp1252", "replace")
    )
    assert read_source(page).comments[0].text == body.encode("cp1252", "replace").decode("cp1252")
    page.write_text(f"Politik Eine Schlagzeile\n\nForum - Diskutieren Sie\nanna 01.02.2024\n1. T\n{body}\n")
    assert read_source(page, "forum").comments[0].text == body


def test_comment_without_body_is_rejected(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        "Politik Schlagzeile\n\nForum - Diskutieren Sie über diesen Artikel\n"
        "anna 01.02.2024\n1. Nur Titel\nbert 01.02.2024\n2. Zwei\nText\n",
        encoding="utf-8",
    )
    parsed = read_source(page)
    assert [c.number for c in parsed.comments] == [2]
    assert parsed.rejected == [Rejected(str(page), 4, "text", "comment 1 has no body")]
    assert str(parsed.rejected[0]) == f"{page}:4: field 'text': comment 1 has no body"


def test_empty_dump_is_rejected_not_an_empty_article(tmp_path: Path) -> None:
    page = tmp_path / "empty.txt"
    page.write_text("\n\n", encoding="utf-8")
    parsed = read_source(page)
    assert parsed.articles == [] and parsed.comments == []
    assert [(r.line, r.field) for r in parsed.rejected] == [(1, "headline")]


# -- the shared samples (../shared), skipped when absent --------------------------------------------------
@pytest.mark.shared
def test_shared_sample_matches_expected() -> None:
    sample = SAMPLES / "forum_page_windkraft.txt"
    if not sample.exists():
        pytest.skip("../shared/samples is not available")
    expected = json.loads(sample.with_name("forum_page_windkraft.expected.json").read_text(encoding="utf-8"))
    parsed = read_source(sample)
    article, want = parsed.articles[0], expected["article"]
    assert (article.kicker, article.headline) == (want["kicker"], want["headline"])
    assert article.teaser.startswith(want["teaser_starts_with"])
    assert all(part in article.body for part in want["body_must_contain"])
    assert not any(part in article.body for part in want["body_must_not_contain"])
    assert article.comments_total == want["comments_total_announced"]
    _check_comments(parsed, expected["comments"])


def _check_comments(parsed: ParsedSource, expected: list[dict[str, object]]) -> None:
    assert len(parsed.comments) == len(expected)
    ids = {c.number: c.id for c in parsed.comments}
    for comment, want in zip(parsed.comments, expected, strict=True):
        assert (comment.number, comment.author, comment.posted_at, comment.title) == (
            want["number"],
            want["author"],
            want["date"],
            want["title"],
        )
        if "body_paragraphs" in want:
            assert len(comment.text.split("\n\n")) == want["body_paragraphs"]
        reply_to = want.get("reply_to")
        assert comment.parent_id == (ids[reply_to] if isinstance(reply_to, int) else None)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["chipfabrik", "mietpreisbremse", "rentenalter"])
def test_shared_pages_match_labels(name: str) -> None:
    page = SAMPLES / "pages" / f"{name}.txt"
    if not page.exists():
        pytest.skip("../shared/samples/pages is not available")
    labels = json.loads(page.with_suffix(".labels.json").read_text(encoding="utf-8"))
    parsed = read_source(page)
    assert parsed.articles[0].headline == labels["headline"]
    assert parsed.rejected == []
    got = [(c.number, c.author, c.title) for c in parsed.comments]
    assert got == [(c["number"], c["author"], c["title"]) for c in labels["comments"]]
