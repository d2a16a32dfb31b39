"""Loopback load test: simulated meeting rooms against the single-process services and against
`dragoman serve ray` with 1 and 2 replicas per stage.

    .venv/bin/python bench/bench_ray_serve.py [--setups plain,ray1,ray2] [--rooms 1,2,4,8]
        [--seconds 30] [--interval 3] [--nmt-model DIR] [--seed 1]

Each room behaves like one live session: every ~`--interval` seconds (±10 %, own phase) a
sentence becomes final, and the room sends its translation (`POST /v1/translate`, en→de) and
then its speech (`POST /tts`, the English voice: the only Piper voice reachable here) — the
requests `dragoman run --nmt-url … --tts-url …` makes. Arrivals are open-loop: a slow server
does not slow the rooms down, requests pile up as they would in a real meeting. Sending stops
after `--seconds`; requests still running `--drain` seconds later count as unfinished.

Prints, per setup and room count: offered and completed sentences per second, p50/p95 latency
of translation, speech and the whole sentence (translation start → WAV received), errors.
All traffic goes to 127.0.0.1; every server is a subprocess stopped at the end.

--nmt-model defaults to the tiny M2M100 test fixture: real ONNX inference, but orders of
magnitude cheaper than M2M100-418M, so the speech stage (real Piper, joe-medium) is what loads
the machine. Run it on an otherwise idle machine; figures on a shared one are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "m2m100" / "m2m100"
START_TIMEOUT_S = 300.0
SENTENCES = [
    "Good morning, everyone, and welcome to the second day of the conference.",
    "Let us begin with the first item on the agenda.",
    "The budget for next year is slightly higher than this year.",
    "Could you please repeat the question?",
    "We will take a short break at eleven.",
    "Thank you for your patience.",
    "The results of the survey are on the next slide.",
    "I would like to thank the organisers for inviting me.",
    "Are there any questions from the audience?",
    "The new building will open in the spring.",
    "Please turn off your phones before we begin.",
    "Lunch will be served in the main hall.",
]


@dataclass(frozen=True)
class Setup:
    name: str
    nmt_url: str
    tts_url: str


@dataclass
class Sentence:
    sent_at: float
    nmt_s: float | None = None
    tts_s: float | None = None
    total_s: float | None = None
    done_at: float | None = None
    error: str | None = None


@dataclass
class LevelResult:
    rooms: int
    seconds: float
    start: float = 0.0
    sentences: list[Sentence] = field(default_factory=list)


# --- servers ------------------------------------------------------------------------------------


def _pump(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


@contextlib.contextmanager
def server(args: list[str], pattern: str) -> Iterator[str]:
    """Start `dragoman ARGS` (niced), yield the URL its start line prints, stop it (SIGTERM)."""
    command = ["nice", "-n", "5", sys.executable, "-m", "engine.cli", *args]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        url = ""
        while not url:
            if process.poll() is not None:
                raise RuntimeError(f"`dragoman {' '.join(args)}` exited {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"`dragoman {' '.join(args)}` did not start")
            with contextlib.suppress(queue.Empty):
                found = re.search(pattern, lines.get(timeout=0.5))
                url = found.group(1) if found else ""
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def setup(name: str, nmt_model: Path) -> Iterator[Setup]:
    if name == "plain":
        single = r"service on (http://127\.0\.0\.1:\d+) "
        nmt_args = ["serve", "nmt", "--model", str(nmt_model), "--threads", "1", "--port", "0"]
        tts_args = ["serve", "tts", "--threads", "1", "--port", "0"]
        with server(nmt_args, single) as nmt, server(tts_args, single) as tts:
            yield Setup(name, nmt, tts)
        return
    replicas = {"ray1": 1, "ray2": 2}[name]
    cpus = 1.0 / replicas  # two cores shared by the two stages
    ray_args = [
        "serve",
        "ray",
        "--nmt-model",
        str(nmt_model),
        "--replicas",
        f"nmt={replicas},tts={replicas},speaker=0",
        "--cpus",
        f"nmt={cpus:g},tts={cpus:g}",
        "--num-cpus",
        "2",
        "--object-store-mb",
        "80",
        "--port",
        "0",
    ]
    with server(ray_args, r"services on (http://127\.0\.0\.1:\d+):") as url:
        yield Setup(name, url + "/nmt", url + "/tts")


# --- load ---------------------------------------------------------------------------------------


async def one_sentence(client: httpx.AsyncClient, target: Setup, text: str, record: Sentence):
    started = time.perf_counter()
    try:
        response = await client.post(
            target.nmt_url + "/v1/translate",
            json={"text": text, "source_lang": "en", "target_lang": "de"},
        )
        response.raise_for_status()
        record.nmt_s = time.perf_counter() - started
        spoken = time.perf_counter()
        response = await client.post(
            target.tts_url + "/tts", json={"text": text, "voice": None, "lang": "en"}
        )
        response.raise_for_status()
        if not response.content.startswith(b"RIFF"):
            raise ValueError("the speech answer is not a WAV file")
        record.tts_s = time.perf_counter() - spoken
        record.total_s = time.perf_counter() - started
        record.done_at = time.perf_counter()
    except (httpx.HTTPError, ValueError) as exc:
        record.error = type(exc).__name__
        if isinstance(exc, httpx.HTTPStatusError):
            record.error = f"HTTP {exc.response.status_code}"


async def run_level(
    target: Setup, rooms: int, seconds: float, interval: float, drain: float, seed: int
) -> LevelResult:
    rng = random.Random(seed * 1000 + rooms)
    result = LevelResult(rooms, seconds)
    tasks: list[asyncio.Task[None]] = []
    limits = httpx.Limits(max_connections=rooms * 4, max_keepalive_connections=rooms * 4)
    async with httpx.AsyncClient(timeout=seconds + drain, limits=limits) as client:
        start = result.start = time.perf_counter()

        async def room(index: int) -> None:
            at = rng.uniform(0, interval)  # each room has its own phase
            while at < seconds:
                delay = start + at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                record = Sentence(sent_at=time.perf_counter())
                result.sentences.append(record)
                text = SENTENCES[(index + len(result.sentences)) % len(SENTENCES)]
                tasks.append(asyncio.create_task(one_sentence(client, target, text, record)))
                at += interval * rng.uniform(0.9, 1.1)

        await asyncio.gather(*(room(i) for i in range(rooms)))
        _, pending = await asyncio.wait(tasks, timeout=drain) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return result


async def warm(target: Setup) -> None:
    """One sentence per replica's worth of requests, so no replica pays its warm-up in the
    measurement (models are loaded and warmed at start; this warms the HTTP paths)."""
    async with httpx.AsyncClient(timeout=60) as client:
        records = [Sentence(time.perf_counter()) for _ in range(4)]
        await asyncio.gather(
            *(one_sentence(client, target, SENTENCES[i], r) for i, r in enumerate(records))
        )
        failed = [r.error for r in records if r.error]
        if failed:
            raise RuntimeError(f"{target.name}: warm-up requests failed: {failed}")


async def sequential(target: Setup, count: int) -> str:
    """`count` sentences one after another (no concurrency): the unloaded latency, so the
    proxy's extra hop shows without queueing."""
    records = []
    async with httpx.AsyncClient(timeout=60) as client:
        for i in range(count):
            record = Sentence(time.perf_counter())
            await one_sentence(client, target, SENTENCES[i % len(SENTENCES)], record)
            records.append(record)
    nmt = [r.nmt_s for r in records if r.nmt_s is not None]
    tts = [r.tts_s for r in records if r.tts_s is not None]
    failed = sum(1 for r in records if r.error)
    return (
        f"{target.name}: {count} sentences one at a time: nmt p50 {quantile(nmt, 0.5) * 1000:.1f}"
        f" ms, p95 {quantile(nmt, 0.95) * 1000:.1f} ms; tts p50 {quantile(tts, 0.5) * 1000:.0f}"
        f" ms, p95 {quantile(tts, 0.95) * 1000:.0f} ms; {failed} failed"
    )


