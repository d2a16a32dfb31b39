"""Request latency of the reference HTTP services on 127.0.0.1 (real uvicorn servers) against
the same call in-process, so the HTTP overhead shows; plus the speech service's memory on one
long request and what a stalled service costs a client.

    .venv/bin/python bench/bench_services.py [--nmt-model DIR] [--repeats N] [--long-chars N]

Prints median / p95 milliseconds per call. --nmt-model defaults to the tiny M2M100 test
fixture (real ONNX inference on a tiny model: it measures the service overhead, not a real
model's speed). Timings on a shared machine are noisy: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.config import TranslationOptions

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "m2m100" / "m2m100"
SPEECH = (ROOT / ".." / "shared" / "data" / "speech").resolve()
SENTENCE = "The meeting starts at nine in the main hall."


def start(app: Any) -> tuple[str, Callable[[], None]]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


ROWS: list[tuple[str, str, float, float]] = []


def measure(service: str, name: str, call: Callable[[], Any], repeats: int) -> None:
    call()  # warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    median = statistics.median(times)
    ROWS.append((service, name, median, p95))
    print(f"{service:<8} {name:<46} median {median:8.1f} ms   p95 {p95:8.1f} ms", flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_during(call: Callable[[], Any]) -> tuple[float, float, float]:
    """(seconds, RSS before, peak RSS) while `call` runs (sampled every 20 ms)."""
    before = rss_mb()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    call()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    return seconds, before, max(peak, rss_mb())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nmt-model", type=Path, default=FIXTURE)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--long-chars", type=int, default=5000)
    args = parser.parse_args()

    import httpx
    import numpy as np
    import soundfile as sf

    from engine.config import SpeechOptions, TranslationOptions
    from engine.services.nmt import create_app as nmt_app
    from engine.speakers.encoder import load_voice_encoder
    from engine.speakers.service import create_app as speaker_app
    from engine.translate import create_translator
    from engine.tts.piper_local import PiperSynthesizer
    from engine.tts.service import create_app as tts_app
    from engine.tts.service import wav_bytes

    client = httpx.Client(timeout=600)
    options = TranslationOptions(backend="m2m100", model=str(args.nmt_model))
    translator = create_translator(options)
    url, stop = start(nmt_app(options, args.nmt_model, max_chars=100_000))
    body = {"text": SENTENCE, "source_lang": "en", "target_lang": "fr"}
    print(f"translation model: {translator.name} ({args.nmt_model})")
    measure(
        "nmt",
        "in-process translate (1 sentence)",
        lambda: translator.translate([SENTENCE], "en", "fr"),
        args.repeats,
    )
    measure(
        "nmt",
        "POST /v1/translate (1 sentence)",
        lambda: client.post(url + "/v1/translate", json=body).raise_for_status(),
        args.repeats,
    )
    libre = {"q": SENTENCE, "source": "en", "target": "fr"}
    measure(
        "nmt",
        "POST /translate (LibreTranslate form)",
        lambda: client.post(url + "/translate", data=libre).raise_for_status(),
        args.repeats,
    )
    measure(
        "nmt",
        "in-process translate (8 sentences)",
        lambda: translator.translate([SENTENCE] * 8, "en", "fr"),
        args.repeats,
    )
    batch = {"texts": [SENTENCE] * 8, "source_lang": "en", "target_lang": "fr"}
    measure(
        "nmt",
        "POST /v1/translate (8 sentences)",
        lambda: client.post(url + "/v1/translate", json=batch).raise_for_status(),
        args.repeats,
    )
    stop()

    synth = PiperSynthesizer(SpeechOptions())

    def speak_in_process() -> bytes:
        chunks = list(synth.synthesize(SENTENCE, "en"))
        return wav_bytes(np.concatenate([c.samples for c in chunks]), chunks[0].sample_rate)

    tts_repeats = max(5, args.repeats // 2)
    measure("tts", "in-process Piper + WAV (1 sentence)", speak_in_process, tts_repeats)
    url, stop = start(tts_app(max_chars=max(5000, args.long_chars)))
    tts = {"text": SENTENCE, "voice": None, "lang": "en"}
    measure(
        "tts",
        "POST /tts (1 sentence, en_US-joe-medium)",
        lambda: client.post(url + "/tts", json=tts).raise_for_status(),
        tts_repeats,
    )
    seed = {"text": SENTENCE, "language": "en"}
    measure(
        "tts",
        "POST /synthesize (1 sentence)",
        lambda: client.post(url + "/synthesize", json=seed).raise_for_status(),
        tts_repeats,
    )
    openai = {"model": "tts-1", "voice": "alloy", "input": SENTENCE, "response_format": "wav"}
    measure(
        "tts",
        "POST /v1/audio/speech (1 sentence)",
        lambda: client.post(url + "/v1/audio/speech", json=openai).raise_for_status(),
        tts_repeats,
    )
    words = ("and then we talked about the budget for next year " * 200)[: args.long_chars]
    seconds, before, peak = peak_rss_during(
        lambda: client.post(url + "/tts", json={"text": words}).raise_for_status()
    )
    print(
        f"tts      POST /tts, {len(words)} chars without a sentence end: {seconds:.1f} s, "
        f"RSS {before:.0f} MB -> peak {peak:.0f} MB (+{peak - before:.0f} MB)",
        flush=True,
    )
    parallel_load(client, url + "/tts", tts)
    stop()

    audio, rate = sf.read(SPEECH / "goforward.wav", dtype="float32")
    clip = audio[: int(1.5 * rate)]
    encoder = load_voice_encoder()
    measure("speaker", "in-process embed (1.5 s of speech)", lambda: encoder.embed(clip, rate), 20)
    url, stop = start(speaker_app(encoder))
    emb = {"audio": clip.tolist(), "sample_rate": rate}
    measure(
        "speaker",
        "POST /extract_embedding (1.5 s of speech)",
        lambda: client.post(url + "/extract_embedding", json=emb).raise_for_status(),
        args.repeats,
    )
    stop()
    stalled_cost(options)


def parallel_load(client: Any, url: str, body: dict[str, Any]) -> None:
    """100 requests, 20 at a time: answers by status and RSS before / after / peak."""
    from concurrent.futures import ThreadPoolExecutor

    statuses: list[int] = []

    def burst() -> None:
        with ThreadPoolExecutor(20) as pool:
            statuses.extend(pool.map(lambda _: client.post(url, json=body).status_code, range(100)))

    seconds, before, peak = peak_rss_during(burst)
    counts = {code: statuses.count(code) for code in sorted(set(statuses))}
    print(
        f"tts      100 requests 20 at a time: {seconds:.1f} s, answers {counts}, RSS "
        f"{before:.0f} MB -> peak {peak:.0f} MB, after {rss_mb():.0f} MB",
        flush=True,
    )


def stalled_cost(options: TranslationOptions) -> None:
    """Ten finals against a service that never answers (read timeout 0.5 s), local fallback."""
    from dataclasses import replace

    from engine.translate import local_fallback
    from engine.translate.remote import FailoverTranslator, RemoteTranslator
    from tests.services.fault_servers import fault_server

    with fault_server("stall") as (url, server):
        translator = FailoverTranslator(
            RemoteTranslator(url, timeout_s=0.5), local_fallback(replace(options, remote_url=url))
        )
        translator.local()  # load the fallback model first: measure the waiting only
        t0 = time.perf_counter()
        for _ in range(10):
            translator.translate([SENTENCE], "en", "fr")
        seconds = time.perf_counter() - t0
    print(
        f"nmt      10 finals, stalled service (0.5 s timeout), local fallback: {seconds:.2f} s "
        f"in all, {server.requests} requests sent (the circuit opened)",  # type: ignore[attr-defined]
        flush=True,
    )


if __name__ == "__main__":
    main()
