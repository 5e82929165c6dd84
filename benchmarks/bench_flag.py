"""End-to-end batch run: generate N German comments, ingest them as JSONL, `moderator flag` them.

Prints the flag report and comments/s of the whole run (scoring included). Run:
`.venv/bin/python -m benchmarks.bench_flag [N] [--model NAME]` (default 20000 comments, the shipped model).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from moderator.bench import generate_corpus


def write_jsonl(path: Path, n: int) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=20_000)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, db = Path(tmp) / "comments.jsonl", Path(tmp) / "queue.db"
        write_jsonl(corpus, args.n)
        base = [sys.executable, "-m", "moderator"]
        subprocess.run([*base, "ingest", str(corpus), "--db", str(db)], check=True)
        model = ["--model", args.model] if args.model else []
        start = time.perf_counter()
        done = subprocess.run(
            [*base, "flag", "--db", str(db), "--json", *model], check=True, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - start
    report = json.loads(done.stdout)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"{args.n} comments flagged in {elapsed:.0f} s: {args.n / elapsed:.1f} comments/s (model load included)")


if __name__ == "__main__":
    main()
