"""A simulated house: One Million Posts' moderators draw the line elsewhere than GermEval. Does the model learn it?

1. Labels: the labelled posts of ../shared/data/omp_dev.jsonl; reject = inappropriate OR discriminating.
2. Decisions: the posts are ingested with their articles into a temporary queue, scored with the real model
   (`moderator score`'s path), and decided in post-id order (the forum's own time order) one minute apart by two
   moderators, alice and bob (a seeded coin picks who), through the Desk, as moderators at the desk would.
3. `train --from-decisions` adapts the model on the older 70 % of the decisions.
4. Report on the newer 30 %: ROC-AUC / macro-F1 before (the shipped toxicity) and after (the adapted model's
   `house` label, rescored through TransformerScorer.score, the path `moderator score` runs); and GermEval
   2018/2021 dev macro-F1 of both models' toxicity (the dev split of training/data.py, as calibrate.py evaluates
   it), which adapting must not cost more than 0.01; the `house` label's GermEval AUC for information.

    .venv/bin/python scripts/bench_house.py [--out docs/house] [--keep DIR]

Writes bench.json and, with matplotlib, the calibrate plots of the simulated house into --out.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from moderator import metrics  # noqa: E402
from moderator.desk import Desk  # noqa: E402
from moderator.house import house_report, human_decisions  # noqa: E402
from moderator.policy import Policy, risk_score  # noqa: E402
from moderator.records import Article, Comment  # noqa: E402
from moderator.scoring.linear import sigmoid  # noqa: E402
from moderator.scoring.transformer import TransformerScorer  # noqa: E402
from moderator.store import Queue, open_db  # noqa: E402
from moderator.training.finetune import training_split  # noqa: E402
from moderator.training.house import train_from_decisions  # noqa: E402

SHIPPED = REPO / "models" / "moderator-de-v1"
OMP = REPO.parent / "shared" / "data" / "omp_dev.jsonl"
DATA = REPO.parent / "shared" / "data"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def load_posts() -> list[dict]:
    rows = [json.loads(line) for line in OMP.open(encoding="utf-8") if line.strip()]
    labelled = [r for r in rows if r.get("inappropriate") is not None and r.get("discriminating") is not None]
    return sorted(labelled, key=lambda r: int(r["post_id"]))


def build_queue(path: Path, posts: list[dict], scorer: TransformerScorer, clock: Clock) -> Queue:
    queue = Queue(open_db(path), clock=clock)
    ids = {r["post_id"] for r in posts}
    articles = {r["article_id"]: Article(id=r["article_id"], headline=r["article_title"] or "") for r in posts}
    comments = [
        Comment(
            id=r["post_id"],
            article_id=r["article_id"],
            text=r["text"] or "",
            title=r.get("headline") or "",
            parent_id=r["parent_id"] if r.get("parent_id") in ids else None,
        )
        for r in posts
    ]
    queue.add(articles.values(), comments)
    pairs = queue.unscored(limit=len(comments) + 1)
    t0 = time.time()
    scores = scorer.score(pairs)
    print(f"scored {len(pairs)} posts in {time.time() - t0:.0f}s", file=sys.stderr)
    queue.save_scores([(c.id, s, risk_score(s)) for (c, _), s in zip(pairs, scores, strict=True)])
    coin = random.Random(16)
    for r in posts:  # post-id order: the forum's own order
        clock.now += timedelta(minutes=1)
        reject = bool(r["inappropriate"]) or bool(r["discriminating"])
        Desk(queue, coin.choice(["alice", "bob"])).decide(r["post_id"], "reject" if reject else "approve")
    return queue


def germeval_dev(shipped: TransformerScorer, adapted: TransformerScorer) -> dict[str, dict[str, float]]:
    """Macro-F1 at each model's own threshold on the GermEval dev splits the shipped fusion was fitted on."""
    record = json.loads((SHIPPED / "toxicity.json").read_text())
    _, dev, _ = training_split(DATA, record["seed"], record["ge21_weight"], record["sources"], record.get("limit"))
    out = {}
    for name, examples in dev.items():
        pairs = [
            (Comment(id=str(i), article_id="-", text=e.text), Article(id="-", headline=""))
            for i, e in enumerate(examples)
        ]
        y = np.array([e.labels["toxic"] > 0.5 for e in examples])
        before = sigmoid(shipped.encode(pairs)[1])
        encs, fused = adapted.encode(pairs)  # the adapted model's own config: its fusion and threshold
        after = sigmoid(fused)
        house = adapted.house_probabilities(encs)
        tb, ta = shipped.model_config.toxicity.threshold, adapted.model_config.toxicity.threshold
        out[name] = {
            "n": len(y),
            "macro_f1_before": metrics.macro_f1(y, before >= tb),
            "macro_f1_after": metrics.macro_f1(y, after >= ta),
            "roc_auc_before": metrics.roc_auc(y, before),
            "roc_auc_after": metrics.roc_auc(y, after),
            "house_label_roc_auc": metrics.roc_auc(y, house) if house is not None else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "house")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the queue and the adapted model here.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_house_"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    posts = load_posts()
    shipped = TransformerScorer.load(SHIPPED)
    shipped.words_until = -1.0  # no word attributions: the bench reads scores only
    db = work / "house.db"
    if db.exists():
        db.unlink()
    queue = build_queue(db, posts, shipped, Clock())
    found = human_decisions(queue)
    y_all = np.array([d.rejected for d in found.decisions])
    tox_all = np.array([d.scores.toxicity for d in found.decisions])
    model_out = work / "models" / "moderator-de-house"
    if model_out.exists():
        import shutil

        shutil.rmtree(model_out)
    report = train_from_decisions(queue, SHIPPED, model_out)
    adapted = TransformerScorer.load(model_out, base_dir=None)
    adapted.words_until = -1.0
    held = found.decisions[report["split"]["train"] :]
    pairs = [
        (queue.require(d.comment_id).comment, queue.article(queue.require(d.comment_id).comment.article_id))
        for d in held
    ]
    rescored = adapted.score([(c, a or Article(id=c.article_id, headline="")) for c, a in pairs])
    y_held = np.array([d.rejected for d in held])
    ge = germeval_dev(shipped, adapted)
    del shipped
    gc.collect()
    result = {
        "posts": len(posts),
        "rejected": int(y_all.sum()),
        "shipped_roc_auc_all": metrics.roc_auc(y_all, tox_all),
        "train": report,
        "held_out_rescored_roc_auc": metrics.roc_auc(y_held, np.array([s.labels["house"] for s in rescored])),
        "adapted_version": adapted.model_version,
        "germeval_dev": ge,
        "seconds": round(time.time() - t0),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    try:
        from moderator.house.plots import write_plots

        write_plots(house_report(found, Policy()), args.out)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
    b, a = report["held_out"]["before"], report["held_out"]["after"]
    held = f"held-out latest {b['n']} decisions ({b['positives']} rejected)"
    print("| measured on | shipped (toxicity) | adapted | target |\n|---|---|---|---|")
    print(f"| {held}: ROC-AUC | {b['roc_auc']:.3f} | {a['roc_auc']:.3f} (`house`) | +0.05 |")
    print(f"| {held}: macro-F1 | {b['macro_f1']:.3f} | {a['macro_f1']:.3f} (`house`) | |")
    for name, g in ge.items():
        print(
            f"| {name} dev ({g['n']}): macro-F1 (toxicity) | {g['macro_f1_before']:.3f} | {g['macro_f1_after']:.3f} "
            "| ≥ -0.01 |"
        )
    print(json.dumps({k: v for k, v in result.items() if k != "train"}, default=float), file=sys.stderr)


if __name__ == "__main__":
    main()
