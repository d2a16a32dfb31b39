"""Which family of ONNX Runtime int8 kernels this x86-64 CPU runs (test and fixture helper).

Dynamic int8 models (MatMulInteger / DynamicQuantizeMatMul) multiply uint8 activations by int8
weights in ONNX Runtime's MLAS. Which kernel runs depends on the CPU, and the kernels do not agree
bit for bit:

- "avx512_vnni": AVX-512 VNNI (vpdpbusds) or AMX-INT8 (every AMX CPU also has AVX-512 VNNI)
  accumulate each u8*s8 product into int32: the integer result is exact.
- "avx2": AVX2 without VNNI (and AVX-512 without VNNI) uses vpmaddubsw, which adds pairs of
  u8*s8 products into int16 with saturation, so large activation/weight pairs are clipped.

Greedy and beam decisions whose top logits are close (inputs the model never learnt) can flip on
that difference, so int8 reference outputs are stored per family (tests/fixtures/m2m100). Names
cover what was measured; anything else is reported as its own family so that a missing reference
is visible instead of silently compared against another family's numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor listed in a /proc/cpuinfo text (x86 "flags")."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def int8_isa_family(flags: Iterable[str]) -> str:
    """The int8 kernel family ONNX Runtime picks for a CPU with these /proc/cpuinfo flags."""
    have = set(flags)
    if "avx512_vnni" in have and {"avx512f", "avx512bw"} <= have:
        return "avx512_vnni"
    if "avx_vnni" in have and "avx2" in have:
        return "avx_vnni"  # AVX-VNNI without AVX-512 (client cores): exact int32, AVX2 float ops
    if {"avx512f", "avx512bw"} <= have:
        return "avx512_core"  # vpmaddubsw like AVX2, but AVX-512 float kernels: not measured
    if "avx2" in have and "fma" in have:
        return "avx2"
    return "other"


def this_cpu_int8_family(cpuinfo: Path = CPUINFO) -> str:
    """int8_isa_family of the CPU running this process ("other" where /proc/cpuinfo is absent)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "other"
    return int8_isa_family(cpu_flags(text))
