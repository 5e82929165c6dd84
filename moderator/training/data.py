"""Training data for the toxicity heads: read the shared data directory, hold out dev/test splits, dedupe across files.

The held-out splits (seeded, stratified, from GermEval 2018 and GermEval 2021) are cut FIRST; afterwards
every record of every file whose normalised text matches a held-out text is dropped from training. That
matters: cophi/germeval2018 and harmful_def re-annotate GermEval 2018 tweets, cophi/germanrefugees is
iwg_refugees. Duplicates inside the training pool are merged (first label per head wins).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAN = float("nan")


@dataclass
class Example:
    text: str
    labels: dict[str, float]
    source: str
    weight: float = 1.0
    key: str = field(default="", repr=False)


def text_key(text: str) -> str:
    """Normalised identity of a text: lower case, no @mentions, URLs, line-break markers or punctuation."""
    t = text.lower().replace("|lbr|", " ")
    t = re.sub(r"@\w+", "", t)
    t = re.sub(r"https?://\S+", "", t)
    return re.sub(r"[^0-9a-zäöüß]+", "", t)


def clean_text(text: str) -> str:
    return text.replace("|LBR|", "\n").strip()


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _germeval(rec: dict) -> dict[str, float]:
    fine = rec.get("fine")
    labels = {"toxic": float(bool(rec["toxic"]))}
    if fine:
        labels.update(
            insult=float(fine == "INSULT"), profanity=float(fine == "PROFANITY"), abuse=float(fine == "ABUSE")
        )
    return labels


def _cophi(rec: dict) -> dict[str, float]:
    lab = rec["label"]
    out = {"toxic": float(lab in ("p", "hs"))}
    if lab != "p":
        out["abuse"] = float(lab == "hs")
    return out


def _iwg(rec: dict) -> dict[str, float]:
    return {"toxic": float(bool(rec.get("hate_expert1")) or bool(rec.get("hate_expert2")))}


VIOLENT = {"TRUE", "call2violence", "support", "prospensity", "glorification"}


def _vio(rec: dict) -> dict[str, float] | None:
    lab = rec["label"]
    if lab == "other":
        return None
    return {"threat": float(lab in VIOLENT)}


def _stratified_split(rows: list[dict], fractions: tuple[float, float], seed: int) -> tuple[list, list, list]:
    """Split rows into (train, dev, test) by ``toxic``, seeded."""
    rng = random.Random(seed)
    train, dev, test = [], [], []
    for cls in (False, True):
        idx = [r for r in rows if bool(r["toxic"]) is cls]
        rng.shuffle(idx)
        n_dev, n_test = round(len(idx) * fractions[0]), round(len(idx) * fractions[1])
        dev += idx[:n_dev]
        test += idx[n_dev : n_dev + n_test]
        train += idx[n_dev + n_test :]
    return train, dev, test


def _examples(rows: list[dict], fn: Any, source: str, weight: float = 1.0) -> list[Example]:
    out = []
    for r in rows:
        labels = fn(r)
        if labels is None or not r.get("text", "").strip():
            continue
        out.append(Example(clean_text(r["text"]), labels, source, weight, text_key(r["text"])))
    return out


def load_toxicity(
    data_dir: Path,
    seed: int = 13,
    heldout: tuple[float, float] = (0.15, 0.15),
    vio_negatives: int = 1500,
    ge21_weight: float = 2.0,
) -> tuple[list[Example], dict, dict]:
    """Returns (train, dev, test) where dev/test are dicts source -> examples (germeval2018, germeval2021)."""
    data_dir = Path(data_dir)
    dev: dict[str, list[Example]] = {}
    test: dict[str, list[Example]] = {}
    train: list[Example] = []
    for name, weight in (("germeval2018", 1.0), ("germeval2021", ge21_weight)):
        rows = _read(data_dir / f"{name}_train.jsonl")
        tr, dv, te = _stratified_split(rows, heldout, seed)
        dev[name] = _examples(dv, _germeval, name)
        test[name] = _examples(te, _germeval, name)
        train += _examples(tr, _germeval, name, weight)
    train += _examples(_read(data_dir / "germeval2019_train.jsonl"), _germeval, "germeval2019")
    for path in sorted((data_dir / "cophi").glob("*.jsonl")):
        train += _examples(_read(path), _cophi, f"cophi/{path.stem}")
    train += _examples(_read(data_dir / "iwg_refugees.jsonl"), _iwg, "iwg_refugees")
    vio = _examples(_read(data_dir / "harmful_vio_train.jsonl"), _vio, "harmful_vio")
    pos = [e for e in vio if e.labels["threat"] == 1.0]
    neg = [e for e in vio if e.labels["threat"] == 0.0]
    random.Random(seed).shuffle(neg)
    train += pos + neg[:vio_negatives]

    held = {e.key for part in (dev, test) for exs in part.values() for e in exs}
    merged: dict[str, Example] = {}
    for e in train:
        if not e.key or e.key in held:
            continue
        if e.key in merged:
            first = merged[e.key]
            for k, v in e.labels.items():
                first.labels.setdefault(k, v)
            first.weight = max(first.weight, e.weight)
        else:
            merged[e.key] = e
    return list(merged.values()), dev, test
