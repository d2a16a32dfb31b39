"""Live accuracy against faster-whisper's batch transcription, and latency from the acoustic end
of speech, for Dragoman, the naive VAD loop and 5-second chunks (issue 8), on the same audio.

    python bench/bench_accuracy.py [--repeat 3] [--sets commands,passage,shared,espeak]
    python bench/bench_accuracy.py --smoke      # ~1 minute: every figure, tiny audio

Recordings (each paced like a microphone): Piper speaking short commands separately (1.5 s
gaps), a read passage of seven sentences spoken by Piper with 0.6-0.9 s sentence pauses, the
shared real clips joined with 0.7 s pauses, and espeak-ng sentences with 0.8 s pauses.
Prints per utterance the latency of each strategy, then one table: batch WER, live WER, the ratio,
median latency (spread over repeats), first partial and CPU. On a shared machine the latencies
are noisy: repeat and read the spread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import accuracy, corpus  # noqa: E402
from engine.asr.whisper import WhisperTranscriber  # noqa: E402
from engine.config import AsrOptions  # noqa: E402

SETS = ("commands", "passage", "shared", "espeak")


def timelines(names: list[str], smoke: bool) -> list[corpus.Timeline]:
    if smoke:  # one short recording: two Piper commands and one real clip
        utts = corpus.piper(corpus.COMMANDS[:2], "cmd") + corpus.shared_clips(["goforward.wav"])
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
        else:
            raise SystemExit(f"unknown set {name!r}: choose from {', '.join(SETS)}")
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
    parser.add_argument("--strategies", default="dragoman,naive,chunks")
    parser.add_argument("--smoke", action="store_true", help="tiny audio, one run (CI)")
    args = parser.parse_args()
    language = args.language or None
    t = time.monotonic()
    transcriber = WhisperTranscriber(
        AsrOptions(model=args.model, cpu_threads=args.threads, language=language)
    )
    print(f"model {args.model} loaded in {time.monotonic() - t:.1f} s")
    recordings = timelines(args.sets.split(","), args.smoke)
    runners = {
        "dragoman": accuracy.run_dragoman,
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

    # strategy -> per repeat: (errors, words, latencies, first partials, cpu)
    runs: dict[str, list[tuple[int, int, list[float], list[float], list[float]]]] = {}
    for repeat in range(args.repeat):
        for strategy in strategies:
            errors = words = 0
            lat: list[float] = []
            partials: list[float] = []
            cpus: list[float] = []
            for rec in recordings:
                result = runners[strategy](transcriber, rec, language=language)
                e, n = accuracy.wer_counts(rec.reference, result.text)
                errors, words = errors + e, words + n
                known = [x for x in result.latencies if x is not None]
                lat += known
                partials += list(result.first_partials)
                if result.cpu_cores is not None:
                    cpus.append(result.cpu_cores)
                doubled = accuracy.repeated_phrases(result.text)
                print(
                    f"\n-- run {repeat + 1} {result.strategy} on {rec.name}: "
                    f"WER {e / max(n, 1):.3f}, median latency {fmt(result.median_latency)}"
                    f"{', DOUBLED: ' + '; '.join(doubled) if doubled else ''}"
                )
                for u, x in zip(rec.utterances, result.latencies, strict=True):
                    print(f"  {u.name:10s} acoustic end→text {fmt(x)}  ({u.text})")
                print(f"  text: {result.text}")
            runs.setdefault(strategy, []).append((errors, words, lat, partials, cpus))

    print("\n== summary (latency from the acoustic end of speech; median over utterances,")
    print("   range over repeats; the machine may be shared, see the load average)")
    print(
        "| system | end of speech → final (median) | first partial (median) | WER | × batch | "
        "CPU cores |"
    )
    print("|---|---|---|---|---|---|")
    print(f"| faster-whisper batch (vad_filter=True) | — | — | {batch_wer:.3f} | 1.00 | — |")
    for strategy, reps in runs.items():
        medians = [statistics.median(r[2]) for r in reps if r[2]]
        wers = [r[0] / max(r[1], 1) for r in reps]
        fps = [statistics.median(r[3]) for r in reps if r[3]]
        cpus = [statistics.mean(r[4]) for r in reps if r[4]]
        lat = f"{statistics.median(medians):.2f} s" if medians else "—"
        if len(medians) > 1:
            lat += f" ({min(medians):.2f}–{max(medians):.2f})"
        fp = f"{statistics.median(fps):.2f} s" if fps else "none"
        w = statistics.median(wers)
        ratio = f"{w / batch_wer:.2f}" if batch_wer else ("1.00" if w == 0 else "inf")
        cpu = f"{statistics.median(cpus):.2f}" if cpus else "—"
        print(f"| {strategy} | {lat} | {fp} | {w:.3f} | {ratio} | {cpu} |")
    try:
        import os

        print(f"load average {os.getloadavg()[0]:.1f} (1 min) at the end")
    except OSError:
        pass


if __name__ == "__main__":
    main()
