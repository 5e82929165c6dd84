"""Benchmark: ingest of 100k JSONL comments into a file-backed queue.db (target >= 20k comments/s).

Prints a table: parse, store and total throughput, and a re-ingest (idempotent: nothing new).
Run: `.venv/bin/python scripts/bench_ingest.py [N]`.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

import click

from moderator.ingest import read_source
from moderator.store import Queue, open_db

WORDS = [
    "Windkraft",
    "Genehmigung",
    "Kommunen",
    "Personal",
    "Naturschutz",
    "Strompreis",
    "Netzentgelte",
    "Energiewende",
    "Bürger",
    "Verfahren",
    "Klage",
    "Gericht",
    "Ausbau",
    "schneller",
    "langsamer",
    "teuer",
    "billig",
    "wichtig",
    "richtig",
    "falsch",
    "endlich",
]  # noqa: SIM905


def write_corpus(path: Path, n: int, seed: int = 7) -> None:
    """``n`` random comments over 500 articles as ingestable JSONL."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            article = f"art-{i % 500}"
            record = {
                "id": f"bench-{i}",
                "article_id": article,
                "article_title": f"Artikel {article}",
                "author": f"user{rng.randrange(5000)}",
                "posted_at": "2026-11-02T09:30:00",
                "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 80))),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("n", type=int, default=100_000, required=False)
def main(n: int) -> None:
    """Ingest N JSONL comments into a file-backed queue.db, twice; print the throughput."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus, db_path = Path(tmp) / "comments.jsonl", Path(tmp) / "queue.db"
        write_corpus(corpus, n)
        queue = Queue(open_db(db_path))
        rows = []
        for label in ("first ingest", "re-ingest"):
            start = time.perf_counter()
            parsed = read_source(corpus)
            parsed_at = time.perf_counter()
            result = queue.add(parsed.articles, parsed.comments)
            done = time.perf_counter()
            rows.append((label, n, parsed_at - start, done - parsed_at, done - start, result.new_comments))
    print(f"{'run':<14} {'comments':>9} {'parse s':>8} {'store s':>8} {'total s':>8} {'comments/s':>11} {'new':>7}")
    for label, count, parse_s, store_s, total_s, new in rows:
        rate = count / total_s
        print(f"{label:<14} {count:>9} {parse_s:>8.2f} {store_s:>8.2f} {total_s:>8.2f} {rate:>11,.0f} {new:>7}")
    print(f"target: >= 20,000 comments/s; first ingest is {rows[0][1] / rows[0][4] / 20_000:.2f}x the target")


if __name__ == "__main__":
    main()
