"""Text helpers shared by the scorer and its training: what a model reads of a comment, and how it is cut up.

They live apart from the models so that the scorer, the off-topic features and the lexical test scorer read
the same definitions (sentence boundaries, stopwords, words) without importing one another.
"""

from __future__ import annotations

import re

# Function words that never count as "the words that drove the score" (nor as content words for the fake).
STOPWORDS = frozenset(
    [
        "der",
        "die",
        "das",
        "und",
        "oder",
        "aber",
        "ist",
        "sind",
        "war",
        "ein",
        "eine",
        "einer",
        "eines",
        "dem",
        "den",
        "des",
        "zu",
        "im",
        "in",
        "am",
        "an",
        "auf",
        "für",
        "mit",
        "von",
        "nicht",
        "auch",
        "es",
        "sie",
        "er",
        "wir",
        "ihr",
        "ich",
        "du",
        "man",
        "so",
        "wie",
        "was",
        "wer",
        "wenn",
        "dann",
        "noch",
        "nur",
        "schon",
        "sich",
        "hat",
        "haben",
        "wird",
        "werden",
        "mehr",
        "als",
        "bei",
        "aus",
        "nach",
        "über",
        "um",
        "doch",
        "mal",
        "hier",
        "da",
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "is",
        "are",
        "it",
        "this",
        "that",
    ]
)
# A word as the toxicity explanation names it (apostrophes and hyphens stay inside).
WORD = re.compile(r"\w[\w'’-]*", re.UNICODE)
_SENT_END = re.compile(r"(?<=[.!?…])[\"'»«”“)]*\s+|\n+")


def comment_text(title: str, body: str) -> str:
    """What both toxicity models read: the comment's title and body on lines of their own."""
    return f"{title}\n{body}" if title else body


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (and lines) of ``text``, whitespace trimmed, non-empty."""
    spans, start = [], 0
    for m in _SENT_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        seg = text[a:b]
        if seg.strip():
            lead = len(seg) - len(seg.lstrip())
            out.append((a + lead, a + len(seg.rstrip())))
    return out


def span_token_rows(offsets: list[tuple[int, int]], spans: list[tuple[int, int]], first: int) -> list[list[int]]:
    """For each char span, the rows (token positions, shifted by ``first``) of the tokens starting inside it."""
    rows: list[list[int]] = [[] for _ in spans]
    for i, (s, e) in enumerate(offsets):
        if e <= s:
            continue
        for j, (a, b) in enumerate(spans):
            if a <= s < b:
                rows[j].append(first + i)
                break
    return rows