# --- report -------------------------------------------------------------------------------------


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report_line(name: str, level: LevelResult) -> str:
    done = [s for s in level.sentences if s.total_s is not None]
    errors = [s.error for s in level.sentences if s.error]
    unfinished = len(level.sentences) - len(done) - len(errors)
    last = max((s.done_at for s in done if s.done_at), default=level.start)
    throughput = len(done) / max(level.seconds, last - level.start)
    offered = len(level.sentences) / level.seconds

    def ms(values: list[float | None], q: float) -> str:
        return f"{quantile([v for v in values if v is not None], q) * 1000:7.0f}"

    kinds = collections.Counter(errors)
    error_text = f"{len(errors)} ({', '.join(f'{n}x {k}' for k, n in kinds.most_common())})"
    error_text = error_text if errors else "0"
    nmt = [s.nmt_s for s in done]
    tts = [s.tts_s for s in done]
    total = [s.total_s for s in done]
    return (
        f"| {name:<6} | {level.rooms:>5} | {offered:7.2f} | {throughput:7.2f} | "
        f"{ms(nmt, 0.5)} | {ms(nmt, 0.95)} | {ms(tts, 0.5)} | {ms(tts, 0.95)} | "
        f"{ms(total, 0.5)} | {ms(total, 0.95)} | {error_text:>4} | {unfinished:>5} |"
    )


HEADER = (
    "| setup  | rooms | offered/s | done/s | nmt p50 | nmt p95 | tts p50 | tts p95 | "
    "sentence p50 | sentence p95 | errors | unfinished |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", default="plain,ray1,ray2")
    parser.add_argument("--rooms", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=30.0, help="sending time per level")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between sentences")
    parser.add_argument("--drain", type=float, default=30.0, help="wait for late answers")
    parser.add_argument("--nmt-model", type=Path, default=FIXTURE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sequential", type=int, default=0, metavar="N", help="also N sentences one at a time"
    )
    args = parser.parse_args()
    rooms = [int(r) for r in args.rooms.split(",") if r.strip()]
    if not 0 < args.seconds <= 600 or not 0 < args.drain <= 120 or max(rooms, default=0) > 64:
        parser.error("bounded load only: --seconds <= 600, --drain <= 120, at most 64 rooms")
    if not 0 <= args.sequential <= 1000:
        parser.error("--sequential: at most 1000 sentences")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    print("times in ms; offered/done in sentences per second (each = 1 translation + 1 speech)")
    lines = [HEADER]
    print(HEADER, flush=True)
    for name in args.setups.split(","):
        started = time.monotonic()
        with setup(name, args.nmt_model) as target:
            print(f"<!-- {name} up in {time.monotonic() - started:.0f} s -->", flush=True)
            asyncio.run(warm(target))
            if args.sequential:
                print(asyncio.run(sequential(target, args.sequential)), flush=True)
            for count in rooms:  # --rooms "" measures only --sequential
                level = asyncio.run(
                    run_level(target, count, args.seconds, args.interval, args.drain, args.seed)
                )
                line = report_line(name, level)
                lines.append(line)
                print(line, flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
