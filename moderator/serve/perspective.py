"""Perspective's request and response shapes, mapped onto our scores: parsing, attribute values, spans.

Pure functions (no HTTP, no store), so the mapping can be read and tested on its own.

Attribute mapping (our labels are calibrated to [0, 1] like Perspective's PROBABILITY scores):

- TOXICITY: the headline toxicity.
- INSULT, PROFANITY, THREAT: the fine label of the same name; a scorer without it answers with toxicity.
- SEVERE_TOXICITY: our ``abuse`` label (the fine label for degrading, dehumanising language), capped by
  toxicity; without it, toxicity squared: only confidently toxic comments score as severe.
- OFF_TOPIC (ours, not Perspective's): off-topic against the comment's article; only answered when the request
  names the article (``context.entries`` or a registered ``articleId``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from moderator.records import Scores
from moderator.serve.errors import BadRequest

TOXICITY_ATTRIBUTES = ("TOXICITY", "SEVERE_TOXICITY", "INSULT", "PROFANITY", "THREAT")
ATTRIBUTES = (*TOXICITY_ATTRIBUTES, "OFF_TOPIC")
_FINE_LABEL = {"INSULT": "insult", "PROFANITY": "profanity", "THREAT": "threat"}


@dataclass(frozen=True)
class AnalyzeRequest:
    """What a comments:analyze request asks, checked."""

    text: str
    attributes: tuple[str, ...]
    languages: tuple[str, ...]
    do_not_store: bool
    span_annotations: bool
    client_token: str
    context_texts: tuple[str, ...]
    community_id: str
    article_id: str  # our extension: a registered article's id

    @property
    def names_article(self) -> bool:
        return bool(self.article_id or self.context_texts)


@dataclass(frozen=True)
class SuggestRequest:
    """A client's verdict on a comment (comments:suggestscore): attribute -> value (0 or 1 in practice)."""

    text: str
    verdicts: dict[str, float]
    client_token: str
    community_id: str
    context_texts: tuple[str, ...]
    languages: tuple[str, ...]
    article_id: str


def _object(body: Any, name: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"{name}: expected a JSON object")
    return body


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name}: expected a string")
    return value


