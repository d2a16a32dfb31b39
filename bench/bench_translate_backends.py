"""ONNX Runtime vs CTranslate2 translation on the same model, inputs and settings.

Both backends load the same trained weights (tests/fixtures/m2m100: the ONNX export, and its
CTranslate2 conversion under ct2/), translate the 26 fixture sentences greedily through the
public `translate()` API (tokenisation, search, detokenisation, quality metrics all included),
one sentence per call (live use: a final is one or two sentences) and all 26 in batched calls
(one call per language pair), at 1 and 2 threads, float32 and int8.

    python bench/bench_translate_backends.py [--repeats 5] [--variant m2m100]

Prints a markdown table: tokens/s (generated tokens / wall time), mean and p50 latency per
sentence, and how many outputs are token-for-token the reference's (transformers' greedy fp32
output, golden.json). int8 is compared with the same reference: dynamic int8 quantisation is not
token-exact (each library quantises its own way), so "equal output" only holds for float32.

The fixture is tiny (d_model=32): the figures measure per-call and per-token overhead (Python
search loop and session calls vs C++), not the arithmetic of a 418M model, where the matrix
work dominates and int8 matters far more. Timings are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from engine.translate.ct2 import Ct2Translator
from engine.translate.m2m100_onnx import M2M100OnnxTranslator

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "m2m100"


def build(backend: str, variant: str, precision: str, threads: int) -> Any:
    if backend == "onnx":
        return M2M100OnnxTranslator(
            FIXTURE / variant,
            quantized=precision == "int8",
            cpu_threads=threads,
            num_beams=1,
            max_length=40,
            max_batch=16,
        )
    return Ct2Translator(
        FIXTURE / "ct2" / variant,
        compute_type=precision,
        intra_threads=threads,
        inter_threads=1,
        num_beams=1,
        max_length=40,
    )


def run(translator: Any, inputs: list[dict], repeats: int) -> dict[str, Any]:
    latencies: list[float] = []
    ids: list[tuple[int, ...]] = []
    tokens = 0
    single_s = 0.0
    for r in range(repeats):
        for item in inputs:
            start = time.perf_counter()
            (result,) = translator.translate(
                [item["text"]], item["source_lang"], item["target_lang"]
            )
            elapsed = time.perf_counter() - start
            latencies.append(elapsed)
            single_s += elapsed
            tokens += len(result.token_ids)
            if r == 0:
                ids.append(result.token_ids)
    pairs: dict[tuple[str, str], list[str]] = {}
    for item in inputs:
        pairs.setdefault((item["source_lang"], item["target_lang"]), []).append(item["text"])
    batch_s = 0.0
    batch_tokens = 0
    for _ in range(repeats):
        start = time.perf_counter()
        for (src, tgt), texts in pairs.items():
            batch_tokens += sum(len(x.token_ids) for x in translator.translate(texts, src, tgt))
        batch_s += time.perf_counter() - start
    return {
        "tok_s": tokens / single_s,
        "batch_tok_s": batch_tokens / batch_s,
        "mean_ms": 1000 * statistics.fmean(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "ids": ids,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variant", default="m2m100", choices=["m2m100"])
    args = parser.parse_args()
    golden = json.loads((FIXTURE / "golden.json").read_text(encoding="utf-8"))
    data = golden["variants"][args.variant]
    reference = [tuple(x[1:]) for x in data["fp32"]["greedy"]]
    print(
        "| backend | precision | threads | tokens/s (1 sentence/call) | tokens/s (batched) "
        "| latency/sentence mean | p50 | output == reference |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for backend in ("onnx", "ctranslate2"):
        for precision in ("float32", "int8"):
            for threads in (1, 2):
                translator = build(backend, args.variant, precision, threads)
                translator.warm_up()
                row = run(translator, data["inputs"], args.repeats)
                same = sum(a == b for a, b in zip(row["ids"], reference, strict=True))
                print(
                    f"| {backend} | {precision} | {threads} | {row['tok_s']:.0f} "
                    f"| {row['batch_tok_s']:.0f} | {row['mean_ms']:.2f} ms "
                    f"| {row['p50_ms']:.2f} ms | {same}/{len(reference)} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
