"""Forum pages a newsroom has labelled: ``NAME.txt`` (a forum page dump) beside ``NAME.labels.json``.

Why: the off-topic model is trained and measured on pages with their article body (the users' real input), and
`moderator evaluate DIR` lets a newsroom measure the model on a few threads of its own. The labels file is the
shared format: ``{"headline": ..., "comments": [{"number": 1, "toxic": bool, "off_topic": bool, "drift": bool,
"note": ...}, ...]}``; a comment is matched to its label by its number in the thread. Problems are reported as
``FILE[:where]: reason``, and the pages that are fine are still read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from moderator.ingest.common import decode_bytes
from moderator.ingest.forum_dump import parse_forum
from moderator.records import Article, Comment

LABEL_FIELDS = ("toxic", "off_topic", "drift")
LABELS_SUFFIX = ".labels.json"


@dataclass(frozen=True)
class CommentLabels:
    """A moderator's labels for one comment: drift means it starts on the article and ends elsewhere."""

    toxic: bool
    off_topic: bool
    drift: bool
    note: str = ""


@dataclass(frozen=True)
class LabelledPage:
    """One page: its article, the labelled comments in thread order, and their labels (same order)."""

    name: str
    article: Article
    comments: tuple[Comment, ...]
    labels: tuple[CommentLabels, ...]


def read_labelled_pages(directory: Path) -> tuple[list[LabelledPage], list[str]]:
    """Every ``*.labels.json`` page in ``directory``, sorted by name; returns (pages, problems)."""
    pages, problems = [], []
    for labels_path in sorted(Path(directory).glob(f"*{LABELS_SUFFIX}")):
        page_path = labels_path.with_name(labels_path.name[: -len(LABELS_SUFFIX)] + ".txt")
        try:
            pages.append(_read_page(page_path, labels_path))
        except (OSError, ValueError) as exc:
            problems.append(str(exc))
    return pages, problems


def _read_page(page_path: Path, labels_path: Path) -> LabelledPage:
    if not page_path.is_file():
        raise ValueError(f"{labels_path}: no page {page_path.name} beside it")
    parsed = parse_forum(decode_bytes(page_path.read_bytes())[0], str(page_path))
    if not parsed.articles:
        reasons = "; ".join(f"line {r.line}: {r.reason}" for r in parsed.rejected) or "no article"
        raise ValueError(f"{page_path}: {reasons}")
    by_number = _labels_by_number(labels_path)
    comments = [c for c in parsed.comments if c.number is not None and c.number in by_number]
    missing = sorted(set(by_number) - {c.number for c in comments if c.number is not None})
    if missing:
        raise ValueError(f"{labels_path}: no comment numbered {', '.join(map(str, missing))} on the page")
    return LabelledPage(
        page_path.stem, parsed.articles[0], tuple(comments), tuple(by_number[c.number or 0] for c in comments)
    )


def _labels_by_number(path: Path) -> dict[int, CommentLabels]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc
    entries = data.get("comments") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: field 'comments': expected a list")
    out: dict[int, CommentLabels] = {}
    for k, entry in enumerate(entries):
        where = f"{path}: comments[{k}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("number"), int):
            raise ValueError(f"{where}: field 'number': expected an integer")
        for name in LABEL_FIELDS:
            if not isinstance(entry.get(name, False), bool):
                raise ValueError(f"{where}: field '{name}': expected true or false")
        out[entry["number"]] = CommentLabels(
            bool(entry.get("toxic", False)),
            bool(entry.get("off_topic", False)),
            bool(entry.get("drift", False)),
            str(entry.get("note", "")),
        )
    return out
