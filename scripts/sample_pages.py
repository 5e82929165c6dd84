"""Dev check on the shared sample forum pages: how a model ranks comments that moderators labelled.

The four pages (38 comments: the windkraft thread as the scorer issue describes it, three pages with
per-comment labels) are never trained on. They are the only labelled data with full article bodies and with
comments that drift, so they check what One Million Posts (titles only) cannot. Too small to tune on.
A development tool, outside the wheel:

    python scripts/sample_pages.py [--model DIR] [--samples ../shared/samples] [--json]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from moderator.records import Article, Comment

WINDKRAFT_TOXIC = {4}
WINDKRAFT_OFF_TOPIC = {5, 7}


def labelled_pairs(samples: Path) -> list[tuple[Comment, Article, dict[str, Any]]]:
    """(comment, article, labels) for every labelled comment of the sample pages."""
    from moderator.ingest.forum_dump import parse_forum

    pages: list[tuple[Path, Path | None]] = [
        (p, p.with_name(p.name.replace(".txt", ".labels.json"))) for p in sorted((samples / "pages").glob("*.txt"))
    ]
    pages.append((samples / "forum_page_windkraft.txt", None))
    out = []
    for page, labels_path in pages:
        parsed = parse_forum(page.read_text(encoding="utf-8"), str(page))
        articles = {a.id: a for a in parsed.articles}
        if labels_path is None:
            labels = {
                c.number: {
                    "toxic": c.number in WINDKRAFT_TOXIC,
                    "off_topic": c.number in WINDKRAFT_OFF_TOPIC,
                    "drift": False,
                }
                for c in parsed.comments
            }
        else:
            labels = {c["number"]: c for c in json.loads(labels_path.read_text(encoding="utf-8"))["comments"]}
        out += [(c, articles[c.article_id], labels[c.number]) for c in parsed.comments if c.number in labels]
    return out


def check(model_dir: Path | None, samples: Path) -> dict[str, Any]:
    """Rank the labelled comments with the model in ``model_dir`` (default: the shipped one)."""
    from moderator.scoring import metrics
    from moderator.scoring.transformer import TransformerScorer

    if not (samples / "forum_page_windkraft.txt").is_file():
        raise SystemExit(f"{samples}: no sample pages there (is ../shared checked out beside the project?)")
    items = labelled_pairs(samples)
    scorer = TransformerScorer.load(model_dir)
    scores = scorer.score([(c, a) for c, a, _ in items])
    tox = np.array([lab["toxic"] for _, _, lab in items])
    off = np.array([lab["off_topic"] for _, _, lab in items])
    drift = [(c, s) for (c, _, lab), s in zip(items, scores, strict=True) if lab.get("drift")]
    return {
        "model_version": scorer.model_version,
        "comments": len(items),
        "toxic": int(tox.sum()),
        "off_topic": int(off.sum()),
        "drift": len(drift),
        "toxicity_roc_auc": metrics.roc_auc(tox, np.array([s.toxicity for s in scores])),
        "off_topic_roc_auc": metrics.roc_auc(off, np.array([s.off_topic for s in scores])),
        "passage_off_topic_roc_auc": metrics.roc_auc(off, np.array([s.passage_off_topic or 0.0 for s in scores])),
        "drift_passages": [
            {
                "comment": c.number,
                "off_topic": s.off_topic,
                "passage_off_topic": s.passage_off_topic,
                "passage": s.off_topic_passage,
            }
            for c, s in drift
        ],
    }


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Model directory (default: the shipped one).",
)
@click.option(
    "--samples", type=click.Path(file_okay=False, path_type=Path), default=Path("../shared/samples"), show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def main(model_dir: Path | None, samples: Path, as_json: bool) -> None:
    """Dev check on the shared sample forum pages: how a model ranks comments that moderators labelled."""
    report = check(model_dir, samples)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{report['model_version']}: {report['comments']} comments ({report['toxic']} toxic, "
        f"{report['off_topic']} off-topic, {report['drift']} drifting)"
    )
    for key in ("toxicity_roc_auc", "off_topic_roc_auc", "passage_off_topic_roc_auc"):
        click.echo(f"  {key:<26} {report[key]:.3f}")
    for d in report["drift_passages"]:
        click.echo(
            f"  drift #{d['comment']}: off_topic {d['off_topic']:.3f}, passage {d['passage_off_topic']:.3f}: "
            f"{d['passage'][:90]!r}"
        )


if __name__ == "__main__":
    main()
