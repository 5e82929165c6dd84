"""Off-topic under an article with a body: the comment against the article's sentences and the rest of the news.

Why a second off-topic model: the title head (offtopic.py) learnt from One Million Posts posts paired with
article titles only. Under a full article body its features live in another range, and on the shared forum
pages it ranked wholly off-topic comments at ROC-AUC 0.72 and drifting ones at 0.72. A body lets us ask better
questions, each a feature of a small logistic head:

- does some sentence of the article say what the comment says? (the mean of the 3 best cosines);
- is this article closer to the comment than the rest of the news is? (that similarity minus the mean of the
  comment's 5 nearest background topics; the whole article's cosine minus its 5 nearest background articles):
  a polite comment on another news story is close to some other article, a generic one is close to none;
- how toxic is it? (the fused toxicity logit: an insult is far from every article, and the head learns to
  discount that rather than call an on-topic insult off-topic).

A passage (a run of sentences) is judged by its relative similarity alone, calibrated on its own: a comment that
opens on the article and wanders off has a passage that no article sentence explains. Length is no feature.

The background is 1,028 German news articles (10kGNAD, Der Standard 2015-16) embedded whole, and 256 topic
centroids (k-means) of 5,047 passages of them, shipped as vectors in offtopic.safetensors. Training and the
page-grouped cross-validation: moderator/training/offtopic_pages.py.

Under a teaser (a headline with a teaser, or a body too short for the body model) the same head, fitted on the
labelled pages cut to their headline and teaser, reads the headline and teaser sentences: the teaser model. On
those cut pages it ranked off-topic comments at ROC-AUC 0.79 where the title head reached 0.64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moderator.records import Article
from moderator.scoring.text import sentence_spans

BODY_FEATURES = ("article_sentence_top3", "relative_to_topics", "relative_to_articles", "toxicity_logit")
TOP_SENTENCES = 3  # article sentences that must explain a comment
TOP_BACKGROUND = 5  # nearest background topics / articles it is compared with
MIN_SENTENCE_CHARS = 20  # shorter article "sentences" (datelines, credits) explain nothing
# The model was fitted under bodies of 20-31 sentences. The mean of the best 3 of only a few sentences is biased
# low (under a 3-sentence teaser an on-topic reply scored 0.92), so a shorter body is read like a headline.
MIN_BODY_SENTENCES = 8
COMMENT_MAX_LENGTH = 256  # tokens of a comment read for off-topic: drift sits in the middle of long comments
BACKGROUND_ARTICLES = "background_articles"  # tensor names in offtopic.safetensors
BACKGROUND_TOPICS = "background_topics"


@dataclass(frozen=True, eq=False)
class ArticleVectors:
    """An article as off-topic reads it: the whole text and each body sentence (unit e5 vectors)."""

    full: np.ndarray  # [d]
    sentences: np.ndarray  # [n, d]


@dataclass(frozen=True, eq=False)
class Background:
    """Other news to compare a comment with: whole articles and topic centroids (unit vectors, [n, d])."""

    articles: np.ndarray
    topics: np.ndarray


def article_sentences(article: Article) -> list[str]:
    """The body's sentences (and lines) long enough to say something; none (a body shorter than
    MIN_BODY_SENTENCES, or no body) means the title head decides."""
    body = article.body
    sentences = [body[a:b] for a, b in sentence_spans(body) if b - a > MIN_SENTENCE_CHARS]
    return sentences if len(sentences) >= MIN_BODY_SENTENCES else []


BODY, TEASER, TITLE = "body", "teaser", "title"  # which off-topic model reads an article (``reading``)


def _teaser_sentences(article: Article) -> list[str]:
    """Headline, teaser and a body too short for the body model (``reading`` asks only then), as sentences long
    enough to say something; none where the article has no more than a headline (the title head decides)."""
    if not (article.teaser or article.body):
        return []
    text = "\n".join(part for part in (article.headline, article.teaser, article.body) if part)
    sentences = [text[a:b] for a, b in sentence_spans(text) if b - a > MIN_SENTENCE_CHARS]
    said_beyond_headline = any(s not in article.headline for s in sentences)
    return sentences if said_beyond_headline else []


def reading(article: Article) -> tuple[str, list[str]]:
    """Which off-topic model judges comments under ``article`` (BODY, TEASER or TITLE) and the sentences it
    reads. One definition for scoring, training and `evaluate`'s per-model thresholds."""
    if sentences := article_sentences(article):
        return BODY, sentences
    if sentences := _teaser_sentences(article):
        return TEASER, sentences
    return TITLE, []


def _top_mean(similarities: np.ndarray, k: int) -> float:
    return float(np.sort(similarities)[-k:].mean())


def relative_similarity(vector: np.ndarray, article: ArticleVectors, background: Background) -> float:
    """How much better the article's best sentences explain ``vector`` than the nearest other news topics do."""
    own = _top_mean(article.sentences @ vector, TOP_SENTENCES)
    return own - _top_mean(background.topics @ vector, TOP_BACKGROUND)


def body_features(
    vector: np.ndarray, article: ArticleVectors, background: Background, toxicity_logit: float
) -> np.ndarray:
    """The head's input for a comment (its unit vector), in the order of BODY_FEATURES."""
    own = _top_mean(article.sentences @ vector, TOP_SENTENCES)
    topics = _top_mean(background.topics @ vector, TOP_BACKGROUND)
    articles = _top_mean(background.articles @ vector, TOP_BACKGROUND)
    return np.array([own, own - topics, float(article.full @ vector) - articles, toxicity_logit], np.float64)


def worst_passage(candidates: list[np.ndarray], article: ArticleVectors, background: Background) -> tuple[int, float]:
    """The candidate passage the article explains least (index, relative similarity); (-1, nan) for none."""
    if not candidates:
        return -1, float("nan")
    values = [relative_similarity(v, article, background) for v in candidates]
    k = int(np.argmin(values))
    return k, values[k]
