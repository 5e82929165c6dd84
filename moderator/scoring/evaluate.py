"""Measure a scorer on labelled records: ROC-AUC, AP, precision/recall/F1 and macro-F1 per label.

Records are JSON lines with ``text`` and any of ``toxic`` / ``off_topic`` (true/false/null), optionally
``title`` (the comment's), ``article_id``, ``article_title`` and ``article_body``. F1 figures use the
scorer's own operating threshold, so the numbers describe the tool as shipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moderator.ingest.labelled_pages import LabelledPage
from moderator.metrics import binary_report, roc_auc
from moderator.policy import Outcome, Policy
from moderator.records import Article, Comment
from moderator.scoring.base import Scorer
from moderator.scoring.body_offtopic import BODY, TEASER, reading

EVAL_LABELS = ("toxic", "off_topic")
_SCORE_FIELD = {"toxic": "toxicity", "off_topic": "off_topic"}
_TEXT_FIELDS = ("title", "article_id", "article_title", "article_body")


def read_eval_file(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Read a JSONL evaluation file; returns (records, errors) with errors as ``FILE:LINE: reason``."""
    records, errors = [], []
    with Path(path).open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: invalid JSON ({exc.msg})")
                continue
            reason = _problem(rec)
            if reason:
                errors.append(f"{where}: {reason}")
            else:
                records.append(rec)
    return records, errors


def _problem(rec: Any) -> str:
    if not isinstance(rec, dict):
        return "not a JSON object"
    if not isinstance(rec.get("text"), str) or not rec["text"].strip():
        return "missing or empty 'text'"
    for name in EVAL_LABELS:
        if name in rec and rec[name] is not None and not isinstance(rec[name], bool):
            return f"'{name}' must be true, false or null, not {json.dumps(rec[name])}"
    for name in _TEXT_FIELDS:
        if name in rec and rec[name] is not None and not isinstance(rec[name], str | int):
            return f"'{name}' must be a string"
    if not any(isinstance(rec.get(name), bool) for name in EVAL_LABELS):
        return "no label: needs 'toxic' or 'off_topic' as true/false"
    return ""


def _pairs(records: Sequence[dict[str, Any]]) -> list[tuple[Comment, Article]]:
    pairs = []
    for i, rec in enumerate(records):
        title, body = str(rec.get("article_title") or ""), str(rec.get("article_body") or "")
        aid = str(rec.get("article_id") or hashlib.sha1(f"{title}\0{body}".encode()).hexdigest()[:12])
        article = Article(id=aid, headline=title, body=body)
        pairs.append(
            (Comment(id=f"eval-{i}", article_id=aid, text=rec["text"], title=str(rec.get("title") or "")), article)
        )
    return pairs


def scorer_thresholds(scorer: Scorer) -> dict[str, float]:
    """The scorer's operating thresholds (0.5 where it declares none), and the body and teaser models' where it
    has them."""
    declared = getattr(scorer, "thresholds", None) or {}
    out = {label: float(declared.get(label, 0.5)) for label in EVAL_LABELS}
    for model in ("off_topic_body", "off_topic_teaser"):
        if model in declared:
            out[model] = float(declared[model])
    return out


