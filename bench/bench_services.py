"""Request latency of the reference HTTP services on 127.0.0.1 (real uvicorn servers).

    .venv/bin/python bench/bench_services.py [--nmt-model DIR] [--repeats N]

Prints median / p90 milliseconds for: POST /v1/translate (and the same call in-process, so
the HTTP overhead shows), POST /tts for one sentence, POST /extract_embedding for 1.5 s of
real speech. --nmt-model defaults to the tiny M2M100 test fixture (real ONNX inference on a
tiny model: it measures the service overhead, not a real model's speed).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def measure(name: str, call: Callable[[], Any], repeats: int) -> None:
    call()  # warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(f"{name:<48} median {statistics.median(times):8.1f} ms   p90 {p90:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nmt-model", type=Path, default=FIXTURE)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import httpx
    import soundfile as sf

    from engine.config import TranslationOptions
    from engine.services.nmt import create_app as nmt_app
    from engine.speakers.encoder import load_voice_encoder
    from engine.speakers.service import create_app as speaker_app
    from engine.translate import create_translator
    from engine.tts.service import create_app as tts_app

    client = httpx.Client(timeout=60)
    options = TranslationOptions(backend="m2m100", model=str(args.nmt_model))
    translator = create_translator(options)
    url, stop = start(nmt_app(options, args.nmt_model))
    body = {"text": SENTENCE, "source_lang": "en", "target_lang": "fr"}
    print(f"translation model: {translator.name} ({args.nmt_model})")
    measure(
        "in-process translate (1 sentence)",
        lambda: translator.translate([SENTENCE], "en", "fr"),
        args.repeats,
    )
    measure(
        "POST /v1/translate (1 sentence)",
        lambda: client.post(url + "/v1/translate", json=body).raise_for_status(),
        args.repeats,
    )
    batch = {"texts": [SENTENCE] * 8, "source_lang": "en", "target_lang": "fr"}
    measure(
        "POST /v1/translate (8 sentences)",
        lambda: client.post(url + "/v1/translate", json=batch).raise_for_status(),
        args.repeats,
    )
    stop()

    url, stop = start(tts_app())
    tts = {"text": SENTENCE, "voice": None, "lang": "en"}
    measure(
        "POST /tts (1 sentence, en_US-joe-medium)",
        lambda: client.post(url + "/tts", json=tts).raise_for_status(),
        max(5, args.repeats // 4),
    )
    stop()

    audio, rate = sf.read(SPEECH / "goforward.wav", dtype="float32")
    clip = audio[: int(1.5 * rate)].tolist()
    url, stop = start(speaker_app(load_voice_encoder()))
    emb = {"audio": clip, "sample_rate": rate}
    measure(
        "POST /extract_embedding (1.5 s of speech)",
        lambda: client.post(url + "/extract_embedding", json=emb).raise_for_status(),
        args.repeats,
    )
    stop()


if __name__ == "__main__":
    main()
