"""Off-topic under article bodies with e5 vectors from a shallower encoder: could off-topic run fewer layers?

Why it exists: issue #13 asks `flag` for 3x the naive loop on an AVX2-only CPU, and off-topic's full 12-layer
e5 encoder alone is under that (scripts/flag_floor.py). This script refits the body off-topic model at each
depth asked for (the e5 vectors of comments, articles and the 10kGNAD background all taken after the first K
layers; toxicity untouched) and prints its leave-one-page-out CV on the labelled pages, as
`moderator train` measures the shipped model. Nothing is saved.

Run: `.venv/bin/python scripts/offtopic_depth.py [K ...]` (default 12 10 8; needs ../shared).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import torch

from moderator.scoring.transformer import TransformerScorer
from moderator.training.offtopic_pages import train_offtopic_pages

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("depths", type=int, nargs=-1)
@click.option("--shared", "shared", type=click.Path(path_type=Path), default=SHARED, show_default=True)
def main(depths: tuple[int, ...], shared: Path) -> None:
    """Page-grouped CV of the body off-topic model with e5 vectors after the first K layers, per K."""
    if not (shared / "samples" / "pages").is_dir():
        raise click.ClickException(f"{shared}/samples/pages: the labelled pages are not here")
    for depth in depths or (12, 10, 8):
        start = time.time()
        scorer = TransformerScorer.load()
        layers = scorer.backbone.model.encoder.layer
        if not scorer.backbone.n_frozen <= depth <= len(layers):
            raise click.BadParameter(f"{depth}: from {scorer.backbone.n_frozen} to {len(layers)} layers")
        scorer.backbone.model.encoder.layer = torch.nn.ModuleList(list(layers)[:depth])
        _, _, report = train_offtopic_pages(scorer, shared / "data", shared / "samples" / "pages")
        cv = {name: round(value, 4) for name, value in report["cv"].items() if name.startswith("roc_auc")}
        click.echo(json.dumps({"e5_layers": depth, "seconds": round(time.time() - start), **cv}))


if __name__ == "__main__":
    main()
