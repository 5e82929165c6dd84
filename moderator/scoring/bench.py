"""`moderator bench`: scoring speed of the production path against a naive baseline, in one process.

Why it exists: speed claims need a baseline measured in the same run on the same machine. The naive baseline
is what a first implementation does: one comment at a time through a plain transformers forward pass in fp32,
re-encoding the article for every comment. The production path is `TransformerScorer.score` on batches.
Both see the same generated German comments of realistic length (10-400 words, many per article).
"""

from __future__ import annotations

import random
import resource
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from moderator.records import Article, Comment

TOPICS = {
    "Tempolimit": [
        "Ein Tempolimit auf der Autobahn würde viele Unfälle verhindern.",
        "Die Autoindustrie warnt seit Jahren vor einer Höchstgeschwindigkeit von 130.",
        "In den Niederlanden gilt tagsüber 100 und niemand beschwert sich.",
        "Der Bundesrat stimmt am Freitag über den Antrag der Länder ab.",
        "Die CO2-Einsparung durch ein Tempolimit wird oft überschätzt.",
    ],
    "Mietpreisbremse": [
        "Die Mietpreisbremse hat in Berlin kaum neue Wohnungen geschaffen.",
        "Vermieter umgehen die Regeln mit möblierten Wohnungen.",
        "Das Verfassungsgericht hat den Mietendeckel gekippt.",
        "Ohne mehr Neubau werden die Mieten weiter steigen.",
        "Viele Familien finden in der Innenstadt keine bezahlbare Wohnung mehr.",
    ],
    "Rente": [
        "Das Rentenalter soll schrittweise auf 68 Jahre steigen.",
        "Wer körperlich arbeitet, schafft es nicht bis 67 im Beruf.",
        "Die Beiträge zur Rentenversicherung werden für junge Menschen zur Last.",
        "Andere Länder koppeln das Rentenalter an die Lebenserwartung.",
        "Eine private Vorsorge können sich Geringverdiener kaum leisten.",
    ],
    "Chipfabrik": [
        "Die Subvention für die Chipfabrik kostet zehn Milliarden Euro.",
        "Europa muss unabhängiger von Halbleitern aus Asien werden.",
        "Die neue Fabrik soll dreitausend Arbeitsplätze schaffen.",
        "Der Wasserverbrauch der Fabrik bereitet den Anwohnern Sorgen.",
        "Ohne Fachkräfte wird auch die modernste Fabrik nicht laufen.",
    ],
}
FILLER = [
    "Das sehe ich ganz anders.",
    "Man muss das auch mal realistisch betrachten.",
    "Im Artikel fehlt leider ein wichtiger Punkt.",
    "Meine Erfahrung ist eine völlig andere.",
    "Die Politik hat hier über Jahre versagt.",
    "Am Ende zahlen wieder die Bürger.",
    "Beim Fußball gestern hat der Schiedsrichter völlig versagt.",
    "Ihr seid doch alle ahnungslose Idioten.",
]


def generate_corpus(n_comments: int, *, per_article: int = 50, seed: int = 13) -> list[tuple[Comment, Article]]:
    """Deterministic German comments of 10-400 words (median about 40), ``per_article`` per article."""
    rng = random.Random(seed)
    topics = list(TOPICS)
    pairs = []
    articles: dict[int, Article] = {}
    for i in range(n_comments):
        index = i // per_article
        topic = topics[index % len(topics)]
        if index not in articles:
            body = " ".join(rng.choice(TOPICS[topic]) for _ in range(14))  # ~150 words: teaser and lead
            articles[index] = Article(id=f"bench-a{index}", headline=f"{topic}: {TOPICS[topic][0]}", body=body)
        words_wanted = min(400, max(10, int(rng.lognormvariate(3.7, 0.8))))
        sentences: list[str] = []
        while sum(len(s.split()) for s in sentences) < words_wanted:
            sentences.append(rng.choice(TOPICS[topic] + FILLER))
        text = " ".join(" ".join(sentences).split()[:words_wanted])
        pairs.append((Comment(id=f"bench-c{i}", article_id=articles[index].id, text=text), articles[index]))
    return pairs


