"""Off-topic relative to the article: features from e5 embeddings and a small logistic head.

A comment is embedded once ("query: " prefix, original e5 layers); its body and each of its sentences are the
mean of their own token states from that SAME pass (no re-encoding). The article is embedded with the same
"query: " prefix (symmetric similarity measured better than "passage: " here: title-cosine AUC 0.64 vs 0.60),
headline and whole text separately, and compared through their normalised sum. Features: cosine of comment,
body and sentences (min, mean) to the article; length; similarity to the mean article embedding (how generic
the comment is); and 10 principal components of the comment embedding (what kind of post it is). The same
head scores each passage (a run of sentences, see PASSAGE_SHARE) as if it stood alone, so the passage that
strays furthest comes with its own score.

Training (the cross-validated fit of the head) lives in moderator/training/offtopic.py.
"""

from __future__ import annotations

import numpy as np

# A passage is a run of consecutive sentences holding at least this share of the comment's tokens: long enough
# to be a subject of its own (one generic sentence is not), short enough to catch a comment whose second half
# wanders off. Scored by the same head as a whole comment.
PASSAGE_SHARE = 0.3
MIN_PASSAGE_TOKENS = 12
FEATURES = ("cos_article", "cos_body", "min_sentence_cos", "mean_sentence_cos", "log_tokens", "cos_generic")


def passage_windows(sizes: list[int]) -> list[tuple[int, int]]:
    """Sentence runs ``[i, j)``: for each start, the shortest run with PASSAGE_SHARE of the tokens (and at least
    MIN_PASSAGE_TOKENS); never the whole comment, which is scored as such."""
    need = max(MIN_PASSAGE_TOKENS, PASSAGE_SHARE * sum(sizes))
    out = []
    for i in range(len(sizes)):
        n = 0
        for j in range(i, len(sizes)):
            n += sizes[j]
            if n >= need:
                if (i, j + 1) != (0, len(sizes)):
                    out.append((i, j + 1))
                break
    return out


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (a zero vector stays zero)."""
    return v / max(float(np.linalg.norm(v)), 1e-12)


def pair_features(
    whole: np.ndarray,
    body: np.ndarray,
    sentences: list[np.ndarray],
    n_tokens: int,
    ref: np.ndarray,
    generic: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Similarity features of a comment, and one row per sentence scored as if it stood alone."""
    cos = float(whole @ ref)
    sent = [float(s @ ref) for s in sentences] or [cos]
    row = np.array(
        [cos, float(body @ ref), min(sent), float(np.mean(sent)), np.log1p(n_tokens), float(whole @ generic)],
        np.float64,
    )
    n_sent = np.log1p(max(n_tokens / max(len(sentences), 1), 1.0))
    per = np.array(
        [[c, c, c, c, n_sent, float(s @ generic)] for c, s in zip(sent, sentences, strict=False)], np.float64
    )
    return row, per.reshape(-1, len(FEATURES))
