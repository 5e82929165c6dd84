"""The encoder the scorer runs: tokenizer, base model, and the fine-tuned toxicity top over its shared bottom.

One pass per comment: embeddings and the bottom ``n_frozen`` layers are shared; the original top layers give
e5 token states (off-topic), the fine-tuned top layers give toxicity (``ToxicityTop``: mean-pooled linear heads).
Training fine-tunes ``ToxicityTop`` and fits its other heads through this same loader, so what they are
calibrated on is what scoring computes. The model owns its files: ``ToxicityTop.save`` / ``ToxicityTop.load``.
"""

from __future__ import annotations

import copy
import functools
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from moderator.scoring.artifacts import LABELS, QUERY_PREFIX, TOXICITY_WEIGHTS
from moderator.scoring.convert import ensure_base_model
from moderator.scoring.encoder import (
    BATCH_OVERHEAD_TOKENS,
    embed,
    length_batches,
    mean_pool,
    pad_batch,
    run_layers,
    scoring_dtypes,
)
from moderator.scoring.offtopic import passage_windows, unit
from moderator.scoring.text import comment_text, sentence_spans, span_token_rows

ATTRIBUTION_BATCH = 8


@dataclass
class Encoded:
    """What one comment pass yields (vectors L2-normalised)."""

    text: str  # title + "\n" + body, as tokenised
    whole: np.ndarray
    body: np.ndarray
    sentences: list[np.ndarray]
    sentence_spans: list[tuple[int, int]]  # char spans in ``text``
    n_tokens: int
    passages: list[tuple[int, int, np.ndarray, int]] = field(default_factory=list)  # sentences [i, j), vector, tokens
    tox_logits: np.ndarray | None = None
    ngram_logit: float | None = None  # the n-gram model's toxicity logit (set by the scorer, which fuses it)
    token_contrib: np.ndarray | None = None  # gradient x input per comment token (explained comments only)
    token_offsets: list[tuple[int, int]] | None = None

    def candidate_passages(self) -> list[tuple[np.ndarray, tuple[int, int]]]:
        """(vector, char span in ``text``) of each run of sentences; a comment too short for runs offers its
        single sentences instead."""
        spans = self.sentence_spans
        if self.passages:
            return [(v, (spans[i][0], spans[j - 1][1])) for i, j, v, _ in self.passages]
        return list(zip(self.sentences, spans, strict=True))


@dataclass
class Attribution:
    """A comment's text as tokenised, the toxicity attribution of each of its tokens, and their char spans."""

    text: str
    token_contrib: np.ndarray
    token_offsets: list[tuple[int, int]]


def load_base(
    base_dir: Path | None = None,
    allow_download: bool = False,
    dtype: torch.dtype = torch.float32,
    tokenizer: bool = True,
) -> tuple[Any, Any, Path]:
    """(tokenizer, BertModel eval in ``dtype``) from a converted cache dir or any local checkpoint.

    Training wants fp32 weights; scoring loads bf16 straight from the fp16 file, which halves resident
    memory and skips autocast's per-call weight casts. ``tokenizer=False`` skips the transformers tokenizer
    (None is returned) for callers that load the lighter Rust one themselves.
    """
    from transformers import AutoTokenizer, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the missing (unused) pooler is expected
    hf_logging.disable_progress_bar()  # no "Loading weights" bar on every CLI call
    base_dir = Path(base_dir) if base_dir else ensure_base_model()
    tok = AutoTokenizer.from_pretrained(base_dir, local_files_only=not allow_download) if tokenizer else None
    model = BertModel.from_pretrained(
        base_dir, local_files_only=not allow_download, add_pooling_layer=False, dtype=dtype
    ).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return tok, model, base_dir