@dataclass(frozen=True)
class BenchResult:
    comments: int
    naive_cps: float  # the mean of the runs below
    naive_cps_runs: list[float]  # two runs after the production path: their spread says how noisy the machine is
    production_cps: float
    batch_workers: int  # batches the production path scores side by side (TransformerScorer.score_batches)
    ratio: float
    p50_ms: float  # one comment under an article already seen
    p95_ms: float
    new_article_p95_ms: float  # one comment under an article not seen before (its body embedded first)
    words_during_scoring: bool  # whether the production path computed words (flag --words-now) or left them
    words_p50_ms: float  # computing one toxic comment's words when a person opens it (desk, `show`)
    words_p95_ms: float
    peak_rss_mb: float
    fp32_peak_gflops: float
    bf16_peak_gflops: float
    achieved_gflops: float
    median_tokens: float
    model_version: str
    precision: str  # the path that ran: fp32 or bf16
    precision_reason: str  # why it was chosen (the line score/flag/bench print on stderr)
    cpu_capability: str  # what torch reports: AVX2, AVX512, ...
    peak_gflops: float  # matmul peak of the path that ran; "% of peak" refers to it

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def matmul_peak_gflops(dtype: Any, size: int = 1024, seconds: float = 1.0) -> float:
    """Best sustained GFLOP/s of a square matmul in ``dtype`` on this CPU (the roofline to compare with)."""
    import torch

    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.matmul(a, b)
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(4):
            torch.matmul(a, b)
        elapsed = time.perf_counter() - start
        best = max(best, 4 * 2 * size**3 / elapsed / 1e9)
    return best


def path_peak_gflops(precision: str, fp32_peak: float, bf16_peak: float) -> float:
    """The roofline of the path that ran: its own matmul peak, never another path's."""
    return bf16_peak if precision == "bf16" else fp32_peak


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def encoder_flops_per_token(config: Any, seq_len: float) -> float:
    """Forward FLOPs per token of a BERT encoder: dense layers plus attention at this sequence length."""
    hidden, layers, ff = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    dense = 2 * (4 * hidden * hidden + 2 * hidden * ff)
    attention = 2 * 2 * seq_len * hidden
    return layers * (dense + attention)


