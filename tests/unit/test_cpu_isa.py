"""tests/cpu_isa.py: /proc/cpuinfo flags -> int8 kernel family (chooses the int8 reference)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cpu_isa import cpu_flags, int8_isa_family, this_cpu_int8_family

BASE = "fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c"
SAPPHIRE_RAPIDS = (
    f"{BASE} avx2 fma bmi2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 avx_vnni "
    "amx_bf16 amx_tile amx_int8"
)
CASCADE_LAKE = f"{BASE} avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni"
ZEN4 = f"{BASE} avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16"
SKYLAKE_SP = f"{BASE} avx2 fma avx512f avx512dq avx512bw avx512vl"
ALDER_LAKE = f"{BASE} avx2 fma avx_vnni"
HASWELL = f"{BASE} avx2 fma bmi2"


@pytest.mark.parametrize(
    ("flags", "family"),
    [
        (SAPPHIRE_RAPIDS, "avx512_vnni"),  # AMX-INT8 CPUs: exact int32 like VNNI
        (CASCADE_LAKE, "avx512_vnni"),
        (ZEN4, "avx512_vnni"),
        (SKYLAKE_SP, "avx512_core"),
        (ALDER_LAKE, "avx_vnni"),
        (HASWELL, "avx2"),
        (BASE, "other"),
        ("", "other"),
    ],
)
def test_int8_isa_family(flags: str, family: str) -> None:
    assert int8_isa_family(flags.split()) == family


def test_avx512_vnni_needs_the_avx512_base() -> None:
    # a flag list that names VNNI but lacks AVX-512 BW cannot run the AVX-512 VNNI kernel
    assert int8_isa_family(f"{HASWELL} avx512_vnni".split()) == "avx2"


def test_cpu_flags_reads_the_flags_line_of_the_first_processor() -> None:
    text = (
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
        f"flags\t\t: {HASWELL}\nbugs\t\t: spectre_v1\n\n"
        f"processor\t: 1\nflags\t\t: {SAPPHIRE_RAPIDS}\n"
    )
    flags = cpu_flags(text)
    assert "avx2" in flags and "avx512f" not in flags and "spectre_v1" not in flags
    assert int8_isa_family(flags) == "avx2"
    # ARM's /proc/cpuinfo says "Features", not "flags"
    assert cpu_flags("processor\t: 0\nFeatures\t: fp asimd asimddp\n") == frozenset()


def test_this_cpu_without_cpuinfo_is_other(tmp_path: Path) -> None:
    assert this_cpu_int8_family(tmp_path / "missing") == "other"
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nflags\t\t: {CASCADE_LAKE}\n", encoding="utf-8")
    assert this_cpu_int8_family(info) == "avx512_vnni"
