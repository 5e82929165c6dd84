"""Fine-tune the toxicity top: the top layers of multilingual-e5-small and one linear head per label.

The bottom ``n_frozen`` layers are run ONCE over every training text (bf16, kept in RAM); only the top layers
and a linear head over mean-pooled states are trained. Mean pooling + a linear head means
``logit = mean_t(w . h_t) + b``, so per-token contributions are exact. The best epoch on dev macro-F1 is kept
and saved by ``ToxicityTop.save``, beside ``toxicity.json`` (the settings and history, read by calibrate.py).
"""

from __future__ import annotations

import copy
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from moderator import metrics
from moderator.scoring.artifacts import LABELS, QUERY_PREFIX, TOXICITY_REPORT
from moderator.scoring.backbone import ToxicityTop, load_base
from moderator.scoring.convert import BASE_MODEL_ID, conversion_checksum
from moderator.scoring.encoder import head_tail_ids, pad_batch, run_layers
from moderator.training import log
from moderator.training.data import Example, load_toxicity

# Chosen on dev macro-F1: adding cophi/* and iwg (other annotation schemes) lowered dev GermEval 2021 AUC.
# harmful_vio carries only the threat label.
DEFAULT_SOURCES = ("germeval", "harmful_vio")
# What toxicity.json keeps of the fine-tune when the n-gram model and fusion are refitted.
FINETUNE_KEYS = (
    "history",
    "train_size",
    "train_seconds",
    "n_frozen",
    "epochs",
    "lr",
    "batch",
    "max_len",
    "seed",
    "ge21_weight",
    "sources",
    "limit",
    "train_sources",
    "labels",
    "base_model_id",
    "base_conversion_sha256",
)


def encode_ids(tok: Any, texts: list[str], prefix: str, max_len: int) -> list[list[int]]:
    """Token ids of ``prefix`` + each text, cut head and tail to ``max_len`` with specials."""
    pre = tok(prefix.strip(), add_special_tokens=False)["input_ids"]
    body = tok(texts, add_special_tokens=False)["input_ids"]
    return [head_tail_ids(pre + ids, max_len, tok.bos_token_id, tok.eos_token_id) for ids in body]


@torch.inference_mode()
def bottom_states(model: Any, seqs: list[list[int]], n_frozen: int, pad_id: int, batch: int = 64) -> list[torch.Tensor]:
    """Hidden states after the embeddings and the first ``n_frozen`` layers, one bf16 [T, H] per text."""
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out: list[torch.Tensor | None] = [None] * len(seqs)
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        ids, mask = pad_batch([seqs[i] for i in idx], pad_id)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            x = model.embeddings(input_ids=ids)
            x = run_layers(model.encoder.layer[:n_frozen], x, mask)
        for j, i in enumerate(idx):
            out[i] = x[j, : len(seqs[i])].to(torch.bfloat16).clone()
        if start // batch % 20 == 0:
            log(f"  bottom states {start + len(idx)}/{len(seqs)}")
    return out  # type: ignore[return-value]


def _stack(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-text [T, H] states padded into one [B, T, H] batch and its mask."""
    n, hdim = max(s.shape[0] for s in states), states[0].shape[1]
    x = torch.zeros(len(states), n, hdim, dtype=torch.bfloat16)
    mask = torch.zeros(len(states), n, dtype=torch.long)
    for i, s in enumerate(states):
        x[i, : s.shape[0]] = s
        mask[i, : s.shape[0]] = 1
    return x, mask


def _batches(lengths: list[int], batch: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed shuffled batches: sort within random chunks of 50 batches, then shuffle batches."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    out: list[list[int]] = []
    chunk = batch * 50
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c : c + chunk], key=lambda i: lengths[i])
        out += [part[i : i + batch] for i in range(0, len(part), batch)]
    rng.shuffle(out)
    return out


@torch.inference_mode()
def predict_logits(top: ToxicityTop, states: list[torch.Tensor], batch: int = 128) -> np.ndarray:
    """[N, labels] logits of the top over precomputed bottom states, in input order."""
    top.eval()
    order = sorted(range(len(states)), key=lambda i: states[i].shape[0])
    out = np.zeros((len(states), len(top.labels)), np.float32)
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        x, mask = _stack([states[i] for i in idx])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = top(x, mask)
        out[idx] = logits.float().numpy()
    return out


def _label_matrix(examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels (NaN where a source does not annotate a label) and sample weights as tensors."""
    y = torch.tensor([[e.labels.get(k, math.nan) for k in LABELS] for e in examples], dtype=torch.float32)
    w = torch.tensor([e.weight for e in examples], dtype=torch.float32)
    return y, w


def train_toxicity(
    out_dir: Path,
    data_dir: Path,
    base_dir: Path | None = None,
    *,
    n_frozen: int = 6,
    epochs: int = 3,
    batch: int = 32,
    lr: float = 1e-4,
    max_len: int = 128,
    seed: int = 13,
    limit: int | None = None,
    ge21_weight: float = 3.0,
    sources: tuple[str, ...] | None = DEFAULT_SOURCES,
) -> dict[str, Any]:
    """Fine-tune on the training split, keep the best epoch on dev, save it into ``out_dir``; returns the record."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    t0 = time.time()
    tok, model, base_dir = load_base(base_dir)
    train, dev, test = training_split(data_dir, seed, ge21_weight, sources, limit)
    log(f"train {len(train)} texts; dev {[len(v) for v in dev.values()]}; test {[len(v) for v in test.values()]}")
    pad = tok.pad_token_id

    def states_of(exs: list[Example]) -> list[torch.Tensor]:
        return bottom_states(model, encode_ids(tok, [e.text for e in exs], QUERY_PREFIX, max_len), n_frozen, pad)

    train_states = states_of(train)
    dev_states = {k: states_of(v) for k, v in dev.items()}
    log(f"bottom states done in {time.time() - t0:.0f}s")
    top = ToxicityTop.from_base(model, n_frozen)
    for p in top.parameters():
        p.requires_grad_(True)
    labels = _label_matrix(train)
    opt, sched = _optimiser(top, lr, epochs * math.ceil(len(train) / batch))
    best, best_state, history = -1.0, None, []
    for epoch in range(epochs):
        batches = _batches([s.shape[0] for s in train_states], batch, rng)
        loss = _train_epoch(top, opt, sched, train_states, labels, batches, epoch, t0)
        f1s, aucs = _dev_measures(top, dev_states, dev)
        dev_score = float(np.mean(list(f1s.values())))
        history.append({"epoch": epoch, "train_loss": loss, "dev_macro_f1_oracle": f1s, "dev_auc": aucs})
        log(f"epoch {epoch}: loss {loss:.4f} dev macro-F1 {f1s} auc {aucs}")
        if dev_score > best:
            best, best_state = dev_score, copy.deepcopy(top.state_dict())
    top.load_state_dict(best_state or top.state_dict())
    report = dict(
        history=history,
        train_size=len(train),
        train_seconds=round(time.time() - t0),
        n_frozen=n_frozen,
        epochs=epochs,
        lr=lr,
        batch=batch,
        max_len=max_len,
        seed=seed,
        ge21_weight=ge21_weight,
        sources=list(sources or []),
        limit=limit,
        train_sources=_source_counts(train),
    )
    save_toxicity(out_dir, top, report, base_dir)
    return report


def _optimiser(
    top: ToxicityTop, lr: float, steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (heads at 10x the layers' rate), linear warm-up over 6 % of the steps, then linear decay."""
    params = [{"params": top.layers.parameters(), "lr": lr}, {"params": top.head.parameters(), "lr": lr * 10}]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.06 * steps)) * max(0.0, (steps - s) / steps)
    )
    return opt, sched


