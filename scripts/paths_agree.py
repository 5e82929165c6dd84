"""Do the numerics paths agree on held-out data? Per-comment score differences and macro-F1 of each path.

Why it exists: a comment must get the same decision whichever CPU scores it (issue #13: every path within 0.02
per comment, macro-F1 within 0.005, on the dev split). `tests/test_precision.py` checks a handful of comments
as a user runs them; this script checks the held-out data the figures were estimated on:

- toxicity: the dev split of the toxicity training (GermEval 2018 and 2021, `training_split` with the seed of
  `toxicity.json`: never trained on), macro-F1 at the shipped threshold per source;
- off-topic: the 21 labelled forum pages (`../shared/samples/pages`), the body model's dev data, macro-F1 of
  the off-topic label at the threshold of the head that judged each comment.

Each path scores in this process: fp32 and bf16 (the emulated AVX2 path is fp32). Run:
`.venv/bin/python scripts/paths_agree.py [--data ../shared/data] [--pages ../shared/samples/pages]`
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from moderator import metrics  # noqa: E402
from moderator.ingest.labelled_pages import read_labelled_pages  # noqa: E402
from moderator.records import Article, Comment, Scores  # noqa: E402
from moderator.scoring import default_model_dir  # noqa: E402
from moderator.scoring.artifacts import TOXICITY_REPORT  # noqa: E402
from moderator.scoring.evaluate import off_topic_report, scorer_thresholds  # noqa: E402
from moderator.scoring.transformer import TransformerScorer  # noqa: E402
from moderator.training.finetune import training_split  # noqa: E402

PATHS = ("fp32", "bf16")
LIMIT = 0.02  # per comment, between any two paths
F1_LIMIT = 0.005


def scored(scorer: TransformerScorer, pairs: list[tuple[Comment, Article]]) -> list[Scores]:
    out: list[Scores] = []
    for start in range(0, len(pairs), 64):
        out += scorer.score(pairs[start : start + 64])
    return out


def largest_gap(runs: dict[str, list[Scores]], field: str) -> tuple[float, int]:
    """The largest per-comment difference of ``field`` between paths, and how many comments differ by > LIMIT."""
    values = np.array([[getattr(s, field) or 0.0 for s in runs[path]] for path in PATHS])
    gaps = values.max(axis=0) - values.min(axis=0)
    return float(gaps.max()), int((gaps > LIMIT).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--pages", type=Path, default=Path("../shared/samples/pages"))
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: the shipped one)")
    args = parser.parse_args()
    model_dir = args.model or default_model_dir()
    record = json.loads((model_dir / TOXICITY_REPORT).read_text())
    _, dev, _ = training_split(args.data, record["seed"], record["ge21_weight"], record["sources"], record.get("limit"))
    toxic_pairs = {
        source: [
            (Comment(id=f"{source}-{i}", article_id="-", text=e.text), Article(id="-", headline=""))
            for i, e in enumerate(rows)
        ]
        for source, rows in dev.items()
    }
    pages, _ = read_labelled_pages(args.pages)
    page_pairs = [(c, page.article) for page in pages for c in page.comments]
    labels = [lab for page in pages for lab in page.labels]

    report: dict[str, Any] = {"paths": list(PATHS), "limit": LIMIT}
    toxic_runs: dict[str, dict[str, list[Scores]]] = {source: {} for source in toxic_pairs}
    page_runs: dict[str, list[Scores]] = {}
    for path in PATHS:
        scorer = TransformerScorer.load(model_dir, precision=path)
        scorer.words_from = float("inf")  # scores only
        threshold = scorer_thresholds(scorer)
        for source, pairs in toxic_pairs.items():
            toxic_runs[source][path] = scored(scorer, pairs)
            y = np.array([e.labels["toxic"] >= 0.5 for e in dev[source]], bool)
            s = np.array([x.toxicity for x in toxic_runs[source][path]])
            report.setdefault(f"toxicity dev {source}: macro-F1", {})[path] = round(
                float(metrics.macro_f1(y, s >= threshold["toxic"])), 4
            )
        page_runs[path] = scored(scorer, page_pairs)
        off = off_topic_report(
            np.array([lab.off_topic for lab in labels], bool),
            np.array([x.off_topic for x in page_runs[path]], float),
            [article for _, article in page_pairs],
            threshold,
        )
        report.setdefault("off-topic, labelled pages: macro-F1", {})[path] = round(float(off["macro_f1"]), 4)
    for source, runs in toxic_runs.items():
        gap, over = largest_gap(runs, "toxicity")
        report[f"toxicity dev {source}: largest per-comment gap"] = {
            "gap": round(gap, 4),
            "over_limit": over,
            "n": len(runs[PATHS[0]]),
        }
    for field in ("toxicity", "off_topic", "passage_off_topic"):
        gap, over = largest_gap(page_runs, field)
        report[f"labelled pages {field}: largest per-comment gap"] = {
            "gap": round(gap, 4),
            "over_limit": over,
            "n": len(page_pairs),
        }
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    f1s = [v for k, v in report.items() if k.endswith("macro-F1")]
    agree = all(max(v.values()) - min(v.values()) <= F1_LIMIT for v in f1s)
    gaps_ok = all(v["over_limit"] == 0 for k, v in report.items() if k.endswith("gap"))
    verdict = f"every path within {LIMIT} per comment: {'yes' if gaps_ok else 'NO'}; "
    print(f"\n{verdict}macro-F1 within {F1_LIMIT}: {'yes' if agree else 'NO'}")


if __name__ == "__main__":
    main()
