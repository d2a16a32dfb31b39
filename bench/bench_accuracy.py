"""Live accuracy against faster-whisper's batch transcription, and latency from the acoustic end
of speech, for Dragoman, the naive VAD loop and 5-second chunks (issue 8), on the same audio.

Dragoman is measured twice in one row pair: its finals as first emitted ("dragoman") and the
text after revisions ("dragoman revised": each `FinalRevised` replaces its line), with the
revision delay (acoustic end of the last utterance a revision covers -> its `FinalRevised`).
"dragoman-norev" runs the engine with revisions switched off (what they cost in latency and
CPU).

    python bench/bench_accuracy.py [--repeat 3] [--sets commands,passage,shared,espeak]
    python bench/bench_accuracy.py --smoke      # ~1 minute: every figure, tiny audio

Recordings (each paced like a microphone): Piper speaking short commands separately (1.5 s
gaps), a read passage of seven sentences spoken by Piper with 0.6-0.9 s sentence pauses, the
shared real clips joined with 0.7 s pauses, and espeak-ng sentences with 0.8 s pauses.
Prints per utterance the latency of each strategy (and, per recording, the last utterance's
against the others': the end of a monologue must not be slower), then one table: batch WER,
live WER, the ratio, median latency (spread over repeats), first partial, CPU cores (process CPU
time over wall time while listening) and the revision delay. On a shared machine the latencies
are noisy: repeat and read the spread, and the load average printed with it.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench import accuracy, corpus  # noqa: E402
from engine.asr.whisper import WhisperTranscriber  # noqa: E402
from engine.config import AsrOptions, VadOptions  # noqa: E402

SETS = ("commands", "passage", "shared", "espeak")
HELD_OUT = ("meeting", "trains")  # not in the default run: for checking a tuned change


def timelines(names: list[str], smoke: bool) -> list[corpus.Timeline]:
    if smoke:  # one short recording: two Piper commands (the second revised) and one real clip
        utts = corpus.piper(corpus.COMMANDS[1:3], "cmd") + corpus.shared_clips(["goforward.wav"])
        return [corpus.build_timeline("smoke", utts, 1.0, tail_s=1.0)]
    out = []
    for name in names:
        if name == "commands":
            utts = corpus.piper(corpus.COMMANDS, "cmd")
            out.append(corpus.build_timeline("commands", utts, 1.5))
        elif name == "passage":
            utts = corpus.piper(corpus.PASSAGE, "passage")
            out.append(corpus.build_timeline("passage", utts, (0.6, 0.9, 0.7)))
        elif name == "shared":
            out.append(corpus.build_timeline("shared", corpus.shared_clips(), 0.7))
        elif name == "espeak":
            out.append(corpus.build_timeline("espeak", corpus.espeak(corpus.ESPEAK_SENTENCES), 0.8))
        elif name == "meeting":
            utts = corpus.piper(corpus.MEETING, "meeting")
            out.append(corpus.build_timeline("meeting", utts, (0.6, 1.0, 0.7, 1.2)))
        elif name == "trains":
            utts = corpus.espeak(corpus.TRAIN_ANNOUNCEMENTS, voice="en-gb")
            out.append(corpus.build_timeline("trains", utts, (0.9, 0.6)))
        else:
            raise SystemExit(f"unknown set {name!r}: choose from {', '.join(SETS + HELD_OUT)}")
    return out


def fmt(x: float | None, unit: str = " s") -> str:
    return "—" if x is None else f"{x:.2f}{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--language", default="en", help="source language ('' = auto)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument(
        "--strategies", default="dragoman,naive,chunks", help="also: dragoman-norev"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny audio, one run (CI)")
    parser.add_argument(
        "--revise-pause-ms",
        type=int,
        default=VadOptions.revise_pause_ms,
        metavar="MS",
        help="silence after which the lines since the last revision are revised (tuning)",
    )
    parser.add_argument(
        "--revise-max-s",
        type=float,
        default=VadOptions.revise_max_s,
        metavar="S",
        help="at most this much audio per revision window (tuning)",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=0.0,
        metavar="S",
        help="also: CPU cores while listening to S seconds of silence (paced)",
    )
    args = parser.parse_args()
    language = args.language or None
    vad = VadOptions(revise_pause_ms=args.revise_pause_ms, revise_max_s=args.revise_max_s)
    t = time.monotonic()
    transcriber = WhisperTranscriber(
        AsrOptions(model=args.model, cpu_threads=args.threads, language=language)
    )
    print(f"model {args.model} loaded in {time.monotonic() - t:.1f} s")
    print(f"{os.cpu_count()} CPU cores, {args.threads} recogniser threads, {_load()}")
    if args.idle:
        quiet = np.zeros(int(args.idle * corpus.SAMPLE_RATE), np.float32)
        silence = corpus.Timeline("silence", quiet, ())
        idle = accuracy.run_dragoman(transcriber, silence, language=language)
        print(f"listening to {args.idle:g} s of silence: {idle.cpu_cores:.2f} CPU cores")
    recordings = timelines(args.sets.split(","), args.smoke)
    runners = {
        "dragoman": functools.partial(accuracy.run_dragoman, vad=vad),
        "dragoman-norev": functools.partial(accuracy.run_dragoman, revisions=False),
        "naive": accuracy.run_naive,
        "chunks": accuracy.run_chunks,
    }
    strategies = args.strategies.split(",")

    batch_err = batch_words = 0
    for rec in recordings:
        text = accuracy.batch_text(transcriber, rec, language)
        e, n = accuracy.wer_counts(rec.reference, text)
        batch_err, batch_words = batch_err + e, batch_words + n
        print(f"\n== {rec.name}: {rec.duration:.1f} s, {len(rec.utterances)} utterances")
        print(f"  batch  WER {e / max(n, 1):.3f}  {text}")
    batch_wer = batch_err / max(batch_words, 1)

    runs: dict[str, list[Run]] = {}
    for repeat in range(args.repeat):
        for strategy in strategies:
            run = Run()
            revised = Run()
            for rec in recordings:
                result = runners[strategy](transcriber, rec, language=language)
                e, n = accuracy.wer_counts(rec.reference, result.text)
                run.errors, run.words = run.errors + e, run.words + n
                known = [x for x in result.latencies if x is not None]
                run.latencies += known
                run.partials += list(result.first_partials)
                if result.cpu_cores is not None:
                    run.cpus.append(result.cpu_cores)
                doubled = accuracy.repeated_phrases(result.text)
                print(
                    f"\n-- run {repeat + 1} {strategy} on {rec.name}: "
                    f"WER {e / max(n, 1):.3f}, median latency {fmt(result.median_latency)}"
                    f"{', DOUBLED: ' + '; '.join(doubled) if doubled else ''}"
                )
                for u, x in zip(rec.utterances, result.latencies, strict=True):
                    print(f"  {u.name:10s} acoustic end→text {fmt(x)}  ({u.text})")
                if len(known) > 2 and result.latencies[-1] is not None:
                    others = statistics.median(known[:-1])
                    print(
                        f"  last utterance {result.latencies[-1]:.2f} s, "
                        f"median of the others {others:.2f} s"
                    )
                print(f"  text: {result.text}")
                if result.revised_text is not None:
                    e, n = accuracy.wer_counts(rec.reference, result.revised_text)
                    revised.errors, revised.words = revised.errors + e, revised.words + n
                    revised.delays += list(result.revision_delays)
                    doubled = accuracy.repeated_phrases(result.revised_text)
                    print(
                        f"  after {result.revision_passes} revision pass(es) changing "
                        f"{len(result.revisions)} line(s) in {result.revision_busy_s:.1f} s"
                        f": WER {e / max(n, 1):.3f}"
                        f", revision delay {fmt(_median(result.revision_delays))}"
                        f"{', DOUBLED: ' + '; '.join(doubled) if doubled else ''}"
                    )
                    waits = result.revision_waits
                    print(
                        f"  finals that waited for a revision: {len(waits)} of "
                        f"{len(result.pieces)}"
                        + (f" (by {', '.join(f'{w:.2f}' for w in waits)} s)" if waits else "")
                    )
                    revised.waits += [len(waits), len(result.pieces)]
                    for old, new in result.revisions:
                        print(f"    {old!r} -> {new!r}")
                    print(f"  revised: {result.revised_text}")
            runs.setdefault(strategy, []).append(run)
            if revised.words:
                runs.setdefault(f"{strategy} revised", []).append(revised)

    print("\n== summary (latency from the acoustic end of speech; median over utterances,")
    print("   range over repeats; the machine may be shared, see the load average)")
    print(
        "| system | end of speech → final (median) | first partial (median) | WER | × batch | "
        "CPU cores | revision delay (median) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(f"| faster-whisper batch (vad_filter=True) | — | — | {batch_wer:.3f} | 1.00 | — | — |")
    for strategy, reps in runs.items():
        medians = [statistics.median(r.latencies) for r in reps if r.latencies]
        wers = [r.errors / max(r.words, 1) for r in reps]
        fps = [statistics.median(r.partials) for r in reps if r.partials]
        cpus = [statistics.mean(r.cpus) for r in reps if r.cpus]
        delays = [d for r in reps for d in r.delays]
        lat = f"{statistics.median(medians):.2f} s" if medians else "—"
        if len(medians) > 1:
            lat += f" ({min(medians):.2f}–{max(medians):.2f})"
        fp = f"{statistics.median(fps):.2f} s" if fps else "none"
        if strategy.endswith("revised"):
            fp = "—"  # the revision row only has text and the revision delay
        w = statistics.median(wers)
        ratio = f"{w / batch_wer:.2f}" if batch_wer else ("1.00" if w == 0 else "inf")
        cpu = f"{statistics.median(cpus):.2f}" if cpus else "—"
        delay = fmt(_median(delays)) if strategy.endswith("revised") else "—"
        print(f"| {strategy} | {lat} | {fp} | {w:.3f} | {ratio} | {cpu} | {delay} |")
    for strategy, reps in runs.items():
        waited = sum(w for r in reps for w in r.waits[0::2])
        finals = sum(w for r in reps for w in r.waits[1::2])
        if finals:
            print(f"{strategy}: {waited} of {finals} finals waited for a revision decode")
    print(_load(), "at the end")


@dataclass
class Run:
    """One strategy's figures over every recording of one repeat."""

    errors: int = 0
    words: int = 0
    latencies: list[float] = field(default_factory=list)
    partials: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)  # revision delays
    waits: list[int] = field(default_factory=list)  # (finals that waited, finals) pairs


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


if __name__ == "__main__":
    main()