def _comment_text(body: dict[str, Any], max_text_bytes: int) -> str:
    comment = _object(body.get("comment"), "comment") if "comment" in body else {}
    text = comment.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("comment.text: required, a non-empty string")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest("comment.text: holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
    if size > max_text_bytes:
        raise BadRequest(f"comment.text: too long ({size} bytes; the limit is {max_text_bytes})")
    return text


def _languages(body: dict[str, Any]) -> tuple[str, ...]:
    value = body.get("languages") or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest("languages: expected a list of language codes")
    # Any language is scored: the model is German-first but multilingual (e5), and a French or Turkish comment
    # must not break a site's intake with a 400; its scores are simply less tested.
    return tuple(value)


def _context(body: dict[str, Any]) -> tuple[str, ...]:
    context = body.get("context")
    if context is None:
        return ()
    entries = _object(context, "context").get("entries") or []
    if not isinstance(entries, list):
        raise BadRequest("context.entries: expected a list")
    texts = []
    for i, entry in enumerate(entries):
        text = _object(entry, f"context.entries[{i}]").get("text")
        if not isinstance(text, str):
            raise BadRequest(f"context.entries[{i}].text: expected a string")
        if text.strip():
            texts.append(text)
    return tuple(texts)


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{name}: expected true or false")
    return value


def _attribute_names(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, dict) or not value:
        raise BadRequest(f"{field}: required, an object naming at least one attribute")
    unknown = [name for name in value if name not in ATTRIBUTES]
    if unknown:
        raise BadRequest(f"{field}: unknown attribute(s) {', '.join(unknown)} (known: {', '.join(ATTRIBUTES)})")
    return tuple(value)


def parse_analyze(body: Any, max_text_bytes: int) -> AnalyzeRequest:
    """A comments:analyze body, checked; every refusal names the field (400 INVALID_ARGUMENT)."""
    body = _object(body, "request body")
    request = AnalyzeRequest(
        text=_comment_text(body, max_text_bytes),
        attributes=_attribute_names(body.get("requestedAttributes"), "requestedAttributes"),
        languages=_languages(body),
        do_not_store=_flag(body, "doNotStore"),
        span_annotations=_flag(body, "spanAnnotations"),
        client_token=_string(body, "clientToken"),
        context_texts=_context(body),
        community_id=_string(body, "communityId"),
        article_id=_string(body, "articleId"),
    )
    if "OFF_TOPIC" in request.attributes and not request.names_article:
        raise BadRequest(
            "OFF_TOPIC needs the comment's article: send its text in context.entries, or the articleId of an "
            "article registered with PUT /v1/articles/{id}"
        )
    return request


def parse_suggest(body: Any, max_text_bytes: int) -> SuggestRequest:
    """A comments:suggestscore body: the comment and the client's verdict per attribute (summaryScore.value)."""
    body = _object(body, "request body")
    scores = body.get("attributeScores")
    names = _attribute_names(scores, "attributeScores")
    assert isinstance(scores, dict)
    verdicts: dict[str, float] = {}
    for name in names:
        summary = _object(_object(scores[name], f"attributeScores.{name}").get("summaryScore"), f"{name}.summaryScore")
        value = summary.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise BadRequest(f"attributeScores.{name}.summaryScore.value: expected a number in [0, 1]")
        verdicts[name] = float(value)
    return SuggestRequest(
        text=_comment_text(body, max_text_bytes),
        verdicts=verdicts,
        client_token=_string(body, "clientToken"),
        community_id=_string(body, "communityId"),
        context_texts=_context(body),
        languages=_languages(body),
        article_id=_string(body, "articleId"),
    )


def attribute_value(scores: Scores, name: str) -> float:
    """Our scores as one Perspective attribute (the mapping in the module docstring)."""
    if name == "TOXICITY":
        return scores.toxicity
    if name == "OFF_TOPIC":  # only asked with an article (parse refuses it without one), so always judged
        if scores.off_topic is None:
            raise ValueError("OFF_TOPIC asked of a comment whose off-topic was not judged")
        return scores.off_topic
    if name == "SEVERE_TOXICITY":
        abuse = scores.labels.get("abuse")
        return min(scores.toxicity, abuse) if abuse is not None else scores.toxicity**2
    return scores.labels.get(_FINE_LABEL[name], scores.toxicity)


def word_spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the words behind the toxicity score stand in ``text``: every whole-word, case-insensitive match."""
    spans: set[tuple[int, int]] = set()
    for word in words:
        if word.strip():
            pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
            spans.update((m.start(), m.end()) for m in pattern.finditer(text))
    return sorted(spans)


def _probability(value: float) -> dict[str, Any]:
    return {"value": round(float(value), 6), "type": "PROBABILITY"}


def _spans(text: str, scores: Scores, name: str, value: float) -> list[dict[str, Any]]:
    if name == "OFF_TOPIC":
        passage = scores.off_topic_passage.strip()
        start = text.find(passage) if passage else -1
        if start < 0:
            return []
        score = scores.passage_off_topic if scores.passage_off_topic is not None else value
        return [{"begin": start, "end": start + len(passage), "score": _probability(score)}]
    return [
        {"begin": begin, "end": end, "score": _probability(value)}
        for begin, end in word_spans(text, scores.toxic_words)
    ]


def analyze_response(request: AnalyzeRequest, scores: Scores) -> dict[str, Any]:
    """The comments:analyze answer: a summary score per requested attribute, spans when asked for."""
    attribute_scores: dict[str, Any] = {}
    for name in request.attributes:
        value = attribute_value(scores, name)
        entry: dict[str, Any] = {"summaryScore": _probability(value)}
        if request.span_annotations:
            entry["spanScores"] = _spans(request.text, scores, name, value)
        attribute_scores[name] = entry
    languages = list(request.languages) or ["de"]
    response: dict[str, Any] = {
        "attributeScores": attribute_scores,
        "languages": languages,
        "detectedLanguages": languages,  # no language detection: the caller's languages, else German
    }
    if request.client_token:
        response["clientToken"] = request.client_token
    return response