def evaluate_records(scorer: Scorer, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{"toxic": {...}, "off_topic": {...}, "model_version": str}``: per label n, roc_auc,
    average_precision, precision, recall, f1, macro_f1 and threshold (``{"n": 0}`` where none is labelled).

    Off-topic under an article body long enough for the body model is judged at that model's threshold, under
    a teaser at the teaser model's, under a headline at the title head's, as scoring decides: ``off_topic`` then
    adds ``threshold_under_a_body`` and ``n_under_a_body`` (and ``_under_a_teaser`` where there is one).
    """
    pairs = _pairs(records)
    scores = scorer.score(pairs) if records else []
    thresholds = scorer_thresholds(scorer)
    out: dict[str, dict[str, Any]] = {}
    for label in EVAL_LABELS:
        idx = [i for i, r in enumerate(records) if isinstance(r.get(label), bool)]
        if not idx:
            out[label] = {"n": 0, "threshold": thresholds[label]}
            continue
        y = np.array([records[i][label] for i in idx], bool)
        s = np.array([getattr(scores[i], _SCORE_FIELD[label]) for i in idx], float)
        if label == "off_topic":
            out[label] = off_topic_report(y, s, [pairs[i][1] for i in idx], thresholds)
        else:
            out[label] = binary_report(y, s, thresholds[label])
    out["model_version"] = scorer.model_version  # type: ignore[assignment]  # a string beside the two dicts
    return out


def off_topic_report(
    y: np.ndarray, s: np.ndarray, articles: Sequence[Article], thresholds: dict[str, float]
) -> dict[str, Any]:
    """``binary_report`` for off-topic, each comment at the threshold of the head that judged it: the body
    model's under an article body long enough for it, the teaser model's under a teaser (where the scorer has
    one), the title head's otherwise."""
    if "off_topic_body" not in thresholds:
        return binary_report(y, s, thresholds["off_topic"])
    readings = [reading(article)[0] for article in articles]
    under_body = np.array([kind == BODY for kind in readings], bool)
    at = {BODY: thresholds["off_topic_body"], TEASER: thresholds.get("off_topic_teaser", thresholds["off_topic"])}
    per_comment = np.array([at.get(kind, thresholds["off_topic"]) for kind in readings], float)
    return {
        **binary_report(y, s, per_comment),
        "threshold": thresholds["off_topic"],
        "threshold_under_a_body": thresholds["off_topic_body"],
        "n_under_a_body": int(under_body.sum()),
        **(
            {"threshold_under_a_teaser": at[TEASER], "n_under_a_teaser": readings.count(TEASER)}
            if "off_topic_teaser" in thresholds
            else {}
        ),
    }


LONG_WORDS = 80  # drift is measured against on-topic comments at least this long: length is not evidence


def evaluate_pages(scorer: Scorer, pages: Sequence[LabelledPage], policy: Policy) -> dict[str, Any]:
    """Measure a scorer on labelled forum pages (article + thread), as a newsroom's own threads measure it.

    Per label (toxic, off_topic) the same report as ``evaluate_records``; then off-topic split the way the
    labels allow without letting length speak: wholly off-topic comments against all others, drifting comments
    against on-topic comments of at least LONG_WORDS words (by the whole comment's score and by its passage's);
    and what ``policy`` would do: the share of off-topic (and drifting) comments it sends to a human, and the
    share of clean on-topic comments it approves automatically.
    """
    pairs = [(c, page.article) for page in pages for c in page.comments]
    labels = [lab for page in pages for lab in page.labels]
    scores = scorer.score(pairs) if pairs else []
    thresholds = scorer_thresholds(scorer)
    toxic = np.array([lab.toxic for lab in labels], bool)
    off = np.array([lab.off_topic for lab in labels], bool)
    drift = np.array([lab.drift for lab in labels], bool)
    words = np.array([len(f"{c.title} {c.text}".split()) for c, _ in pairs])
    tox_s = np.array([s.toxicity for s in scores], float)
    off_s = np.array([s.off_topic for s in scores], float)
    passage_s = np.array([s.off_topic if s.passage_off_topic is None else s.passage_off_topic for s in scores], float)
    queued = np.array([policy.judge(s)[0] is not Outcome.APPROVE for s in scores], bool)
    versus = drift | (~off & (words >= LONG_WORDS))
    clean = ~off & ~toxic
    return {
        "pages": len(pages),
        "comments": len(pairs),
        "toxic": binary_report(toxic, tox_s, thresholds["toxic"]),
        "off_topic": off_topic_report(off, off_s, [article for _, article in pairs], thresholds),
        "wholly_off_topic_vs_rest_roc_auc": roc_auc(off & ~drift, off_s),
        "drift": {
            "n": int(drift.sum()),
            "long_on_topic": int((~off & (words >= LONG_WORDS)).sum()),
            "roc_auc_by_passage": roc_auc(drift[versus], passage_s[versus]),
            "roc_auc_by_whole": roc_auc(drift[versus], off_s[versus]),
        },
        "policy": {
            "name": policy.name,
            "off_topic_sent_to_human": _share(queued, off),
            "drift_sent_to_human": _share(queued, drift),
            "clean_on_topic_auto_approved": _share(~queued, clean),
        },
        "model_version": scorer.model_version,
    }


def _share(hit: np.ndarray, among: np.ndarray) -> float | None:
    return float(hit[among].mean()) if among.any() else None
