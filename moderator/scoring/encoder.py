"""The BERT encoder run layer by layer, so the bottom layers can be shared and the top layers branched.

The scorer runs the frozen bottom of multilingual-e5-small once per comment, then two copies of the top:
the original (e5 embeddings, for off-topic) and the fine-tuned one (toxicity). transformers' own
``BertLayer.forward`` signature changes between releases, so the layer maths lives here, on the layer's
own weights, with ``scaled_dot_product_attention``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[B, T] 1/0 mask -> [B, 1, 1, T] additive mask (0 where attended, large negative at padding)."""
    neg = torch.finfo(dtype).min
    return ((1.0 - attention_mask[:, None, None, :].to(dtype)) * neg).to(dtype)


def layer_forward(
    layer: Any, x: torch.Tensor, mask: torch.Tensor, dropout: float = 0.0, matmul_dtype: torch.dtype | None = None
) -> torch.Tensor:
    """One ``BertLayer`` (post-LayerNorm) on [B, T, H] states with an additive [B, 1, 1, T] mask.

    ``matmul_dtype`` (bf16 on the bf16 path) is what the matmuls, attention and GELU compute in; the residual
    stream and the LayerNorms stay in ``x``'s dtype (fp32). Why: a bf16 residual stream rounded the states
    after every layer, and off-topic, which compares e5 cosines of a narrow range, moved by up to 0.029 between
    the bf16 and fp32 paths on the labelled pages; with the stream in fp32, 0.014. ``None``: the matmuls in
    ``x``'s dtype (or autocast's, in training), as before.
    """
    att = layer.attention
    b, t, h = x.shape
    heads = att.self.num_attention_heads
    hd = h // heads
    compute = matmul_dtype or x.dtype
    inputs = x.to(compute)
    q, k, v = (
        linear(inputs, lin).view(b, t, heads, hd).transpose(1, 2)
        for lin in (att.self.query, att.self.key, att.self.value)
    )
    ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.to(compute), dropout_p=dropout)
    ctx = ctx.transpose(1, 2).reshape(b, t, h)
    y = F.dropout(linear(ctx, att.output.dense), dropout, layer.training)
    x = att.output.LayerNorm(x + y.to(x.dtype))
    mid = F.gelu(linear(x.to(compute), layer.intermediate.dense))
    y = F.dropout(linear(mid, layer.output.dense), dropout, layer.training)
    return layer.output.LayerNorm(x + y.to(x.dtype))


ROW_STEP = 256  # bf16 matmuls run on a row count rounded up to this


def linear(x: torch.Tensor, layer: Any) -> torch.Tensor:
    """``layer(x)``; in bf16 as one matmul over the tokens, their row count padded up to a multiple of ``ROW_STEP``.

    Why: oneDNN, which runs bf16 matmuls, keeps a kernel with its own memory for every matrix shape it meets
    (about 0.7 MB each); batches of every length made resident memory grow without bound. Rounded row counts
    bound the shapes to a few dozen per weight (32 comments of 256 tokens are 32 steps). This replaced blocks
    of 256 rows joined by ``torch.cat``: the joining and the loop cost 5 % of bf16 scoring. Rows are
    independent, so the numbers are those of an unpadded call.
    """
    if layer.weight.dtype == torch.bfloat16 and x.dtype == torch.float32:  # fp32 arithmetic over bf16 weights:
        return F.linear(x, layer.weight.float(), layer.bias.float())  # exact, where no matmul_dtype was asked
    if x.dtype != torch.bfloat16:
        return layer(x)
    flat = x.reshape(-1, x.shape[-1])
    rows = flat.shape[0]
    padded = -(-rows // ROW_STEP) * ROW_STEP
    if padded != rows:
        flat = F.pad(flat, (0, 0, 0, padded - rows))
    return F.linear(flat, layer.weight, layer.bias)[:rows].view(*x.shape[:-1], layer.weight.shape[0])


# A batch's fixed cost in padded tokens, by numerics. fp32 (MKL): kernel calls and small matrices, so batches
# split finely by length (fp32 scoring went from 9.7 to 16-18 comments/s on the bench). bf16 (oneDNN): every
# batch shape adds attention kernels and memory that stay resident (fine splits: peak RSS 1.4 GB; with row
# blocks, see ``linear``, 1.10 GB at overhead 48, 1.02 at 256, 0.96 at 512), so bf16 splits more coarsely.
BATCH_OVERHEAD_TOKENS = {"fp32": 48, "bf16": 384}


def length_batches(
    lengths: Sequence[int], max_batch: int = 32, overhead: int = BATCH_OVERHEAD_TOKENS["fp32"]
) -> list[list[int]]:
    """Indices grouped into batches of similar length that minimise padded tokens plus a per-batch overhead.

    Why: comment lengths are long-tailed, and fixed batches of a length-sorted list padded every comment to
    the longest of its batch: 45 % of the encoder's fp32 work was padding. An exact split of the sorted list
    by dynamic programming costs microseconds.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    best = [0] + [float("inf")] * len(order)
    cut = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        longest = lengths[order[end - 1]]
        for start in range(max(0, end - max_batch), end):
            cost = best[start] + (end - start) * longest + overhead
            if cost < best[end]:
                best[end], cut[end] = cost, start
    batches = []
    end = len(order)
    while end:
        batches.append(order[cut[end] : end])
        end = cut[end]
    return batches[::-1]


def embed(embeddings: Any, ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """BERT input embeddings (word + position + type 0, LayerNorm) in ``dtype``.

    Written out so the 250k-row word matrix may keep the file's own dtype (fp16, memory-mapped: only the rows
    of tokens actually seen are ever read into memory) while the rest of the encoder runs in bf16.
    """
    positions = torch.arange(ids.shape[1], device=ids.device)
    x = embeddings.word_embeddings(ids).to(dtype)
    x = x + embeddings.position_embeddings(positions).to(dtype) + embeddings.token_type_embeddings.weight[0].to(dtype)
    return embeddings.LayerNorm(x)


def run_layers(
    layers: Any,
    x: torch.Tensor,
    attention_mask: torch.Tensor,
    dropout: float = 0.0,
    matmul_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    mask = additive_mask(attention_mask, x.dtype)
    for layer in layers:
        x = layer_forward(layer, x, mask, dropout, matmul_dtype)
    return x


def scoring_dtypes(module: torch.nn.Module, matmul_dtype: torch.dtype, skip: torch.nn.Module | None = None) -> None:
    """Linear layers' weights in ``matmul_dtype``, every other parameter (LayerNorms, position and type
    embeddings) in fp32, ``skip`` (the memory-mapped word matrix) untouched: what ``layer_forward`` reads."""
    for sub in module.modules():
        if sub is skip:
            continue
        weight = getattr(sub, "weight", None)
        is_linear = isinstance(weight, torch.Tensor) and weight.dim() == 2 and getattr(sub, "bias", None) is not None
        for param in sub.parameters(recurse=False):
            param.data = param.data.to(matmul_dtype if is_linear else torch.float32)


def mean_pool(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    m = attention_mask.unsqueeze(-1).to(states.dtype)
    return (states * m).sum(1) / m.sum(1).clamp(min=1.0)


def head_tail_ids(ids: list[int], max_len: int, bos: int, eos: int) -> list[int]:
    """Content ids (no specials) cut to ``max_len`` with specials, keeping the head and the tail."""
    room = max_len - 2
    if len(ids) > room:
        head = room * 2 // 3
        ids = ids[:head] + ids[len(ids) - (room - head) :]
    return [bos, *ids, eos]


def pad_batch(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask
