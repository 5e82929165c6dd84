"""The encoder's batching: less padding for the same numbers."""

from __future__ import annotations

import random

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


def test_bf16_row_blocks_give_one_calls_numbers() -> None:
    torch = pytest.importorskip("torch")
    from moderator.scoring.encoder import ROW_BLOCK, linear

    torch.manual_seed(0)
    layer = torch.nn.Linear(16, 24).to(torch.bfloat16)
    x = torch.randn(3, ROW_BLOCK // 2 + 7, 16).to(torch.bfloat16)  # 1.5 blocks and a ragged rest
    assert torch.equal(linear(x, layer), layer(x))
