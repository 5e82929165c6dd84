"""How fast the fp32 path could be on this CPU, and whether int8 could make it faster at the same scores.

Why it exists: issue #13 asks for 3x the naive loop on an AVX2-only CPU; the fp32 path is at about 2.3-2.8x.
This script measures the two bounds behind that figure, so the README's claim can be re-checked on any machine:

1. ceiling: one encoder layer of the shipped model against its six matmuls alone, on one core (as each of
   `flag`'s two workers runs), at the batch shapes scoring meets. The matmuls' share of the layer bounds what
   any work on the rest (attention, GELU, LayerNorm, copies) can still gain.
2. int8 speed: the same matmuls in fp32 against fbgemm's dynamic int8 linear (torch.ao), one core.
3. int8 scores: each part of the encoder quantised, as a simulation (weights per output channel, activations
   per token or per tensor, rounded to int8 and back in fp32), against fp32 scores of the same bench comments.
   Per-token scales are the most accurate dynamic int8 there is, so their drift is a floor for any int8 kernel.

Run it as the README's AVX2 column is measured (fbgemm reads its own cap):
`MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2
.venv/bin/python scripts/avx2_ceiling.py [--comments 200]`
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from moderator.scoring import encoder  # noqa: E402
from moderator.scoring.bench import generate_corpus  # noqa: E402
from moderator.scoring.transformer import TransformerScorer  # noqa: E402

SHAPES = ((32, 32), (32, 64), (16, 128), (8, 256))  # (comments, tokens) of batches scoring meets
PARTS = {  # which linear layers a simulation quantises, by module name
    "whole encoder": lambda name: True,
    "shared bottom (layers 0-5)": lambda name: _layer(name) is not None and _layer(name) < 6,
    "bottom layers 0-2 only": lambda name: _layer(name) is not None and _layer(name) < 3,
    "e5 top (layers 6-11)": lambda name: _layer(name) is not None and _layer(name) >= 6,
    "toxicity top alone": lambda name: name.startswith("tox_top."),
}


def _layer(name: str) -> int | None:
    match = re.match(r"model\.encoder\.layer\.(\d+)\.", name)
    return int(match.group(1)) if match else None


def best_ms(run: Callable[[], Any], repeats: int = 7) -> float:
    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def linears(layer: Any) -> list[Any]:
    att = layer.attention
    return [
        att.self.query,
        att.self.key,
        att.self.value,
        att.output.dense,
        layer.intermediate.dense,
        layer.output.dense,
    ]


def ceiling(scorer: TransformerScorer) -> None:
    """A layer against its matmuls alone, one core."""
    layer = scorer.backbone.model.encoder.layer[0]
    hidden = layer.attention.output.dense.weight.shape[0]
    print("\n1. one fp32 layer against its six matmuls alone, one core")
    print(f"{'batch':>10}  {'layer ms':>9}  {'matmuls ms':>10}  {'matmul share':>12}  {'matmul GFLOP/s':>14}")
    for comments, tokens in SHAPES:
        x = torch.randn(comments, tokens, hidden)
        mask = encoder.additive_mask(torch.ones(comments, tokens), torch.float32)
        mid = torch.randn(comments, tokens, layer.intermediate.dense.weight.shape[0])
        lins = linears(layer)
        layer_ms = best_ms(lambda: encoder.layer_forward(layer, x, mask))  # noqa: B023
        matmul_ms = best_ms(lambda: [lin(mid if lin is lins[-1] else x) for lin in lins])  # noqa: B023
        flops = sum(2 * comments * tokens * lin.weight.numel() for lin in lins)
        print(
            f"{comments:>4} x {tokens:<3}  {layer_ms:>9.1f}  {matmul_ms:>10.1f}  {matmul_ms / layer_ms:>12.0%}  "
            f"{flops / matmul_ms / 1e6:>14.0f}"
        )


def int8_speed(scorer: TransformerScorer) -> None:
    """fp32 against fbgemm's dynamic int8 linear at the layer's shapes (2,048 token rows), one core."""
    layer = scorer.backbone.model.encoder.layer[0]
    print("\n2. fp32 matmul against fbgemm dynamic int8 (per-tensor activations), 2,048 rows, one core")
    print(f"{'weight':>11}  {'fp32 ms':>8}  {'int8 ms':>8}  {'speed-up':>8}")
    for lin in (layer.attention.self.query, layer.intermediate.dense, layer.output.dense):
        out_features, in_features = lin.weight.shape
        dense = torch.nn.Linear(in_features, out_features)
        dense.weight.data, dense.bias.data = lin.weight.float().clone(), lin.bias.float().clone()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao's deprecation notice
            quantised = torch.ao.quantization.quantize_dynamic(
                torch.nn.Sequential(dense), {torch.nn.Linear}, dtype=torch.qint8
            )
        x = torch.randn(2048, in_features)
        fp32_ms = best_ms(lambda: dense(x))  # noqa: B023
        int8_ms = best_ms(lambda: quantised(x))  # noqa: B023
        print(f"{in_features:>4} x {out_features:<4}  {fp32_ms:>8.2f}  {int8_ms:>8.2f}  {fp32_ms / int8_ms:>7.2f}x")


def _round_trip(x: torch.Tensor, dim: int | None) -> torch.Tensor:
    """``x`` rounded to symmetric int8 and back: one scale per row (``dim=-1``) or for the whole tensor."""
    top = x.abs().amax() if dim is None else x.abs().amax(dim=dim, keepdim=True)
    scale = top.clamp(min=1e-8) / 127
    return (x / scale).round().clamp(-127, 127) * scale


def int8_scores(scorer: TransformerScorer, comments: int) -> None:
    """Score drift of simulated int8 against fp32, by part of the encoder and activation scale."""
    names = {}
    for root in ("model", "tox_top"):
        for name, module in getattr(scorer.backbone, root).named_modules():
            if isinstance(getattr(module, "weight", None), torch.Tensor) and module.weight.dim() == 2:
                names[id(module)] = f"{root}.{name}"
    pairs = generate_corpus(comments)
    reference = scorer.score(pairs)
    plain = encoder.linear
    print(f"\n3. simulated int8 against fp32 scores, {comments} bench comments (every path must agree within 0.02)")
    print(f"{'quantised':<28}  {'activations':<11}  {'toxicity max / mean':>20}  {'off-topic max / mean':>21}")
    try:
        for part, chosen in PARTS.items():
            for scheme, dim in (("per token", -1), ("per tensor", None)):
                weights: dict[int, torch.Tensor] = {}

                def simulated(
                    x: torch.Tensor, layer: Any, chosen: Any = chosen, dim: Any = dim, w: Any = weights
                ) -> Any:
                    if not chosen(names.get(id(layer), "")):
                        return plain(x, layer)
                    if id(layer) not in w:
                        w[id(layer)] = _round_trip(layer.weight, -1)  # per output channel
                    return F.linear(_round_trip(x, dim), w[id(layer)], layer.bias)

                encoder.linear = simulated
                scores = scorer.score(pairs)
                tox = [abs(a.toxicity - b.toxicity) for a, b in zip(reference, scores, strict=True)]
                off = [abs(a.off_topic - b.off_topic) for a, b in zip(reference, scores, strict=True)]
                print(
                    f"{part:<28}  {scheme:<11}  {max(tox):>10.3f} / {statistics.fmean(tox):.3f}  "
                    f"{max(off):>11.3f} / {statistics.fmean(off):.3f}"
                )
    finally:
        encoder.linear = plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=200, help="bench comments for the score drift")
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: the shipped one)")
    args = parser.parse_args()
    scorer = TransformerScorer.load(args.model, precision="fp32")
    scorer.words_from = float("inf")  # scores only: words are not part of the question
    caps = " ".join(
        f"{k}={os.environ[k]}"
        for k in ("MKL_ENABLE_INSTRUCTIONS", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "FBGEMM_ENABLE_INSTRUCTIONS")
        if k in os.environ
    )
    print(f"torch {torch.__version__}, capability {torch.backends.cpu.get_cpu_capability()}, caps: {caps or 'none'}")
    torch.set_num_threads(1)
    with torch.inference_mode():
        ceiling(scorer)
        int8_speed(scorer)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    int8_scores(scorer, args.comments)


if __name__ == "__main__":
    main()
