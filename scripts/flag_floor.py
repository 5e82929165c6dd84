"""How fast `moderator flag` could be if toxicity cost nothing: the off-topic side's own floor, whole process.

Why it exists: issue #13 asks `flag` for 3x the naive fp32 loop on an AVX2-only CPU. Off-topic needs the whole
12-layer e5 encoder over every comment (and up to 256 tokens of a long comment under an article body); the
toxicity top is the only part a smaller toxicity model could save. This script runs `flag` twice per round on
the same generated comments: as shipped, and with the toxicity top's layers skipped (its scores are then
wrong; only the time counts). If the second is under 3x, no toxicity model, however small, reaches the target
while off-topic keeps its encoder.

Run it as the README's AVX2 column is measured:
`MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
.venv/bin/python scripts/flag_floor.py [N] [--rounds 2]`
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).parent))
from bench_flag import cpu_name, write_jsonl  # noqa: E402

from moderator.scoring.bench import generate_corpus, naive_baseline  # noqa: E402
from moderator.scoring.convert import ensure_base_model  # noqa: E402

# `moderator` with ToxicityTop.states returning its input: the toxicity top's six layers are never run.
WITHOUT_TOXICITY_TOP = (
    "import sys, moderator.scoring.backbone as b; "
    "b.ToxicityTop.states = lambda self, x, mask, **kw: x; "
    "from moderator.cli import main; sys.argv[0] = 'moderator'; main()"
)
RUNS = {"as shipped": ["-m", "moderator"], "toxicity top free": ["-c", WITHOUT_TOXICITY_TOP]}


def flag_cps(n: int, interpreter_args: list[str]) -> float:
    """Comments/s of one whole `flag` process on ``n`` freshly ingested comments."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus, db = Path(tmp) / "comments.jsonl", Path(tmp) / "queue.db"
        write_jsonl(corpus, n)
        ingest = [sys.executable, "-m", "moderator", "ingest", str(corpus), "--db", str(db)]
        subprocess.run(ingest, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, *interpreter_args, "flag", "--db", str(db), "--json"], check=True, capture_output=True
        )
        return n / (time.perf_counter() - start)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("n", type=int, default=600, required=False)
@click.option("--rounds", type=int, default=2, show_default=True, help="Alternating rounds of both runs.")
@click.option("--naive-comments", type=int, default=60, show_default=True, help="Comments for the naive loop.")
def main(n: int, rounds: int, naive_comments: int) -> None:
    """`flag` on N comments as shipped and with the toxicity top free, against the naive loop."""
    cps: dict[str, list[float]] = {name: [] for name in RUNS}
    for _ in range(rounds):
        for name, args in RUNS.items():
            cps[name].append(flag_cps(n, args))
    pairs = generate_corpus(n)[:naive_comments]
    naive = statistics.mean(naive_baseline(pairs, ensure_base_model()) for _ in range(rounds))
    click.echo(f"CPU: {cpu_name()}; naive fp32 loop {naive:.1f} comments/s (mean of {rounds})")
    for name, values in cps.items():
        runs = ", ".join(f"{c:.1f} comments/s x{c / naive:.2f}" for c in values)
        click.echo(f"flag {n} comments, whole process, {name:<17}  {runs}")


if __name__ == "__main__":
    main()
