"""The base encoder's weights in plain torch modules, read straight from the converted checkpoint.

Why: scoring never runs transformers' own forward (encoder.py computes each layer on the layer's weights),
but importing transformers' BERT to hold those weights cost about 3 s of every process start (its import
pulls in generation and distributed code) and memory besides; `flag`, `show`'s words, the desk's words and
`serve` all paid it. These modules carry the same parameter names as transformers' ``BertModel``, so the
fine-tuned toxicity layers (saved from it by training) load into them unchanged. Training still uses
transformers (it needs the real modules for gradients and dropout).
"""

from __future__ import annotations

import json
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_FILE = "model.safetensors"
SAFETENSORS_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}


@dataclass(frozen=True)
class BertConfig:
    """The fields of the checkpoint's config.json that the encoder needs."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @classmethod
    def read(cls, base_dir: Path) -> BertConfig:
        path = Path(base_dir) / "config.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("model_type") != "bert" or data.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{path}: not a BERT encoder with GELU (model_type {data.get('model_type')!r})")
        if data.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{path}: position_embedding_type {data['position_embedding_type']!r} is not supported")
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


Tensors = dict[str, torch.Tensor]


def weights(tensors: Tensors, prefix: str, *names: str) -> list[nn.Parameter]:
    """The named tensors under ``prefix`` as frozen parameters (a missing one is a KeyError naming it)."""
    return [nn.Parameter(tensors[f"{prefix}.{name}"], requires_grad=False) for name in names]


class Linear(nn.Module):
    """``nn.Linear`` over given weights: built without initialising weights that are replaced at once (a
    random init of the encoder, or torch's meta device, each cost a second or more of start-up)."""

    def __init__(self, tensors: Tensors, prefix: str) -> None:
        super().__init__()
        self.weight, self.bias = weights(tensors, prefix, "weight", "bias")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class LayerNorm(nn.Module):
    def __init__(self, tensors: Tensors, prefix: str, eps: float) -> None:
        super().__init__()
        self.weight, self.bias = weights(tensors, prefix, "weight", "bias")
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


class Embedding(nn.Module):
    def __init__(self, tensors: Tensors, prefix: str) -> None:
        super().__init__()
        (self.weight,) = weights(tensors, prefix, "weight")

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.weight)


class SelfAttention(nn.Module):
    def __init__(self, tensors: Tensors, prefix: str, config: BertConfig) -> None:
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.query, self.key, self.value = (Linear(tensors, f"{prefix}.{name}") for name in ("query", "key", "value"))


class DenseNorm(nn.Module):
    """A dense layer whose output is added to the residual and normalised (attention output, layer output)."""

    def __init__(self, tensors: Tensors, prefix: str, config: BertConfig) -> None:
        super().__init__()
        self.dense = Linear(tensors, f"{prefix}.dense")
        self.LayerNorm = LayerNorm(tensors, f"{prefix}.LayerNorm", config.layer_norm_eps)


class Attention(nn.Module):
    def __init__(self, tensors: Tensors, prefix: str, config: BertConfig) -> None:
        super().__init__()
        self.self = SelfAttention(tensors, f"{prefix}.self", config)
        self.output = DenseNorm(tensors, f"{prefix}.output", config)


class Intermediate(nn.Module):
    def __init__(self, tensors: Tensors, prefix: str) -> None:
        super().__init__()
        self.dense = Linear(tensors, f"{prefix}.dense")


class Layer(nn.Module):
    """One encoder layer's weights; encoder.layer_forward computes it."""

    def __init__(self, tensors: Tensors, prefix: str, config: BertConfig) -> None:
        super().__init__()
        self.attention = Attention(tensors, f"{prefix}.attention", config)
        self.intermediate = Intermediate(tensors, f"{prefix}.intermediate")
        self.output = DenseNorm(tensors, f"{prefix}.output", config)


class Embeddings(nn.Module):
    def __init__(self, tensors: Tensors, config: BertConfig) -> None:
        super().__init__()
        names = ("word_embeddings", "position_embeddings", "token_type_embeddings")
        self.word_embeddings, self.position_embeddings, self.token_type_embeddings = (
            Embedding(tensors, f"embeddings.{name}") for name in names
        )
        self.LayerNorm = LayerNorm(tensors, "embeddings.LayerNorm", config.layer_norm_eps)


class Encoder(nn.Module):
    def __init__(self, tensors: Tensors, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(
            Layer(tensors, f"encoder.layer.{i}", config) for i in range(config.num_hidden_layers)
        )


class Bert(nn.Module):
    """Embeddings and encoder layers under ``BertModel``'s parameter names (no pooler)."""

    def __init__(self, tensors: Tensors, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = Embeddings(tensors, config)
        self.encoder = Encoder(tensors, config)


def mapped_tensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file as views of a private memory map of it: nothing is read until used.

    safetensors' own loaders copy every tensor into memory; the 250k-row word matrix (192 MB in fp16) would
    then be resident whole, where a map keeps only the rows of tokens actually seen. The map is copy-on-write,
    so the file is never changed.
    """
    with path.open("rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
        buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    start = 8 + header_size
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {entry['dtype']}, not one of {list(SAFETENSORS_DTYPES)}")
        begin, end = entry["data_offsets"]
        count = (end - begin) // torch.empty(0, dtype=dtype).element_size()
        flat = torch.frombuffer(buffer, dtype=dtype, count=count, offset=start + begin)
        out[name] = flat.view(entry["shape"])
    return out


def load_bert(base_dir: Path) -> Bert:
    """The base encoder of a converted checkpoint in the file's own dtype, memory-mapped, for inference.

    Every tensor of the file but the pooler's must be used: a checkpoint of another shape is refused.
    """
    base_dir = Path(base_dir)
    config = BertConfig.read(base_dir)
    tensors = {k: v for k, v in mapped_tensors(base_dir / WEIGHTS_FILE).items() if not k.startswith("pooler.")}
    model = Bert(tensors, config)
    unused = set(tensors) - {name for name, _ in model.named_parameters()}
    if unused:
        raise ValueError(f"{base_dir / WEIGHTS_FILE}: tensors this encoder does not read: {sorted(unused)[:3]}")
    return model.eval()
