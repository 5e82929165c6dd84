"""A small deterministic scorer for tests and for trying the tool without a model.

It reads a fixed German/English insult lexicon for toxicity and the word overlap between comment and
article for off-topic. It is honest about what it is: ``model_version`` says ``lexical-fake``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from moderator.records import Article, Comment, Scores
from moderator.scoring.text import STOPWORDS

TOXIC_WORDS = frozenset(
    {
        "idiot",
        "idioten",
        "hirnlos",
        "hirnlose",
        "dumm",
        "dumme",
        "schwachsinn",
        "trottel",
        "depp",
        "klappe",
        "arsch",
        "arschloch",
        "scheiße",
        "scheisse",
        "verrecken",
        "abschaum",
        "pack",
        "stupid",
        "moron",
        "idiots",
        "hate",
        "kill",
    }
)
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _content_words(text: str) -> set[str]:
    return {w for w in _words(text) if len(w) > 3 and w not in STOPWORDS}


class FakeScorer:
    """Deterministic lexical scorer: same input, same output, no model files."""

    model_version = "lexical-fake-1"

    def score(self, pairs: Sequence[tuple[Comment, Article]]) -> list[Scores]:
        return [self._score_one(comment, article) for comment, article in pairs]

    def _score_one(self, comment: Comment, article: Article) -> Scores:
        text = f"{comment.title}\n{comment.text}" if comment.title else comment.text
        words = _words(text)
        hits = tuple(dict.fromkeys(w for w in words if w in TOXIC_WORDS))
        toxicity = min(1.0, 0.05 + 0.3 * len(hits))
        article_words = _content_words(article.text_for_scoring())
        passages = [p for p in _SENTENCE.split(comment.text) if p.strip()] or [comment.text]
        passage_scores = [self._off_topic(p, article_words) for p in passages]
        worst = max(range(len(passages)), key=lambda i: passage_scores[i])
        whole = self._off_topic(text, article_words)
        return Scores(
            toxicity=round(toxicity, 4),
            off_topic=round(max(whole, passage_scores[worst] * 0.9), 4),
            model_version=self.model_version,
            labels={"insult": round(toxicity, 4)},
            toxic_words=hits,
            off_topic_passage=passages[worst].strip(),
            passage_off_topic=round(passage_scores[worst], 4),
        )

    @staticmethod
    def _off_topic(text: str, article_words: set[str]) -> float:
        words = _content_words(text)
        if not words or not article_words:
            return 0.5
        overlap = len(words & article_words) / len(words)
        return round(max(0.0, min(1.0, 1.0 - 2.5 * overlap)), 4)
