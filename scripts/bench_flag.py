"""End-to-end batch run: generate N German comments, ingest them as JSONL, `moderator flag` them.

Prints the flag report and a table: the CPU, the precision path `flag` chose (its stderr line), comments/s of
the whole `flag` process (model load included) and of the naive fp32 loop of `moderator bench` on the same
comments, measured one after the other, and their ratio. Run:
`.venv/bin/python scripts/bench_flag.py [N] [--model NAME] [--naive-comments K]` (default 20000 comments);
prefix `MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2` to see an AVX2-only CPU.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from moderator.scoring.bench import generate_corpus, naive_baseline


def cpu_name() -> str:
    """The CPU's model name and its native-bf16 flags, for the table."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    bf16 = [f for f in ("avx512_bf16", "amx_bf16") if f" {f}" in info]
    return f"{name} ({', '.join(bf16) or 'no native bf16'})"


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
@click.option("--naive-comments", type=int, default=60, show_default=True, help="Comments for the naive loop.")
def main(n: int, model: str | None, naive_comments: int) -> None:
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
    from moderator.scoring.convert import ensure_base_model

    naive = naive_baseline(generate_corpus(n)[:naive_comments], ensure_base_model())
    precision = next((line for line in done.stderr.splitlines() if line.startswith("precision ")), "?")
    rows = [
        ("CPU", cpu_name()),
        ("flag's numerics", precision),
        (f"moderator flag, {n} comments, whole process", f"{elapsed:.0f} s, {n / elapsed:.1f} comments/s"),
        (f"naive fp32 loop, {naive_comments} comments", f"{naive:.1f} comments/s"),
        ("flag / naive", f"x{n / elapsed / naive:.2f}"),
    ]
    width = max(len(name) for name, _ in rows)
    click.echo("\n".join(f"{name:<{width}}  {value}" for name, value in rows))


if __name__ == "__main__":
    main()
