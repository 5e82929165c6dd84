"""Reproduce the shipped heads from ../shared/data: fine-tuned top layers + toxicity heads, the n-gram model
and the fusion, then off-topic.

Toxicity: the bottom ``n_frozen`` layers of multilingual-e5-small are run ONCE over every training text
(bf16, kept in RAM); only the top layers and a linear head over mean-pooled states are trained. Mean
pooling + a linear head means ``logit = mean_t(w . h_t) + b``, so per-token contributions are exact.
An n-gram logistic regression is fitted on the same training split; the fusion of both logits is fitted on
the dev split and the operating threshold chosen there; the test split is touched once, for the report.

    python -m moderator.scoring.train --out models/moderator-de-v1 --data ../shared/data
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from moderator.scoring import metrics
from moderator.scoring.convert import BASE_MODEL_ID, conversion_checksum, ensure_base_model
from moderator.scoring.data import LABELS, Example, load_toxicity
from moderator.scoring.encoder import head_tail_ids, mean_pool, pad_batch, run_layers
from moderator.scoring.ngrams import BUCKETS, NgramModel

QUERY = "query: "
# Chosen on dev macro-F1: adding cophi/* and iwg (other annotation schemes) lowered dev GermEval 2021 AUC.
# harmful_vio carries only the threat label.
DEFAULT_SOURCES = ("germeval", "harmful_vio")
# L2 strength of the n-gram logistic regression (loss sum + ||w||^2 / 2C), chosen on dev: C 10 and 30 gave
# fused dev macro-F1 0.742 and 0.745 (3: 0.737, before the analyser matched words split on whitespace).
NGRAM_C = 30.0
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


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


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


def encode_ids(tok: Any, texts: list[str], prefix: str, max_len: int) -> list[list[int]]:
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


class ToxicityTop(nn.Module):
    """Fine-tuned top layers + one linear head per label over mean-pooled states."""

    def __init__(self, layers: nn.ModuleList, hidden: int, labels: tuple[str, ...] = LABELS) -> None:
        super().__init__()
        self.layers = layers
        self.head = nn.Linear(hidden, len(labels))
        self.labels = labels

    def states(self, x: torch.Tensor, mask: torch.Tensor, dropout: float = 0.0) -> torch.Tensor:
        return run_layers(self.layers, x, mask, dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, dropout: float = 0.0) -> torch.Tensor:
        h = mean_pool(self.states(x, mask, dropout), mask)
        return self.head(nn.functional.dropout(h, dropout, self.training))


def _stack(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
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
    out = []
    chunk = batch * 50
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c : c + chunk], key=lambda i: lengths[i])
        out += [part[i : i + batch] for i in range(0, len(part), batch)]
    rng.shuffle(out)
    return out


@torch.inference_mode()
def predict_logits(top: ToxicityTop, states: list[torch.Tensor], batch: int = 128) -> np.ndarray:
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


def fit_logistic(x: np.ndarray, y: np.ndarray, iters: int = 200) -> tuple[np.ndarray, float]:
    """p = sigmoid(x @ coef + bias), unregularised, by Newton's method on log loss: Platt scaling when ``x``
    is one logit, the toxicity fusion when it holds the transformer's and the n-gram model's."""
    z = np.hstack([np.atleast_2d(np.asarray(x, np.float64).T).T, np.ones((len(y), 1))])
    t = y.astype(np.float64)
    beta = np.zeros(z.shape[1])
    beta[0] = 1.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        hess = (z * (p * (1 - p) + 1e-9)[:, None]).T @ z + 1e-6 * np.eye(len(beta))
        step = np.linalg.solve(hess, z.T @ (p - t))
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta[:-1], float(beta[-1])


def fit_platt(logits: np.ndarray, y: np.ndarray, iters: int = 200) -> tuple[float, float]:
    """Platt scaling p = sigmoid(a * logit + b)."""
    coef, bias = fit_logistic(np.asarray(logits)[:, None], y, iters)
    return float(coef[0]), bias


def _label_matrix(examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
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
) -> dict:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    t0 = time.time()
    tok, model, base_dir = load_base(base_dir)
    train, dev, test = training_split(data_dir, seed, ge21_weight, sources, limit)
    log(f"train {len(train)} texts; dev {[len(v) for v in dev.values()]}; test {[len(v) for v in test.values()]}")
    pad = tok.pad_token_id

    def states_of(exs: list[Example]) -> list[torch.Tensor]:
        return bottom_states(model, encode_ids(tok, [e.text for e in exs], QUERY, max_len), n_frozen, pad)

    train_states = states_of(train)
    dev_states = {k: states_of(v) for k, v in dev.items()}
    log(f"bottom states done in {time.time() - t0:.0f}s")
    top = ToxicityTop(copy.deepcopy(model.encoder.layer[n_frozen:]), model.config.hidden_size)
    for p in top.parameters():
        p.requires_grad_(True)
    y_all, w_all = _label_matrix(train)
    params = [{"params": top.layers.parameters(), "lr": lr}, {"params": top.head.parameters(), "lr": lr * 10}]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    lengths = [s.shape[0] for s in train_states]
    steps = epochs * math.ceil(len(train) / batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.06 * steps)) * max(0.0, (steps - s) / steps)
    )
    best, best_state, history = -1.0, None, []
    for epoch in range(epochs):
        top.train()
        total, seen = 0.0, 0
        for bi, idx in enumerate(_batches(lengths, batch, rng)):
            x, mask = _stack([train_states[i] for i in idx])
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
        scores = {k: predict_logits(top, v)[:, 0] for k, v in dev_states.items()}
        f1s = {
            k: metrics.macro_f1(
                np.array([e.labels["toxic"] for e in dev[k]]) > 0.5,
                scores[k] >= metrics.best_threshold([(np.array([e.labels["toxic"] for e in dev[k]]) > 0.5, scores[k])]),
            )
            for k in dev
        }
        aucs = {k: metrics.roc_auc(np.array([e.labels["toxic"] for e in dev[k]]) > 0.5, scores[k]) for k in dev}
        dev_score = float(np.mean(list(f1s.values())))
        history.append({"epoch": epoch, "train_loss": total / seen, "dev_macro_f1_oracle": f1s, "dev_auc": aucs})
        log(f"epoch {epoch}: loss {total / seen:.4f} dev macro-F1 {f1s} auc {aucs}")
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


def training_split(
    data_dir: Path, seed: int, ge21_weight: float, sources: tuple[str, ...] | list[str] | None, limit: int | None
) -> tuple[list[Example], dict, dict]:
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
    out: dict[str, int] = {}
    for e in exs:
        out[e.source] = out.get(e.source, 0) + 1
    return out


def calibrate_toxicity(
    out_dir: Path, data_dir: Path, base_dir: Path | None = None, *, ngram_c: float = NGRAM_C
) -> dict:
    """Fit the n-gram model on the fine-tune's training split, then the fusion and threshold on dev.

    The test split is read once, for the report, beside the transformer alone (Platt on dev) for comparison.
    Rewrites toxicity.json (keeping the fine-tune's record) and writes ngrams.safetensors.
    """
    from moderator.scoring.transformer import comment_text, load_backbone

    t0 = time.time()
    record = json.loads((out_dir / "toxicity.json").read_text())
    finetune = {k: record[k] for k in FINETUNE_KEYS if k in record}
    train, dev, test = training_split(
        data_dir, finetune["seed"], finetune["ge21_weight"], finetune["sources"], finetune.get("limit")
    )
    backbone = load_backbone(
        base_dir,
        n_frozen=finetune["n_frozen"],
        max_length=finetune["max_len"],
        toxicity_dir=out_dir,
        labels=tuple(finetune["labels"]),
    )

    def transformer_logits(exs: list[Example]) -> np.ndarray:
        """The toxicity logits ``score`` computes (bf16 weights), for the texts as it reads them."""
        logits = [enc.tox_logits for enc in backbone.encode_comments([("", e.text) for e in exs])]
        if any(lg is None for lg in logits):
            raise RuntimeError(f"{out_dir}: the backbone has no toxicity top")
        return np.array([float(lg[0]) for lg in logits if lg is not None])

    labelled = [e for e in train if "toxic" in e.labels]
    log(f"n-gram model on {len(labelled)} texts")
    ngram = NgramModel.fit(
        [e.text for e in labelled],
        np.array([e.labels["toxic"] for e in labelled]),
        np.array([e.weight for e in labelled]),
        c=ngram_c,
    )
    ngram.save(out_dir)
    ngram = NgramModel.load(out_dir)  # measure what ships (fp16)
    parts = {}
    for split, groups in (("dev", dev), ("test", test)):
        for k, exs in groups.items():
            y = np.array([e.labels["toxic"] for e in exs]) > 0.5
            parts[split, k] = (y, transformer_logits(exs), ngram.logits([comment_text("", e.text) for e in exs]))
    dev_keys = list(dev)
    y_dev = np.concatenate([parts["dev", k][0] for k in dev_keys])
    both = {key: np.stack([t, n], 1) for key, (_, t, n) in parts.items()}
    coef, bias = fit_logistic(np.concatenate([both["dev", k] for k in dev_keys]), y_dev)
    a, b = fit_platt(np.concatenate([parts["dev", k][1] for k in dev_keys]), y_dev)

    def sigmoid(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-z))

    fused = {key: sigmoid(x @ coef + bias) for key, x in both.items()}
    alone = {key: sigmoid(a * t + b) for key, (_, t, _) in parts.items()}
    threshold = metrics.best_threshold([(parts["dev", k][0], fused["dev", k]) for k in dev_keys])
    alone_threshold = metrics.best_threshold([(parts["dev", k][0], alone["dev", k]) for k in dev_keys])

    def reports(split: str, probs: dict, at: float) -> dict:
        return {k: metrics.binary_report(parts[s, k][0], probs[s, k], at) for s, k in parts if s == split}

    report: dict = {
        "fusion": {"transformer": float(coef[0]), "ngram": float(coef[1]), "bias": bias},
        "threshold": threshold,
        "dev": reports("dev", fused, threshold),
        "test": reports("test", fused, threshold),
        "transformer_alone": {
            "platt": [a, b],
            "threshold": alone_threshold,
            "dev": reports("dev", alone, alone_threshold),
            "test": reports("test", alone, alone_threshold),
        },
        "ngram_alone": {
            s: {
                k: {"roc_auc": metrics.roc_auc(y, n), "average_precision": metrics.average_precision(y, n)}
                for (s2, k), (y, _, n) in parts.items()
                if s2 == s
            }
            for s in ("dev", "test")
        },
        "ngram": {"buckets": BUCKETS, "c": ngram_c, "train_size": len(labelled), "seconds": round(time.time() - t0)},
    }
    log(f"fusion {coef.round(3).tolist()} {bias:.3f} threshold={threshold:.3f}")
    log("test: " + json.dumps({k: {m: v[m] for m in ("macro_f1", "roc_auc")} for k, v in report["test"].items()}))
    (out_dir / "toxicity.json").write_text(json.dumps({**report, **finetune}, indent=2, default=float) + "\n")
    return report


def load_toxicity_top(
    model_dir: Path, model: Any, n_frozen: int, labels: tuple[str, ...] = LABELS, dtype: torch.dtype = torch.float32
) -> ToxicityTop:
    """The fine-tuned top layers and heads from ``toxicity.safetensors`` over a copy of the base's top layers."""
    from safetensors.torch import load_file

    top = ToxicityTop(copy.deepcopy(model.encoder.layer[n_frozen:]), model.config.hidden_size, labels)
    state = load_file(str(Path(model_dir) / "toxicity.safetensors"))
    top.load_state_dict({k: v.to(dtype) for k, v in state.items()}, assign=True)
    top.head.float()  # the heads read fp32 pooled states
    return top.eval()


def save_toxicity(out_dir: Path, top: ToxicityTop, report: dict, base_dir: Path) -> None:
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"layers.{k}": v.to(torch.float16).contiguous() for k, v in top.layers.state_dict().items()}
    tensors.update({f"head.{k}": v.float().contiguous() for k, v in top.head.state_dict().items()})
    save_file(tensors, str(out_dir / "toxicity.safetensors"))
    report = dict(
        report, labels=list(LABELS), base_model_id=BASE_MODEL_ID, base_conversion_sha256=conversion_checksum(base_dir)
    )
    (out_dir / "toxicity.json").write_text(json.dumps(report, indent=2, default=float) + "\n")


