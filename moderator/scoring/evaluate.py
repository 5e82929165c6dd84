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

from moderator.records import Article, Comment
from moderator.scoring.base import Scorer
from moderator.scoring.metrics import binary_report

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
    """The scorer's operating thresholds (0.5 where it declares none)."""
    declared = getattr(scorer, "thresholds", None) or {}
    return {label: float(declared.get(label, 0.5)) for label in EVAL_LABELS}


def evaluate_records(scorer: Scorer, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{"toxic": {...}, "off_topic": {...}, "model_version": str}``: per label n, roc_auc,
    average_precision, precision, recall, f1, macro_f1 and threshold (``{"n": 0}`` where none is labelled)."""
    scores = scorer.score(_pairs(records)) if records else []
    thresholds = scorer_thresholds(scorer)
    out: dict[str, dict[str, Any]] = {}
    for label in EVAL_LABELS:
        idx = [i for i, r in enumerate(records) if isinstance(r.get(label), bool)]
        if not idx:
            out[label] = {"n": 0, "threshold": thresholds[label]}
            continue
        y = np.array([records[i][label] for i in idx], bool)
        s = np.array([getattr(scores[i], _SCORE_FIELD[label]) for i in idx], float)
        out[label] = binary_report(y, s, thresholds[label])
    out["model_version"] = scorer.model_version  # type: ignore[assignment]  # a string beside the two dicts
    return out
