"""End-to-end batch run: generate N German comments, ingest them as JSONL, `moderator flag` them.

Prints the flag report and comments/s of the whole run (scoring included). Run:
`.venv/bin/python scripts/bench_flag.py [N] [--model NAME]` (default 20000 comments, the shipped model).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from moderator.scoring.bench import generate_corpus


def write_jsonl(path: Path, n: int) -> None:
    """``n`` generated comments with their articles as ingestable JSONL."""
    with path.open("w", encoding="utf-8") as out:
        for number, (comment, article) in enumerate(generate_corpus(n)):
            out.write(
                json.dumps(
                    {
                        "id": comment.id,
                        "article_id": article.id,
                        "article_title": article.headline,
                        "article_body": article.body,
                        "text": comment.text,
                        "author": f"user{number % 997}",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("n", type=int, default=20_000, required=False)
@click.option("--model", default=None, help="Model name under models/, or a model directory.")
def main(n: int, model: str | None) -> None:
    """End-to-end batch run: generate N German comments, ingest them, `moderator flag` them."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus, db = Path(tmp) / "comments.jsonl", Path(tmp) / "queue.db"
        write_jsonl(corpus, n)
        base = [sys.executable, "-m", "moderator"]
        subprocess.run([*base, "ingest", str(corpus), "--db", str(db)], check=True)
        model_flag = ["--model", model] if model else []
        start = time.perf_counter()
        done = subprocess.run(
            [*base, "flag", "--db", str(db), "--json", *model_flag], check=True, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - start
    report = json.loads(done.stdout)
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    click.echo(f"{n} comments flagged in {elapsed:.0f} s: {n / elapsed:.1f} comments/s (model load included)")


if __name__ == "__main__":
    main()