def naive_baseline(pairs: list[tuple[Comment, Article]], base_dir: Path) -> float:
    """Comments/s of one-at-a-time fp32 forward passes, article re-encoded for every comment."""
    import torch
    from transformers import AutoTokenizer, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # no load report for the pooler the baseline does not use
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    model = BertModel.from_pretrained(
        base_dir, local_files_only=True, dtype=torch.float32, add_pooling_layer=False
    ).eval()
    start = time.perf_counter()
    with torch.inference_mode():
        for comment, article in pairs:
            for text in (f"query: {comment.text}", f"passage: {article.text_for_scoring()}"):
                batch = tokenizer(text, truncation=True, max_length=512, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                hidden.mean(dim=1)
    return len(pairs) / (time.perf_counter() - start)


def production_path(
    pairs: list[tuple[Comment, Article]], scorer: Any, batch_size: int
) -> tuple[float, list[float], list[float]]:
    """Comments/s of the production scorer on batches, then single-comment latencies in ms: under an article
    already seen (the usual case: many comments per article) and under a new one (its body embedded too)."""
    scorer.score(pairs[:batch_size])  # warm-up: first-call allocations and caches
    fresh = [(c, Article(id=a.id + "-p", headline=a.headline, body=a.body)) for c, a in pairs]
    start = time.perf_counter()
    for _ in scorer.score_batches(fresh[i : i + batch_size] for i in range(0, len(fresh), batch_size)):
        pass  # as `flag` scores the queue: batches side by side (TransformerScorer.score_batches)
    cps = len(fresh) / (time.perf_counter() - start)
    known: list[float] = []
    new: list[float] = []
    for comment, article in fresh[:: max(1, len(fresh) // 40)][:40]:
        for latencies, under in ((known, article), (new, replace(article, id=article.id + "-l" + comment.id))):
            t0 = time.perf_counter()
            scorer.score([(comment, under)])
            latencies.append((time.perf_counter() - t0) * 1000)
    return cps, sorted(known), sorted(new)


def words_on_open_ms(pairs: list[tuple[Comment, Article]], scorer: Any, n: int = 20) -> list[float]:
    """Milliseconds to compute one comment's words as the desk does when a person opens it (sorted), for ``n``
    comments spread over the corpus: the cost depends on the comment's length, not on its score."""
    out = []
    for pair in pairs[:: max(1, len(pairs) // n)][:n]:
        t0 = time.perf_counter()
        scorer.toxic_words_of([pair])
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[int(q * (len(sorted_values) - 1))]


def run_bench(
    scorer: Any, base_dir: Path, *, n_comments: int = 400, naive_comments: int = 60, batch_size: int = 32
) -> BenchResult:
    """Everything in one process on the same corpus: peaks, the production path, then the naive baseline twice
    (their mean is the ratio's denominator)."""
    import torch
    from transformers import AutoConfig, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    pairs = generate_corpus(n_comments)
    fp32_peak = matmul_peak_gflops(torch.float32)
    bf16_peak = matmul_peak_gflops(torch.bfloat16)
    production_cps, latencies, new_article = production_path(pairs, scorer, batch_size)
    words_ms = words_on_open_ms(pairs, scorer)
    rss = peak_rss_mb()  # before the bench loads a tokenizer of its own for counting
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    config = AutoConfig.from_pretrained(base_dir, local_files_only=True)
    comment_tokens = [min(len(ids), 512) for ids in tokenizer([c.text for c, _ in pairs])["input_ids"]]
    article_text = {a.id: a.text_for_scoring() for _, a in pairs}
    article_tokens = [min(len(ids), 512) for ids in tokenizer(list(article_text.values()))["input_ids"]]
    tokens_per_comment = (sum(comment_tokens) + sum(article_tokens)) / len(pairs)
    median_tokens = statistics.median(comment_tokens)
    achieved = production_cps * tokens_per_comment * encoder_flops_per_token(config, median_tokens) / 1e9
    # Twice, after the production path (whose peak memory is read before the naive model loads): one run of
    # it moved by 25 % on a shared machine, so the ratio uses their mean and the JSON shows both.
    naive_runs = [naive_baseline(pairs[:naive_comments], base_dir) for _ in range(2)]
    naive_cps = statistics.fmean(naive_runs)
    choice = scorer.precision
    words_during = scorer.words_while_scoring  # flag --words-now: one batch at a time
    return BenchResult(
        comments=len(pairs),
        naive_cps=round(naive_cps, 2),
        naive_cps_runs=[round(r, 2) for r in naive_runs],
        production_cps=round(production_cps, 2),
        batch_workers=int(getattr(scorer, "batch_workers", 1)) if not words_during else 1,
        ratio=round(production_cps / naive_cps, 2),
        p50_ms=round(statistics.median(latencies), 1),
        p95_ms=round(percentile(latencies, 0.95), 1),
        new_article_p95_ms=round(percentile(new_article, 0.95), 1),
        words_during_scoring=words_during,
        words_p50_ms=round(statistics.median(words_ms), 1),
        words_p95_ms=round(percentile(words_ms, 0.95), 1),
        peak_rss_mb=round(rss, 1),
        fp32_peak_gflops=round(fp32_peak, 1),
        bf16_peak_gflops=round(bf16_peak, 1),
        achieved_gflops=round(achieved, 1),
        median_tokens=median_tokens,
        model_version=scorer.model_version,
        precision=choice.precision,
        precision_reason=choice.reason,
        cpu_capability=choice.cpu_capability,
        peak_gflops=round(path_peak_gflops(choice.precision, fp32_peak, bf16_peak), 1),
    )


def format_table(result: BenchResult) -> str:
    rows = [
        (
            "naive baseline (fp32, one at a time, article re-encoded)",
            f"{result.naive_cps:.1f} comments/s (runs: " + " / ".join(f"{r:.1f}" for r in result.naive_cps_runs) + ")",
        ),
        (
            "production path",
            f"{result.production_cps:.1f} comments/s ({result.batch_workers} batches side by side)",
        ),
        ("ratio", f"x{result.ratio:.2f}"),
        ("single comment latency p50 / p95", f"{result.p50_ms:.0f} / {result.p95_ms:.0f} ms"),
        ("  p95 under a new article (body embedded first)", f"{result.new_article_p95_ms:.0f} ms"),
        (
            "words " + ("while scoring (--words-now)" if result.words_during_scoring else "on open, p50 / p95"),
            f"{result.words_p50_ms:.0f} / {result.words_p95_ms:.0f} ms per comment when a person opens it",
        ),
        ("peak RSS (process, scorer loaded and scoring)", f"{result.peak_rss_mb:.0f} MB"),
        ("precision (the path that ran)", f"{result.precision}: {result.precision_reason}"),
        ("matmul peak fp32 / bf16", f"{result.fp32_peak_gflops:.0f} / {result.bf16_peak_gflops:.0f} GFLOP/s"),
        (
            "encoder achieved (production, estimated)",
            f"{result.achieved_gflops:.0f} GFLOP/s "
            f"({100 * result.achieved_gflops / result.peak_gflops:.0f}% of the {result.precision} peak, "
            f"{result.peak_gflops:.0f})",
        ),
        ("comments / median comment tokens", f"{result.comments} / {result.median_tokens:.0f}"),
        ("model", result.model_version),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