class ToxicityTop(nn.Module):
    """Fine-tuned top layers + one linear head per label over mean-pooled states."""

    def __init__(self, layers: nn.ModuleList, hidden: int, labels: tuple[str, ...] = LABELS) -> None:
        super().__init__()
        self.layers = layers
        self.head = nn.Linear(hidden, len(labels))
        self.labels = labels

    def states(
        self, x: torch.Tensor, mask: torch.Tensor, dropout: float = 0.0, matmul_dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        return run_layers(self.layers, x, mask, dropout, matmul_dtype)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, dropout: float = 0.0) -> torch.Tensor:
        h = mean_pool(self.states(x, mask, dropout), mask)
        return self.head(nn.functional.dropout(h, dropout, self.training))

    @classmethod
    def from_base(cls, model: Any, n_frozen: int, labels: tuple[str, ...] = LABELS) -> ToxicityTop:
        """A fresh top: a copy of the base's layers above ``n_frozen`` and new (untrained) heads."""
        return cls(copy.deepcopy(model.encoder.layer[n_frozen:]), model.config.hidden_size, labels)

    @classmethod
    def load(
        cls,
        model_dir: Path,
        model: Any,
        n_frozen: int,
        labels: tuple[str, ...] = LABELS,
        dtype: torch.dtype = torch.float32,
    ) -> ToxicityTop:
        """The fine-tuned top layers and heads from ``toxicity.safetensors`` over a copy of the base's top layers."""
        from safetensors.torch import load_file

        top = cls.from_base(model, n_frozen, labels)
        state = load_file(str(Path(model_dir) / TOXICITY_WEIGHTS))
        top.load_state_dict({k: v.to(dtype) for k, v in state.items()}, assign=True)
        scoring_dtypes(top.layers, dtype)  # LayerNorms in fp32 (layer_forward's residual stream)
        top.head.float()  # the heads read fp32 pooled states
        return top.eval()

    def save(self, out_dir: Path) -> None:
        """Write ``toxicity.safetensors``: the layers in fp16, the heads in fp32."""
        from safetensors.torch import save_file

        out_dir.mkdir(parents=True, exist_ok=True)
        tensors = {f"layers.{k}": v.to(torch.float16).contiguous() for k, v in self.layers.state_dict().items()}
        tensors.update({f"head.{k}": v.float().contiguous() for k, v in self.head.state_dict().items()})
        save_file(tensors, str(out_dir / TOXICITY_WEIGHTS))


class RustTokenizer:
    """The base's `tokenizer.json` through the `tokenizers` library alone: the calls the Backbone makes.

    The transformers wrapper holds a second copy of the 250k-piece vocabulary (about 75 MB more resident);
    scoring needs none of its extras.
    """

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(str(path))
        self.bos_token_id = self._id("<s>")
        self.eos_token_id = self._id("</s>")
        self.pad_token_id = self._id("<pad>")

    def _id(self, token: str) -> int:
        token_id = self.backend.token_to_id(token)
        if token_id is None:
            raise ValueError(f"tokenizer has no {token} token")
        return int(token_id)

    def __call__(
        self, text: str, add_special_tokens: bool = False, return_offsets_mapping: bool = False
    ) -> dict[str, Any]:
        enc = self.backend.encode(text, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": enc.ids}
        if return_offsets_mapping:  # trimmed of the leading space a piece carries, as transformers reports them
            out["offset_mapping"] = [self._trim(text, start, end) for start, end in enc.offsets]
        return out

    @staticmethod
    def _trim(text: str, start: int, end: int) -> tuple[int, int]:
        trimmed = start  # spaces, and control characters the normaliser drops, are not part of the piece
        while trimmed < end and (text[trimmed].isspace() or unicodedata.category(text[trimmed]) in ("Cc", "Cf")):
            trimmed += 1
        if trimmed == end > start:  # a bare "▁" piece: transformers points it at the next character
            return end, end + 1
        return trimmed, end


def _scoring_tokenizer(base_dir: Path) -> Any:
    """The Rust tokenizer where the checkpoint ships tokenizer.json, else the transformers one."""
    if (base_dir / "tokenizer.json").exists():
        return RustTokenizer(base_dir / "tokenizer.json")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base_dir, local_files_only=True)


