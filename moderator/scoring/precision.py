"""Which numerics the scorer runs in, chosen when it loads by what this CPU does natively.

Why: bf16 is the fastest path on a CPU with native bf16 dot products (AVX512-BF16 or AMX), and about a
hundred times slower than fp32 on one without (torch falls back to a scalar path), so a model that always
asks for bf16 is fast on one server and unusable on the next. The choice is made here, once per load, from
the CPU's flags, the variables that cap the kernels torch may use (``ONEDNN_MAX_CPU_ISA``,
``ATEN_CPU_CAPABILITY``), and a probe of a few milliseconds that confirms bf16 really is fast before it is
used. ``--precision`` / ``MODERATOR_PRECISION`` override it. Importing this module does not import torch.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

PRECISIONS = ("fp32", "bf16")  # the numerics a scorer can run in (int8: measured and rejected, see FALLBACK)
CHOICES = ("auto", *PRECISIONS)  # what --precision and MODERATOR_PRECISION accept
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of native bf16 dot products
# oneDNN ISA caps at or above which its matmuls may use native bf16 (``ONEDNN_MAX_CPU_ISA``).
ONEDNN_BF16_ISAS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX10_1_512", "ALL", "DEFAULT")
# Where bf16 is not native, fp32 runs. int8 (torch's dynamic quantisation of the linear layers, per tensor
# or per channel, with or without SmoothQuant scaling) was twice as fast with AVX512-VNNI and 1.5-1.7x under
# the AVX2 cap, but moved per-comment toxicity by up to 0.33 (the shared bottom), 0.09 (the toxicity top alone)
# and off-topic by 0.04 (the e5 top alone); even per-token activation scales move off-topic by 0.11 (the e5
# top) and 0.05 (the shared bottom): past the 0.02 every path must agree within (scripts/avx2_ceiling.py),
# so it is not offered.
FALLBACK = "fp32"
# bf16 slower than fp32 by more than this in the probe: not native, whatever the flags. Measured at the probe's
# 256x256: native 0.5-0.6x (AMX), 0.3-1.1x (AVX512-BF16); capped to AVX2 110-145x. At 128x128 AMX's fixed cost
# read 0.8-1.9x, a hair from the old limit of 2, so a machine with AMX could have fallen back to fp32.
PROBE_MAX_SLOWDOWN = 4.0
# What the model version recorded with every score says of the path: its arithmetic, not only its dtype. A
# change to a path's numerics that moves its scores gets a new tag, so the audit trail tells scores computed
# before and after apart. "bf16.2" (2026-12-07): bf16 matmuls over an fp32 residual stream and fp32 LayerNorms;
# plain "bf16" before it kept the states between layers in bf16 (off-topic up to 0.029 from fp32, now 0.014).
VERSION_TAGS = {"fp32": "fp32", "bf16": "bf16.2"}


@dataclass(frozen=True)
class PrecisionChoice:
    """The path that runs, and one line saying why (printed on stderr, recorded by ``bench --json``)."""

    precision: str
    reason: str
    cpu_capability: str

    def line(self) -> str:
        return f"precision {self.precision}: {self.reason}"

    @property
    def version_tag(self) -> str:
        """How the model version names this path's numerics (``VERSION_TAGS``)."""
        return VERSION_TAGS[self.precision]


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo is not there, e.g. macOS)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def kernel_cap() -> str | None:
    """Why the kernels torch may use are capped below native bf16, or None when they are not."""
    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    if onednn and onednn not in ONEDNN_BF16_ISAS:
        return f"ONEDNN_MAX_CPU_ISA={onednn} caps matmuls below bf16"
    aten = os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower()
    if aten and aten not in ("avx512", "default"):
        return f"ATEN_CPU_CAPABILITY={aten} caps kernels below AVX-512"
    return None


def bf16_probe_ratio(size: int = 256, repeats: int = 3) -> float:
    """How many times slower a small bf16 matmul is than the same fp32 one (a few ms; about 1 where native)."""
    import torch

    a = torch.randn(size, size)
    b = torch.randn(size, size)
    timings = {}
    for dtype in (torch.float32, torch.bfloat16):
        x, y = a.to(dtype), b.to(dtype)
        torch.matmul(x, y)  # first call: kernel selection
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            torch.matmul(x, y)
            best = min(best, time.perf_counter() - start)
        timings[dtype] = best
    return timings[torch.bfloat16] / max(timings[torch.float32], 1e-9)


def native_bf16() -> tuple[bool, str]:
    """Whether bf16 is native here, with the evidence: flags, then kernel caps, then the timed probe."""
    found = sorted(set(NATIVE_BF16_FLAGS) & cpu_flags())
    if not found:
        return False, f"no native bf16 ({' / '.join(NATIVE_BF16_FLAGS)} absent)"
    cap = kernel_cap()
    if cap:
        return False, f"CPU has {', '.join(found)} but {cap}"
    ratio = bf16_probe_ratio()
    if ratio > PROBE_MAX_SLOWDOWN:
        return False, f"CPU has {', '.join(found)} but a bf16 matmul ran {ratio:.0f}x slower than fp32"
    return True, f"native bf16 ({', '.join(found)}; bf16 matmul probe {ratio:.1f}x fp32 time)"


def cpu_capability() -> str:
    """What torch reports for this CPU (AVX2, AVX512, ...)."""
    import torch

    return str(torch.backends.cpu.get_cpu_capability())


def choose_precision(requested: str | None = None) -> PrecisionChoice:
    """The path to run: ``requested`` (flag or MODERATOR_PRECISION) unless 'auto', else by the CPU."""
    requested = (requested or "auto").strip().lower()
    if requested not in CHOICES:
        why = " (int8 is not offered: it moved scores past the 0.02 every path keeps)" if requested == "int8" else ""
        raise ValueError(f"precision {requested!r}: expected one of {', '.join(CHOICES)}{why}")
    capability = cpu_capability()
    native, evidence = native_bf16()
    if requested != "auto":
        warning = (
            "; bf16 is not native here and runs far slower than fp32" if requested == "bf16" and not native else ""
        )
        return PrecisionChoice(requested, f"requested ({capability}, {evidence}{warning})", capability)
    if native:
        return PrecisionChoice("bf16", f"auto, {evidence}", capability)
    return PrecisionChoice(FALLBACK, f"auto, {evidence}: {FALLBACK} is the fastest path at the same scores", capability)
