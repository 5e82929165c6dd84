"""evaluate_records and read_eval_file on a tiny file whose metrics were worked out by hand."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from moderator import metrics
from moderator.records import Article, Comment, Scores
from moderator.scoring.evaluate import evaluate_records, read_eval_file

# text -> (toxicity, off_topic) the stub scorer returns
SCORES = {"a": (0.9, 0.1), "b": (0.4, 0.1), "c": (0.3, 0.1), "d": (0.2, 0.1), "e": (0.1, 0.7), "f": (0.1, 0.8)}
LINES = [
    {"text": "a", "toxic": True},
    {"text": "b", "toxic": False},
    {"text": "c", "toxic": True, "off_topic": None},
    {"text": "d", "toxic": False},
    {"text": "e", "off_topic": True, "article_title": "Windkraft", "article_body": "Mehr Windräder"},
    {"text": "f", "off_topic": False, "article_title": "Windkraft"},
]


class StubScorer:
    model_version = "stub-1"
    thresholds = {"toxic": 0.5, "off_topic": 0.5}

    def __init__(self) -> None:
        self.seen: list[tuple[Comment, Article]] = []

    def score(self, pairs: Sequence[tuple[Comment, Article]]) -> list[Scores]:
        self.seen += list(pairs)
        return [Scores(*SCORES[c.text], model_version=self.model_version) for c, _ in pairs]


@pytest.fixture
def eval_file(tmp_path):
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES), encoding="utf-8")
    return path


def test_metrics_match_hand_computation(eval_file) -> None:
    records, errors = read_eval_file(eval_file)
    assert errors == [] and len(records) == 6
    scorer = StubScorer()
    result = evaluate_records(scorer, records)
    assert result["model_version"] == "stub-1"
    tox = result["toxic"]
    # positives 0.9, 0.3 vs negatives 0.4, 0.2: 3 of 4 pairs ordered right
    assert tox["n"] == 4 and tox["roc_auc"] == pytest.approx(0.75)
    # ranking T F T F: precision 1/1 and 2/3 at the hits
    assert tox["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    # at 0.5 only "a" is flagged: P 1, R 1/2, F1 2/3; negative class F1 0.8
    assert (tox["precision"], tox["recall"]) == (pytest.approx(1.0), pytest.approx(0.5))
    assert tox["f1"] == pytest.approx(2 / 3)
    assert tox["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert tox["threshold"] == 0.5
    off = result["off_topic"]
    assert off["n"] == 2 and off["roc_auc"] == pytest.approx(0.0)
    assert off["average_precision"] == pytest.approx(0.5)
    assert off["f1"] == pytest.approx(2 / 3) and off["macro_f1"] == pytest.approx(1 / 3)
    # article text reaches the scorer
    article = scorer.seen[4][1]
    assert article.headline == "Windkraft" and article.body == "Mehr Windräder"


def test_label_without_records_reports_zero(eval_file) -> None:
    records, _ = read_eval_file(eval_file)
    result = evaluate_records(StubScorer(), records[:2])
    assert result["off_topic"]["n"] == 0


def test_bad_lines_are_reported_with_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"text": "ok", "toxic": true}\n'
        "not json\n"
        '{"text": "", "toxic": false}\n'
        '{"text": "x", "toxic": "yes"}\n'
        "\n"
        '{"text": "no label"}\n'
        "[1, 2]\n",
        encoding="utf-8",
    )
    records, errors = read_eval_file(path)
    assert len(records) == 1
    assert [e.split(": ", 1)[0] for e in errors] == [f"{path}:{n}" for n in (2, 3, 4, 6, 7)]
    assert "invalid JSON" in errors[0] and "'toxic' must be true, false or null" in errors[2]


def test_roc_auc_ties_and_single_class() -> None:
    assert metrics.roc_auc([True, False], [0.5, 0.5]) == pytest.approx(0.5)
    assert metrics.roc_auc([True, True], [0.1, 0.2]) is None
    assert metrics.best_threshold([([True, False, True], [0.9, 0.2, 0.6])]) == pytest.approx(0.6)


class PageStub:
    """Scores the Syria page's comments by number: #3 wholly off-topic, #4 drifts (its passage scores high)."""

    model_version = "stub-pages"
    thresholds = {"toxic": 0.5, "off_topic": 0.5}
    BY_NUMBER = {1: (0.1, 0.1, 0.2), 2: (0.2, 0.2, 0.3), 3: (0.1, 0.9, 0.9), 4: (0.1, 0.3, 0.8), 5: (0.6, 0.2, 0.25)}

    def score(self, pairs: Sequence[tuple[Comment, Article]]) -> list[Scores]:
        out = []
        for c, _ in pairs:
            tox, off, passage = self.BY_NUMBER[c.number or 0]
            out.append(Scores(tox, off, self.model_version, passage_off_topic=passage))
        return out


def test_evaluate_pages_splits_drift_from_wholly_off_topic_and_applies_the_policy() -> None:
    from moderator.ingest.labelled_pages import read_labelled_pages
    from moderator.policy import Band, Policy
    from moderator.scoring.evaluate import evaluate_pages
    from tests.fixtures import TEST_DATA

    pages, _ = read_labelled_pages(TEST_DATA / "pages")
    policy = Policy(bands={"toxicity": Band(0.5), "off_topic": Band(0.5), "passage_off_topic": Band(0.7)})
    report = evaluate_pages(PageStub(), pages, policy)
    assert (report["pages"], report["comments"]) == (1, 5)
    assert report["off_topic"]["n"] == 5 and report["off_topic"]["positives"] == 2
    assert report["wholly_off_topic_vs_rest_roc_auc"] == 1.0
    # drift (#4) against on-topic comments of >= 80 words: there are none, so no AUC rather than a made-up one
    assert report["drift"] == {"n": 1, "long_on_topic": 0, "roc_auc_by_passage": None, "roc_auc_by_whole": None}
    # #3 by its whole score, #4 by its passage; #5 (clean by its labels) is queued for its toxicity score
    assert report["policy"]["off_topic_sent_to_human"] == 1.0
    assert report["policy"]["drift_sent_to_human"] == 1.0
    assert report["policy"]["clean_on_topic_auto_approved"] == pytest.approx(2 / 3)


def test_cli_evaluate_reads_a_directory_of_labelled_pages(tmp_path) -> None:
    from click.testing import CliRunner

    from moderator.cli import main
    from tests.fixtures import TEST_DATA

    db = str(tmp_path / "q.db")
    result = CliRunner().invoke(main, ["evaluate", str(TEST_DATA / "pages"), "--model", "lexical-fake", "--db", db])
    assert result.exit_code == 0, result.output
    assert "drift (1) against on-topic comments of >= 80 words (0)" in result.stdout
    assert "policy default: sends" in result.stdout
    data = json.loads(
        CliRunner()
        .invoke(main, ["evaluate", str(TEST_DATA / "pages"), "--model", "lexical-fake", "--json", "--db", db])
        .stdout
    )
    assert data["comments"] == 5 and data["model_version"] == "lexical-fake-1"
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "x.labels.json").write_text("{}")
    bad = CliRunner().invoke(main, ["evaluate", str(tmp_path / "pages"), "--model", "lexical-fake", "--db", db])
    assert bad.exit_code == 1 and "no page x.txt beside it" in bad.stderr


BODY = " ".join(f"Satz {i} des Artikels über den Ausbau der Windkraft in Bayern." for i in range(10))


class TwoHeadStub:
    """A scorer with a body model: 0.4 off-topic for every comment, title threshold 0.5, body threshold 0.3."""

    model_version = "stub-2"
    thresholds = {"toxic": 0.5, "off_topic": 0.5, "off_topic_body": 0.3}

    def score(self, pairs: Sequence[tuple[Comment, Article]]) -> list[Scores]:
        return [Scores(0.1, 0.4, self.model_version) for _ in pairs]


def test_off_topic_is_judged_at_the_threshold_of_the_head_that_scored_it() -> None:
    """0.4 is off-topic under a body (the body model's 0.3) and not under a headline (the title head's 0.5)."""
    records = [
        {"text": "x", "off_topic": True, "article_title": "Windkraft", "article_body": BODY},
        {"text": "y", "off_topic": True, "article_title": "Windkraft"},
        {"text": "z", "off_topic": True, "article_title": "Windkraft", "article_body": "Nur ein kurzer Teaser."},
    ]
    off = evaluate_records(TwoHeadStub(), records)["off_topic"]
    assert off["recall"] == pytest.approx(1 / 3)  # only the comment under the long body is caught
    assert (off["threshold"], off["threshold_under_a_body"], off["n_under_a_body"]) == (0.5, 0.3, 1)


def test_cli_evaluate_names_both_thresholds(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from moderator import cli

    monkeypatch.setattr(cli, "load_scorer_for", lambda settings: TwoHeadStub())
    path = tmp_path / "e.jsonl"
    path.write_text(
        json.dumps({"text": "x", "off_topic": True, "article_title": "W", "article_body": BODY})
        + "\n"
        + json.dumps({"text": "y", "off_topic": False, "article_title": "W"})
        + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli.main, ["evaluate", str(path), "--db", str(tmp_path / "q.db")])
    assert result.exit_code == 0, result.output
    assert "off-topic: 1 of 2 under an article body, judged by the body model at 0.3000" in result.stdout
    assert "the rest by the title head at 0.5000" in result.stdout


class ThreeHeadStub(TwoHeadStub):
    """TwoHeadStub with a teaser model whose threshold is 0.35."""

    thresholds = {**TwoHeadStub.thresholds, "off_topic_teaser": 0.35}


def test_under_a_teaser_off_topic_is_judged_at_the_teaser_models_threshold() -> None:
    """0.4 is off-topic under a body (0.3) and a teaser (0.35), not under a headline alone (0.5)."""
    records = [
        {"text": "x", "off_topic": True, "article_title": "Windkraft", "article_body": BODY},
        {"text": "y", "off_topic": True, "article_title": "Windkraft"},
        {
            "text": "z",
            "off_topic": True,
            "article_title": "Windkraft",
            "article_body": "Nur ein kurzer Teaser zur Lage.",
        },
    ]
    off = evaluate_records(ThreeHeadStub(), records)["off_topic"]
    assert off["recall"] == pytest.approx(2 / 3)
    assert (off["threshold_under_a_teaser"], off["n_under_a_teaser"], off["n_under_a_body"]) == (0.35, 1, 1)
    assert "n_under_a_teaser" not in evaluate_records(TwoHeadStub(), records)["off_topic"]


def test_cli_evaluate_names_the_teaser_models_threshold(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from moderator import cli

    monkeypatch.setattr(cli, "load_scorer_for", lambda settings: ThreeHeadStub())
    path = tmp_path / "e.jsonl"
    lines = [
        {"text": "x", "off_topic": True, "article_title": "W", "article_body": BODY},
        {"text": "y", "off_topic": False, "article_title": "W"},
        {"text": "z", "off_topic": False, "article_title": "Windkraft", "article_body": "Ein kurzer Teaser zur Lage."},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["evaluate", str(path), "--db", str(tmp_path / "q.db")])
    assert result.exit_code == 0, result.output
    assert (
        "off-topic: 1 of 3 under an article body, judged by the body model at 0.3000; "
        "1 under a teaser, by the teaser model at 0.3500; the rest by the title head at 0.5000"
    ) in result.stdout
