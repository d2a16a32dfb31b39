"""Greedy decoding speed of the ONNX M2M100 translator, with and without past key/values.

A plumbing figure on the tiny test fixture (tests/fixtures/m2m100), not a quality one: it
shows what reusing the decoder cache saves over re-running the decoder on the whole prefix for
every new token (the no-cache path gives the same tokens; tests check that).

    python bench/bench_m2m100_decode.py [--threads 2] [--repeats 5] [--length 64]

"Natural" decodes the 26 fixture inputs until EOS (~15 tokens each); "forced long" suppresses
EOS (min_length) so every sequence runs to --length tokens, where the quadratic cost of the
no-cache path shows.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from engine.translate.m2m100_onnx import M2M100OnnxModel

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "m2m100"


def measure(model, batch, forced, settings, use_cache: bool, repeats: int, batched: bool):
    """Best-of-repeats tokens/s (generated tokens over generate() wall time)."""
    best = 0.0
    tokens = 0
    for _ in range(repeats):
        start = time.perf_counter()
        if batched:
            hyps = model.generate(batch, forced, settings, use_cache=use_cache)
        else:
            hyps = [
                model.generate([b], [f], settings, use_cache=use_cache)[0]
                for b, f in zip(batch, forced, strict=True)
            ]
        elapsed = time.perf_counter() - start
        tokens = sum(len(h.token_ids) for h in hyps)
        best = max(best, tokens / elapsed)
    return best, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--length", type=int, default=64, help="max_length of the forced run")
    parser.add_argument("--layout", default="split", choices=["split", "merged"])
    args = parser.parse_args()

    golden = json.loads((FIXTURE / "golden.json").read_text(encoding="utf-8"))
    inputs = golden["variants"]["m2m100"]["inputs"]
    batch = [x["input_ids"] for x in inputs]
    forced = [x["target_lang_id"] for x in inputs]
    model = M2M100OnnxModel(
        FIXTURE / "m2m100", quantized=False, decoder_layout=args.layout, cpu_threads=args.threads
    )
    natural = replace(model.settings, num_beams=1, max_length=40)
    long = replace(model.settings, num_beams=1, max_length=args.length, min_length=args.length)
    model.generate(batch[:2], forced[:2], natural)  # warm-up

    print(
        f"tiny M2M100 fixture (d_model=32, 2+2 layers), fp32, {args.layout} decoder, "
        f"{args.threads} intra-op threads, greedy, best of {args.repeats}"
    )
    print(f"{'run':<34}{'tokens':>8}{'with past tok/s':>18}{'no cache tok/s':>17}{'speed-up':>10}")
    for label, settings in (
        ("natural (until EOS)", natural),
        (f"forced long ({args.length})", long),
    ):
        for batched in (False, True):
            name = f"{label}, {'batch of 26' if batched else 'one by one'}"
            cached, tokens = measure(model, batch, forced, settings, True, args.repeats, batched)
            plain, _ = measure(model, batch, forced, settings, False, args.repeats, batched)
            print(f"{name:<34}{tokens:>8}{cached:>18.0f}{plain:>17.0f}{cached / plain:>9.2f}x")


if __name__ == "__main__":
    main()
