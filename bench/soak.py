"""A continuous live run: speech clips looped with 1-3 s gaps through the whole engine, paced like
a microphone, for --minutes. Prints per minute the lag (acoustic end of each utterance -> its
final), the finals' WER and the process RSS, and writes a PNG plot of lag and RSS over time.

    python bench/soak.py --minutes 10 --plot soak.png [--tracemalloc]

RSS creep: the slope (MB/min) is fitted after the first minute (model warm-up, first decodes of
each window shape). With --tracemalloc the Python heap is compared between minute 1 and the end,
so a creep can be told apart as Python objects (and which line) or native memory (CTranslate2,
onnxruntime, the allocator). Nothing is kept per event beyond a few numbers per final, so the
bench itself does not grow.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import corpus  # noqa: E402
from bench.accuracy import wer_counts  # noqa: E402
from engine.asr.whisper import WhisperTranscriber  # noqa: E402
from engine.audio.sources import AudioBlock  # noqa: E402
from engine.config import AsrOptions, EngineConfig, SpeakerOptions  # noqa: E402
from engine.events import Final, FinalRevised  # noqa: E402
from engine.pipeline import Pipeline  # noqa: E402

SR = corpus.SAMPLE_RATE
BLOCK = 512


@dataclass(frozen=True, slots=True)
class Spoken:
    start: float
    end: float
    speech_end: float
    text: str


class LoopSource:
    """Utterances in a seeded random order with 1-3 s gaps, paced in real time, for `seconds`.
    Generated block by block: the source holds no growing buffer."""

    realtime = True
    dropped_blocks = 0

    def __init__(self, utterances: list[corpus.Utterance], seconds: float, seed: int = 0) -> None:
        self.name = "soak"
        self.utterances = utterances
        self.seconds = seconds
        self.rng = np.random.default_rng(seed)
        self.spoken: list[Spoken] = []
        self.t0 = 0.0
        self._stop = threading.Event()

    def _samples(self) -> Iterator[np.ndarray]:
        t = 0.0
        while t < self.seconds:
            gap = np.zeros(int(self.rng.uniform(1.0, 3.0) * SR), np.float32)
            utt = self.utterances[int(self.rng.integers(len(self.utterances)))]
            t += len(gap) / SR
            yield gap
            self.spoken.append(
                Spoken(t, t + utt.duration, t + corpus.acoustic_end(utt.audio), utt.text)
            )
            t += utt.duration
            yield utt.audio
        yield np.zeros(2 * SR, np.float32)

    def blocks(self) -> Iterator[AudioBlock]:
        self.t0 = time.monotonic()
        sent = 0
        pending = np.zeros(0, np.float32)
        for chunk in self._samples():
            pending = np.concatenate([pending, chunk])
            while len(pending) >= BLOCK:
                block, pending = pending[:BLOCK], pending[BLOCK:]
                sent += BLOCK
                delay = self.t0 + sent / SR - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
                if self._stop.is_set():
                    return
                yield AudioBlock(block, (sent - BLOCK) / SR, time.monotonic())

    def close(self) -> None:
        self._stop.set()


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--plot", type=Path, default=Path("soak.png"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument(
        "--no-revisions", action="store_true", help="keep the finals as first decoded"
    )
    args = parser.parse_args()

    transcriber = WhisperTranscriber(AsrOptions(model=args.model, language="en"))
    utterances = corpus.shared_clips() + corpus.piper(corpus.PASSAGE + corpus.COMMANDS, "piper")
    source = LoopSource(utterances, args.minutes * 60)
    finals: list[tuple[float, float, float, str]] = []  # (start, end, emitted_at, text)
    revised: dict[int, str] = {}  # segment id -> its text after revisions (a few per minute)
    final_ids: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, Final):
            finals.append((event.start, event.end, event.times.emitted_at or 0.0, event.text))
            final_ids.append(event.segment_id)
        elif isinstance(event, FinalRevised):
            revised[event.segment_id] = event.text

    rss: list[tuple[float, float]] = []  # (source seconds, MB)
    snapshots: dict[str, tracemalloc.Snapshot] = {}
    done = threading.Event()

    def sample_rss() -> None:
        while not done.wait(5.0):
            at = time.monotonic() - source.t0 if source.t0 else 0.0
            rss.append((at, rss_mb()))
            if args.tracemalloc and "minute1" not in snapshots and at >= 60:
                gc.collect()
                snapshots["minute1"] = tracemalloc.take_snapshot()

    if args.tracemalloc:
        tracemalloc.start(10)
    config = EngineConfig(
        asr=AsrOptions(language="en", revisions=not args.no_revisions),
        speakers=SpeakerOptions(mode="off"),
    )
    pipeline = Pipeline(config, on_event, transcriber=transcriber)
    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    cpu0 = time.process_time()
    pipeline.run(source)
    cpu = time.process_time() - cpu0
    done.set()
    if args.tracemalloc:
        gc.collect()
        snapshots["end"] = tracemalloc.take_snapshot()

    # lag of each utterance: the final holding its last words, from its acoustic end
    lags: list[tuple[float, float]] = []  # (speech end in source seconds, lag)
    errors = words = 0
    missing = 0
    for s in source.spoken:
        overlapping = [f for f in finals if f[0] < s.speech_end and f[1] > s.start]
        if not overlapping:
            missing += 1
            continue
        last = max(overlapping, key=lambda f: f[1])
        lags.append((s.speech_end, last[2] - (source.t0 + s.speech_end)))
    reference = " ".join(s.text for s in source.spoken)
    errors, words = wer_counts(reference, " ".join(f[3] for f in finals))
    after = " ".join(revised.get(i, f[3]) for i, f in zip(final_ids, finals, strict=True))
    revised_errors, _ = wer_counts(reference, after)

    duration = max((s.end for s in source.spoken), default=0.0)
    print(
        f"{len(source.spoken)} utterances over {duration / 60:.1f} min, {len(finals)} finals, "
        f"{missing} utterances without a final; WER {errors / max(words, 1):.3f} as first "
        f"shown, {revised_errors / max(words, 1):.3f} after {len(revised)} revised line(s); "
        f"CPU {cpu / max(duration, 1e-6):.2f} cores"
    )
    print("minute | utterances | lag median | lag max | RSS at end of minute")
    for minute in range(int(np.ceil(duration / 60))):
        in_minute = [lag for at, lag in lags if minute * 60 <= at < (minute + 1) * 60]
        mem = [mb for at, mb in rss if at < (minute + 1) * 60]
        if not in_minute:
            continue
        print(
            f"{minute + 1:6d} | {len(in_minute):10d} | {statistics.median(in_minute):8.2f} s | "
            f"{max(in_minute):5.2f} s | {mem[-1] if mem else float('nan'):.1f} MB"
        )
    late = [(at, mb) for at, mb in rss if at >= 60]
    if len(late) >= 3:
        slope = np.polyfit([a / 60 for a, _ in late], [m for _, m in late], 1)[0]
        print(f"RSS after minute 1: {late[0][1]:.1f} -> {late[-1][1]:.1f} MB, {slope:+.2f} MB/min")
    if len(snapshots) == 2:
        print("Python heap growth between minute 1 and the end (tracemalloc, top 8):")
        for stat in snapshots["end"].compare_to(snapshots["minute1"], "lineno")[:8]:
            print(f"  {stat}")
        current, _ = tracemalloc.get_traced_memory()
        print(f"  traced Python heap now {current / 2**20:.1f} MB")
    plot(args.plot, lags, rss)
    print(f"plot written to {args.plot}")


def plot(path: Path, lags: list[tuple[float, float]], rss: list[tuple[float, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot([a / 60 for a, _ in lags], [lag for _, lag in lags], ".", label="lag per utterance")
    ax.set_xlabel("minutes of live audio")
    ax.set_ylabel("acoustic end of speech → final (s)")
    ax.set_ylim(bottom=0)
    mem = ax.twinx()
    mem.plot([a / 60 for a, _ in rss], [m for _, m in rss], "r-", label="RSS")
    mem.set_ylabel("RSS (MB)")
    fig.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