def train_main(
    out_dir: Path, data_dir: Path, base_dir: Path | None = None, *, skip_finetune: bool = False, **kwargs: Any
) -> dict:
    """Train both parts into ``out_dir`` and write its config.json; returns the combined report."""
    from moderator.scoring import offtopic

    out_dir, data_dir = Path(out_dir), Path(data_dir)
    t0 = time.time()
    if not skip_finetune:
        train_toxicity(out_dir, data_dir, base_dir, **kwargs)
    calibrate_toxicity(out_dir, data_dir, base_dir)
    max_length = json.loads((out_dir / "toxicity.json").read_text())["max_len"]  # comments are cut as scoring cuts them
    offtopic.train_offtopic(out_dir, data_dir, base_dir, n_frozen=kwargs.get("n_frozen", 6), max_length=max_length)
    config = write_config(out_dir)
    log(f"done in {time.time() - t0:.0f}s -> {out_dir}")
    return config


def train(
    out_dir: Path = Path("models/moderator-de-v1"),
    data_dir: Path = Path("../shared/data"),
    base_dir: Path | None = None,
) -> dict:
    """Reproduce the shipped heads with the shipped settings (what ``python -m moderator.scoring.train`` runs)."""
    return train_main(out_dir, data_dir, base_dir)


def write_config(out_dir: Path, name: str | None = None) -> dict:
    tox = json.loads((out_dir / "toxicity.json").read_text())
    off = json.loads((out_dir / "offtopic.json").read_text())
    name = name or out_dir.name
    config = {
        "name": name,
        "model_version": f"{name}+e5s-{tox['base_conversion_sha256'][:8]}",
        "base_model_id": tox["base_model_id"],
        "base_conversion_sha256": tox["base_conversion_sha256"],
        "n_frozen": tox["n_frozen"],
        "max_length": tox["max_len"],
        "article_max_length": off["article_max_length"],
        "query_prefix": QUERY,
        "article_prefix": QUERY,  # articles are embedded like comments (symmetric similarity)
        "labels": tox["labels"],
        "toxicity": {"fusion": tox["fusion"], "threshold": tox["threshold"]},
        "off_topic": {
            k: off[k]
            for k in ("features", "mean", "std", "weights", "bias", "platt", "threshold", "generic", "reference")
        },
        "bf16": True,
    }
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return config


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("models/moderator-de-v1"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--base", type=Path, default=None)
    ap.add_argument("--n-frozen", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None, help="train on a random subset (smoke tests)")
    ap.add_argument(
        "--skip-finetune",
        action="store_true",
        help="reuse the fine-tuned layers in --out; refit the n-gram model, fusion and off-topic head",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    kw = {"n_frozen": args.n_frozen, "epochs": args.epochs, "limit": args.limit}
    if args.skip_finetune:
        kw = {"n_frozen": args.n_frozen}
    train_main(args.out, args.data, args.base, skip_finetune=args.skip_finetune, **kw)


if __name__ == "__main__":
    main()