def _train_epoch(
    top: ToxicityTop,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LambdaLR,
    states: list[torch.Tensor],
    labels: tuple[torch.Tensor, torch.Tensor],
    batches: list[list[int]],
    epoch: int,
    t0: float,
) -> float:
    """One pass over ``batches``; returns the mean training loss per text."""
    y_all, w_all = labels
    top.train()
    total, seen = 0.0, 0
    for bi, idx in enumerate(batches):
        x, mask = _stack([states[i] for i in idx])
        y, w = y_all[idx], w_all[idx]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = top(x, mask, dropout=0.1).float()
        known = ~torch.isnan(y)
        loss_el = nn.functional.binary_cross_entropy_with_logits(logits, torch.nan_to_num(y), reduction="none")
        loss_el = loss_el * known * w[:, None]
        loss_el[:, 0] *= 2.0  # toxicity is the headline label
        loss = loss_el.sum() / known.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
        opt.step()
        sched.step()
        total, seen = total + float(loss.detach()) * len(idx), seen + len(idx)
        if bi % 50 == 0:
            log(f"  epoch {epoch} batch {bi} loss {total / seen:.4f} ({time.time() - t0:.0f}s)")
    return total / seen


def _dev_measures(
    top: ToxicityTop, dev_states: dict[str, list[torch.Tensor]], dev: dict[str, list[Example]]
) -> tuple[dict[str, float], dict[str, float | None]]:
    """Per dev source: macro-F1 at that source's best threshold (an oracle, for choosing epochs) and ROC-AUC."""
    scores = {k: predict_logits(top, v)[:, 0] for k, v in dev_states.items()}
    truth = {k: np.array([e.labels["toxic"] for e in dev[k]]) > 0.5 for k in dev}
    f1s = {k: metrics.macro_f1(truth[k], scores[k] >= metrics.best_threshold([(truth[k], scores[k])])) for k in dev}
    aucs = {k: metrics.roc_auc(truth[k], scores[k]) for k in dev}
    return f1s, aucs


def training_split(
    data_dir: Path, seed: int, ge21_weight: float, sources: tuple[str, ...] | list[str] | None, limit: int | None
) -> tuple[list[Example], dict[str, list[Example]], dict[str, list[Example]]]:
    """(train, dev, test) exactly as the fine-tune saw them, so the n-gram model and fusion can be refitted
    later on the same split."""
    train, dev, test = load_toxicity(data_dir, seed=seed, ge21_weight=ge21_weight)
    if sources:  # restrict training to these sources (prefix match), e.g. ("germeval",)
        train = [e for e in train if e.source.startswith(tuple(sources))]
    if limit:
        random.Random(seed).shuffle(train)
        train = train[:limit]
    return train, dev, test


def _source_counts(exs: list[Example]) -> dict[str, int]:
    """Training texts per source, for the record."""
    out: dict[str, int] = {}
    for e in exs:
        out[e.source] = out.get(e.source, 0) + 1
    return out


def save_toxicity(out_dir: Path, top: ToxicityTop, report: dict[str, Any], base_dir: Path) -> None:
    """The fine-tuned top (``ToxicityTop.save``) and its record, with the labels and the base it was tuned on."""
    top.save(out_dir)
    report = dict(
        report, labels=list(LABELS), base_model_id=BASE_MODEL_ID, base_conversion_sha256=conversion_checksum(base_dir)
    )
    (out_dir / TOXICITY_REPORT).write_text(json.dumps(report, indent=2, default=float) + "\n")