class Backbone:
    """Tokeniser + base encoder (+ optional fine-tuned toxicity top); batching and truncation live here."""

    def __init__(
        self,
        tok: Any,
        model: Any,
        n_frozen: int,
        tox_top: Any = None,
        max_length: int = 256,
        article_max_length: int = 512,
        query_prefix: str = QUERY_PREFIX,
        precision: str = "bf16",
    ) -> None:
        self.tok, self.model, self.n_frozen, self.tox_top = tok, model, n_frozen, tox_top
        self.max_length, self.article_max_length, self.precision = max_length, article_max_length, precision
        self.prefix_ids = tok(query_prefix.strip(), add_special_tokens=False)["input_ids"]
        # What the matmuls compute in (bf16 on the bf16 path; None: fp32); the residual stream is fp32 on every
        # path (encoder.layer_forward).
        self.matmul_dtype = torch.bfloat16 if precision == "bf16" else None
        self.query_prefix = query_prefix
        self.batch_overhead = BATCH_OVERHEAD_TOKENS[precision]

    def _batches(self, lengths: list[int], max_batch: int) -> list[list[int]]:
        return length_batches(lengths, max_batch, self.batch_overhead)

    def _prepare(self, text: str, max_length: int | None = None) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.tok(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offs = list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
        room = (max_length or self.max_length) - 2 - len(self.prefix_ids)
        if len(ids) > room:  # head + tail: openings and sign-offs both carry tone
            head = room * 2 // 3
            keep = list(range(head)) + list(range(len(ids) - (room - head), len(ids)))
            ids, offs = [ids[i] for i in keep], [offs[i] for i in keep]
        return [self.tok.bos_token_id, *self.prefix_ids, *ids, self.tok.eos_token_id], offs

    def attribute(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Gradient x input of the toxicity logit at the shared bottom's output: one value per token.

        The mean-pooled head's exact per-token split at the last layer is flat (the fine-tuned layers mix the
        signal over every token); attributing at the layer where the toxicity branch starts points at the
        words themselves. It costs one backward pass through the top layers, so callers run it only for
        comments that will show words.
        """
        top = self.tox_top
        assert top is not None
        with torch.inference_mode(False), torch.enable_grad():
            xs = x.clone().requires_grad_(True)  # a clone outside inference mode is a normal tensor
            m = mask.clone()
            h = top.states(xs, m, matmul_dtype=self.matmul_dtype).float()
            logit = top.head(mean_pool(h, m))[:, 0]
            (grad,) = torch.autograd.grad(logit.sum(), xs)
        return (grad.float() * xs.detach().float()).sum(-1)

    @torch.inference_mode()
    def encode_comments(
        self,
        items: Sequence[tuple[str, str]],
        batch_size: int = 32,
        explain: Callable[[int, float], bool] | None = None,
        *,
        max_length: int | None = None,
        toxicity: bool = True,
        off_topic: bool = True,
        read_further: Sequence[bool] | None = None,
    ) -> list[Encoded]:
        """Encode (title, body) pairs; batches of similar length (``length_batches``); results in input order.

        ``explain(index, toxicity_logit)`` picks the comments whose driving words are worth a backward pass.
        ``max_length`` overrides the cut (off-topic reads long comments further than toxicity does);
        ``toxicity=False`` skips the toxicity branch; ``off_topic=False`` skips the e5 top (a third of the
        work) for callers that judge no article: the vectors are then empty. ``read_further[i]``: off-topic
        reads item i again, further, if this cut fills up; such an item gets no e5 top here (its vectors are
        empty), since the e5 states of a cut comment would be thrown away.
        """
        texts = [comment_text(t, b) for t, b in items]
        body_start = [len(t) + 1 if t else 0 for t, _ in items]
        prepared = [self._prepare(t, max_length) for t in texts]
        with_toxicity = toxicity and self.tox_top is not None
        out: list[Encoded | None] = [None] * len(texts)
        first = 1 + len(self.prefix_ids)
        cut = max_length or self.max_length
        for idx in self._batches([len(seq) for seq, _ in prepared], batch_size):
            ids, mask = pad_batch([prepared[i][0] for i in idx], self.tok.pad_token_id)
            e5_rows = [
                j
                for j, i in enumerate(idx)
                if off_topic and not (read_further and read_further[i] and len(prepared[i][0]) >= cut)
            ]
            matmul = self.matmul_dtype
            x = embed(self.model.embeddings, ids, torch.float32)
            x = run_layers(self.model.encoder.layer[: self.n_frozen], x, mask, matmul_dtype=matmul)
            e5 = None
            if e5_rows:
                width = int(mask[e5_rows].sum(1).max())  # these rows' own longest
                e5_mask = mask[e5_rows, :width]
                top = self.model.encoder.layer[self.n_frozen :]
                e5 = run_layers(top, x[e5_rows, :width], e5_mask, matmul_dtype=matmul).float()
            tox = self.tox_top.states(x, mask, matmul_dtype=matmul).float() if with_toxicity else None
            pooled = mean_pool(e5, e5_mask) if e5 is not None else None
            where = {j: k for k, j in enumerate(e5_rows)}
            encs = []
            for j, i in enumerate(idx):
                if j not in where:
                    assert tox is not None, "an encoding needs the toxicity or the off-topic branch"
                    encs.append(self._toxicity_only(texts[i], prepared[i], mask[j], tox[j]))
                    continue
                assert e5 is not None and pooled is not None
                k = where[j]
                tox_j = None if tox is None else tox[j]
                encs.append(self._one(texts[i], body_start[i], prepared[i], e5[k], pooled[k], mask[j], first, tox_j))
            for j, i in enumerate(idx):
                out[i] = encs[j]
            rows = [
                j
                for j, enc in enumerate(encs)
                if explain and enc.tox_logits is not None and explain(idx[j], float(enc.tox_logits[0]))
            ]
            for start in range(0, len(rows), ATTRIBUTION_BATCH):  # small chunks bound the backward's memory
                chunk = rows[start : start + ATTRIBUTION_BATCH]
                width = int(mask[chunk].sum(1).max())  # the chunk's own longest, not the batch's
                attributions = self.attribute(x[chunk, :width], mask[chunk, :width]).numpy()
                for row, j in enumerate(chunk):
                    encs[j].token_contrib = attributions[row][first : first + len(encs[j].token_offsets or [])]
        return out  # type: ignore[return-value]

    @torch.inference_mode()
    def attribute_comments(self, items: Sequence[tuple[str, str]]) -> list[Attribution]:
        """Word attributions of (title, body) pairs on their own: the shared bottom, then ``attribute``.

        For comments scored earlier without their words (they are computed where a person reads them); the
        e5 top and the toxicity forward of scoring are not repeated.
        """
        texts = [comment_text(t, b) for t, b in items]
        prepared = [self._prepare(t) for t in texts]
        first = 1 + len(self.prefix_ids)
        out: list[Attribution | None] = [None] * len(texts)
        for idx in self._batches([len(seq) for seq, _ in prepared], ATTRIBUTION_BATCH):
            ids, mask = pad_batch([prepared[i][0] for i in idx], self.tok.pad_token_id)
            x = embed(self.model.embeddings, ids, torch.float32)
            x = run_layers(self.model.encoder.layer[: self.n_frozen], x, mask, matmul_dtype=self.matmul_dtype)
            contrib = self.attribute(x, mask).numpy()
            for row, i in enumerate(idx):
                offs = prepared[i][1]
                out[i] = Attribution(texts[i], contrib[row][first : first + len(offs)], offs)
        return out  # type: ignore[return-value]

    def _one(
        self,
        text: str,
        body_start: int,
        prepared: tuple[list[int], list[tuple[int, int]]],
        e5: torch.Tensor,
        pooled: torch.Tensor,
        mask: torch.Tensor,
        first: int,
        tox: torch.Tensor | None,
    ) -> Encoded:
        offs = prepared[1]
        n = int(mask.sum())
        spans = [(a + body_start, b + body_start) for a, b in sentence_spans(text[body_start:])]
        rows = span_token_rows(offs, spans, first)
        body_rows = [first + k for k, (a, _) in enumerate(offs) if a >= body_start] or list(range(n))
        spans = [sp for sp, r in zip(spans, rows, strict=True) if r]
        rows = [r for r in rows if r]
        sums = [e5[r].sum(0).numpy() for r in rows]  # a run's mean is its sentences' sums over its tokens
        sents = [unit(v) for v in sums]
        passages = [
            (i, j, unit(np.sum(sums[i:j], axis=0)), sum(map(len, rows[i:j])))
            for i, j in passage_windows([len(r) for r in rows])
        ]
        enc = Encoded(
            text,
            unit(pooled.numpy()),
            unit(e5[body_rows].mean(0).numpy()),
            sents,
            spans,
            n,
            passages,
            token_offsets=offs,
        )
        if tox is not None:
            enc.tox_logits = self._toxicity_logits(tox, n)
        return enc

    def _toxicity_logits(self, tox: torch.Tensor, n: int) -> np.ndarray:
        """The toxicity heads over one comment's mean-pooled top states (its ``n`` real tokens)."""
        assert self.tox_top is not None
        return self.tox_top.head(tox[:n].mean(0)).numpy()

    def _toxicity_only(
        self, text: str, prepared: tuple[list[int], list[tuple[int, int]]], mask: torch.Tensor, tox: torch.Tensor
    ) -> Encoded:
        """An encoding with the toxicity logits alone: no e5 vectors, sentences or passages."""
        n = int(mask.sum())
        empty = np.zeros(0, np.float32)
        enc = Encoded(text, empty, empty, [], [], n, token_offsets=prepared[1])
        enc.tox_logits = self._toxicity_logits(tox, n)
        return enc

    @torch.inference_mode()
    def encode_passages(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """e5 vectors ("query: " prefix, symmetric similarity) of article texts, head-truncated.

        As comments are read: bf16 matmuls over an fp32 residual stream on the bf16 path. Embedding articles in
        fp32 arithmetic instead brought the largest off-topic difference between the paths on the labelled
        pages from 0.014 to 0.012, and cost the bf16 path 15 % on the bench (50 comments an article).
        """
        seqs = []
        for t in texts:
            ids = self.prefix_ids + self.tok(t, add_special_tokens=False)["input_ids"]
            seqs.append([self.tok.bos_token_id, *ids[: self.article_max_length - 2], self.tok.eos_token_id])
        out = np.zeros((len(seqs), self.model.config.hidden_size), np.float32)
        for idx in self._batches([len(seq) for seq in seqs], batch_size):
            ids, mask = pad_batch([seqs[i] for i in idx], self.tok.pad_token_id)
            x = embed(self.model.embeddings, ids, torch.float32)
            x = run_layers(self.model.encoder.layer, x, mask, matmul_dtype=self.matmul_dtype)
            pooled = mean_pool(x, mask).numpy()
            for j, i in enumerate(idx):
                out[i] = unit(pooled[j])
        return out


def load_backbone(
    base_dir: Path | None,
    *,
    n_frozen: int,
    max_length: int,
    toxicity_dir: Path | None = None,
    labels: tuple[str, ...] = (),
    article_max_length: int = 512,
    query_prefix: str = QUERY_PREFIX,
    precision: str = "bf16",
    allow_download: bool = False,
) -> Backbone:
    """The base encoder (plus the fine-tuned toxicity top in ``toxicity_dir``) in the numerics scoring uses.

    Training fits the toxicity fusion and the off-topic head through this same loader, so what they are
    calibrated on is what ``score`` computes: bf16 weights move logits enough to shift held-out macro-F1 by
    0.01, and a comment is cut at the same ``max_length``. ``precision`` is "bf16" (the linear layers' weights
    in bf16, LayerNorms and the residual stream in fp32: ``encoder.layer_forward``) or "fp32"; the word matrix
    stays memory-mapped fp16 on both.
    """
    tune_the_allocator_for_scoring()
    # fp16 is the converted file's own dtype: loading it is a memory map, not a copy. The linear layers then
    # move to the compute dtype, LayerNorms and small embeddings to fp32; the word matrix stays mapped
    # (see encoder.embed).
    model, base_path = load_encoder_weights(base_dir, allow_download)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    scoring_dtypes(model, dtype, skip=model.embeddings.word_embeddings)
    top = ToxicityTop.load(toxicity_dir, model, n_frozen, labels, dtype) if toxicity_dir else None
    return Backbone(
        _scoring_tokenizer(base_path), model, n_frozen, top, max_length, article_max_length, query_prefix, precision
    )


def load_encoder_weights(base_dir: Path | None, allow_download: bool = False) -> tuple[Any, Path]:
    """(encoder weights in the file's dtype, memory-mapped; the checkpoint dir): through bert.py where the
    checkpoint is a single safetensors file with BertModel's names (the converted base always is), else through
    transformers (any other local checkpoint)."""
    from moderator.scoring.bert import load_bert

    base_path = Path(base_dir) if base_dir else ensure_base_model()
    try:
        return load_bert(base_path), base_path
    except (OSError, ValueError, KeyError, RuntimeError):
        _, model, base_path = load_base(base_path, allow_download=allow_download, dtype=torch.float16, tokenizer=False)
        return model, base_path


MMAP_THRESHOLD = 16 << 20  # bytes: blocks at least this large are mapped on their own and unmapped when freed
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers
M_ARENA_MAX = -8
ARENA_MAX = 1  # one heap for all threads: scoring's worker threads reuse each other's freed activations


def tune_the_allocator_for_scoring() -> None:
    """Fix glibc's mmap threshold at 16 MiB and its heaps at one, so activations are reused, not re-faulted.

    glibc raises the threshold each time a mapped block is freed, after which large activations come from the
    heap and stay resident when freed (the fp32 path's peak RSS read 1034 MB). A fixed 1 MiB fixed that, but
    then every activation over 1 MiB (most of a batch's) was a fresh mapping whose pages the kernel faults in
    and zeroes again on every layer: 11 % of bf16 scoring time sat in `F.pad` alone. At 16 MiB with one heap
    for the two scoring threads (glibc gives each thread its own, which kept freed memory twice), 1,600 bench
    comments scored at 69 comments/s instead of 55 (bf16, AMX) and 25 instead of 23 (fp32, AVX2), at 880 MB
    peak RSS instead of 845; attention scores of long batches (100 MB) are still mapped and returned.
    A no-op where the C library is not glibc.
    """
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_ARENA_MAX, ARENA_MAX)


TRIM_ABOVE_MB = 850  # resident memory above which a scored batch hands the heap's free pages back


def return_freed_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``) once the process holds more than
    ``TRIM_ABOVE_MB``; scoring calls it after each batch.

    Why: with activations under the mmap threshold taken from one heap, freed memory stayed resident and the
    heap only grew with the batches it had seen: a 5,000-comment `flag` (bf16, AMX, 100 articles) peaked at
    1.04-1.09 GB, while the 400 comments of `bench` stayed under 0.91 GB. A trim after every batch held that
    run at 0.93-0.94 GB but cost 5-7 % of bf16 `bench` (the next batch faults the pages in again), and one
    every 5 s let the heap regrow to 0.98-1.0 GB; trimming only above a resident budget costs nothing while
    the process is under it. A no-op where the C library is not glibc or /proc is not there.
    """
    libc = _glibc()
    if libc is not None and resident_mb() > TRIM_ABOVE_MB:
        libc.malloc_trim(0)


def resident_mb() -> float:
    """This process's resident memory in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


@functools.cache
def _glibc() -> Any:
    """glibc through ctypes, or None where the C library is another (macOS, musl)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
