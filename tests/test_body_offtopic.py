"""Off-topic under an article with a body: the features, the worst passage, and the labelled-page reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from moderator.ingest.labelled_pages import read_labelled_pages
from moderator.records import Article
from moderator.scoring.body_offtopic import (
    BODY,
    MIN_BODY_SENTENCES,
    TEASER,
    TITLE,
    ArticleVectors,
    Background,
    article_sentences,
    body_features,
    reading,
    relative_similarity,
    worst_passage,
)
from tests.fixtures import TEST_DATA

AXES = np.eye(4)  # four orthogonal "topics": 0 the article's, 1-3 other news


def test_a_comment_the_article_explains_is_closer_to_it_than_to_other_news() -> None:
    article = ArticleVectors(full=AXES[0], sentences=np.stack([AXES[0], AXES[0], AXES[0]]))
    background = Background(articles=AXES[1:], topics=AXES[1:])
    on_topic, other_news = AXES[0], AXES[2]
    assert relative_similarity(on_topic, article, background) > 0 > relative_similarity(other_news, article, background)
    features = body_features(on_topic, article, background, toxicity_logit=-2.0)
    assert features.tolist() == [1.0, 1.0 - 0.0, 1.0 - 0.0, -2.0]


def test_the_worst_passage_is_the_one_no_article_sentence_explains() -> None:
    article = ArticleVectors(full=AXES[0], sentences=np.stack([AXES[0]] * 3))
    background = Background(articles=AXES[1:], topics=AXES[1:])
    opening, wander = AXES[0], (AXES[0] * 0.2 + AXES[3]) / np.linalg.norm(AXES[0] * 0.2 + AXES[3])
    index, value = worst_passage([opening, wander], article, background)
    assert index == 1 and value < 0
    assert worst_passage([], article, background)[0] == -1


def test_the_body_model_applies_only_where_the_article_has_a_full_body() -> None:
    assert article_sentences(Article(id="a", headline="Nur eine Schlagzeile")) == []
    sentence = "Die Regierung will die Genehmigungen für Windräder beschleunigen."
    teaser = Article(id="a", headline="H", body=" ".join([sentence] * (MIN_BODY_SENTENCES - 1)))
    assert article_sentences(teaser) == []  # a short body is the teaser model's
    body = "Kurz.\n" + " ".join([sentence] * MIN_BODY_SENTENCES)
    assert article_sentences(Article(id="a", headline="H", body=body)) == [sentence] * MIN_BODY_SENTENCES


def test_labelled_pages_are_read_with_their_labels_in_thread_order() -> None:
    pages, problems = read_labelled_pages(TEST_DATA / "pages")
    assert problems == []
    (page,) = pages
    assert page.name == "syrien" and page.article.headline.startswith("Kerry und Lawrow")
    assert [c.number for c in page.comments] == [1, 2, 3, 4, 5]
    assert [(lab.off_topic, lab.drift) for lab in page.labels][2:4] == [(True, False), (True, True)]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("{not json", "bad.labels.json:1: invalid JSON"),
        (json.dumps({"comments": [{"number": "1"}]}), "comments[0]: field 'number': expected an integer"),
        (json.dumps({"comments": [{"number": 1, "off_topic": "yes"}]}), "field 'off_topic': expected true or false"),
        (json.dumps({"comments": [{"number": 9}]}), "no comment numbered 9 on the page"),
    ],
)
def test_a_bad_labels_file_is_named_and_the_good_pages_are_still_read(
    tmp_path: Path, labels: str, message: str
) -> None:
    good = TEST_DATA / "pages"
    for name in ("syrien.txt", "syrien.labels.json"):
        (tmp_path / name).write_bytes((good / name).read_bytes())
    (tmp_path / "bad.txt").write_bytes((good / "syrien.txt").read_bytes())
    (tmp_path / "bad.labels.json").write_text(labels)
    pages, problems = read_labelled_pages(tmp_path)
    assert [p.name for p in pages] == ["syrien"]
    assert len(problems) == 1 and message in problems[0] and str(tmp_path / "bad") in problems[0]


def test_each_article_is_read_by_the_model_made_for_what_it_has() -> None:
    headline = "Förderprogramm für Wärmepumpen wird aufgestockt"
    teaser = "Die Bundesregierung stockt die Förderung auf. Hausbesitzer bekommen bis zu 70 Prozent erstattet."
    sentence = "Die Regierung will die Genehmigungen für Windräder beschleunigen."
    assert reading(Article(id="a", headline=headline)) == (TITLE, [])
    assert reading(Article(id="a", headline=headline, teaser="Mit Video.")) == (TITLE, [])  # nothing to read
    kind, sentences = reading(Article(id="a", headline=headline, teaser=teaser))
    assert kind == TEASER
    assert sentences == [
        headline,
        "Die Bundesregierung stockt die Förderung auf.",
        "Hausbesitzer bekommen bis zu 70 Prozent erstattet.",
    ]
    short_body = Article(id="a", headline=headline, body=" ".join([sentence] * 3))  # a JSONL teaser-as-body
    assert reading(short_body) == (TEASER, [headline, sentence, sentence, sentence])
    full = Article(id="a", headline=headline, teaser=teaser, body=" ".join([sentence] * MIN_BODY_SENTENCES))
    assert reading(full) == (BODY, [sentence] * MIN_BODY_SENTENCES)
