"""The lexical half of the toxicity score: hashed character and word n-grams under a logistic regression.

Why beside the transformer: the fine-tuned e5-small reads meaning, but spelling-level cues (slurs written
with asterisks or in creative compounds, shouting, emoji) live in characters, and this model's errors are
different from the transformer's. A two-input logistic fusion of both logits, fitted on dev, beats either
alone there (see ``models/<name>/MODEL_CARD.md``).

Features are TF-IDF (sublinear term frequency) of character 2–5-grams inside whitespace-separated words
(padded with a space each side) and of word uni- and bigrams, each block L2-normalised on its own. They are
hashed (crc32) into ``BUCKETS`` slots, so there is no vocabulary file and a retrain adds about 4 MB (the
idf and weight vectors, fp16) to git, not the 21 MB of the transformer layers.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moderator.scoring.artifacts import NGRAM_WEIGHTS

BUCKETS = 1 << 20
_HALF = BUCKETS // 2  # character n-grams hash into the lower half, word n-grams into the upper half
CHAR_SIZES = (2, 3, 4, 5)
_WORD = re.compile(r"\b\w\w+\b", re.UNICODE)
# Only a comment's first characters are read: the longest training text has about 7,000, and the Python
# n-gram loop costs ~2.5 ms per 1,000 characters, so a pasted book must not stall a scoring batch.
MAX_CHARS = 20_000


def _occurrences(text: str) -> list[tuple[int, tuple[int, ...]]]:
    """Every n-gram occurrence of ``text`` (its first MAX_CHARS) as (bucket, indexes of the whitespace tokens it
    lies in)."""
    out: list[tuple[int, tuple[int, ...]]] = []
    words: list[tuple[str, int]] = []
    for index, token in enumerate(text[:MAX_CHARS].lower().split()):
        padded = f" {token} "
        for n in CHAR_SIZES:
            for i in range(len(padded) - n + 1):
                out.append((zlib.crc32(padded[i : i + n].encode()) & (_HALF - 1), (index,)))
        words += [(word, index) for word in _WORD.findall(token)]
    for word, index in words:
        out.append((_HALF + (zlib.crc32(word.encode()) & (_HALF - 1)), (index,)))
    for (a, i), (b, j) in zip(words, words[1:], strict=False):
        out.append((_HALF + (zlib.crc32(f"{a} {b}".encode()) & (_HALF - 1)), (i, j)))
    return out


def _counted(occurrences: list[tuple[int, tuple[int, ...]]]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for bucket, _ in occurrences:
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def _sublinear(counts: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
    tf = np.array([1.0 + math.log(counts[i]) for i in ids.tolist()], dtype=np.float32)
    return ids, tf


def hashed_counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(bucket ids, sublinear term frequencies) of one text, sorted by bucket."""
    return _sublinear(_counted(_occurrences(text)))


def tfidf(ids: np.ndarray, tf: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """TF-IDF values of one row, the character block and the word block each L2-normalised on its own."""
    values = tf * idf[ids]
    for block in (ids < _HALF, ids >= _HALF):
        norm = float(np.sqrt((values[block] ** 2).sum()))
        if norm > 0:
            values[block] /= norm
    return values


@dataclass
class NgramModel:
    """idf per bucket, weight per bucket and a bias: ``logit = w . tfidf(text) + b``."""

    idf: np.ndarray
    weights: np.ndarray
    bias: float

    def rows(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Normalised TF-IDF rows as (bucket ids, values)."""
        return [(ids, tfidf(ids, tf, self.idf)) for ids, tf in map(hashed_counts, texts)]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """One logit per text."""
        return np.array(
            [float(vals @ self.weights[ids]) + self.bias for ids, vals in self.rows(texts)], dtype=np.float64
        )

    def token_contributions(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, share of the logit) for each whitespace-separated token of ``text``.

        Exact: a bucket's term ``w . tfidf`` is split evenly over its occurrences, a word bigram's half to
        each of its words; the shares plus the bias sum to the logit.
        """
        text = text[:MAX_CHARS]  # what _occurrences reads, so token indexes and spans line up
        occurrences = _occurrences(text)
        counts = _counted(occurrences)
        ids, tf = _sublinear(counts)
        term = dict(zip(ids.tolist(), (tfidf(ids, tf, self.idf) * self.weights[ids]).tolist(), strict=True))
        spans = [m.span() for m in re.finditer(r"\S+", text)]
        shares = [0.0] * len(spans)
        for bucket, tokens in occurrences:
            for index in tokens:
                shares[index] += term[bucket] / counts[bucket] / len(tokens)
        return [(a, b, share) for (a, b), share in zip(spans, shares, strict=True)]

    def save(self, model_dir: Path) -> None:
        """fp16 vectors (about 4 MB): the rounding moves held-out logits by about 1e-3."""
        from safetensors.numpy import save_file

        save_file(
            {
                "idf": self.idf.astype(np.float16),
                "weights": self.weights.astype(np.float16),
                "bias": np.array([self.bias], np.float32),
            },
            str(Path(model_dir) / NGRAM_WEIGHTS),
        )

    @classmethod
    def load(cls, model_dir: Path) -> NgramModel:
        """The model ``save`` wrote, widened back to fp32."""
        from safetensors.numpy import load_file

        tensors = load_file(str(Path(model_dir) / NGRAM_WEIGHTS))
        return cls(tensors["idf"].astype(np.float32), tensors["weights"].astype(np.float32), float(tensors["bias"][0]))
