"""Replay speech in real time through the whole engine and print, per utterance, the delay from
end of speech to the final subtitle, the time to the first partial, and the real-time factor.

    python bench/bench_latency.py [CLIP ...] [--model default] [--gap 0.7] [--threads 2]

With no clip: every clip of ../shared/data/speech played back to back with --gap seconds of
silence between them (sentence pauses inside a monologue), then chan3.wav on its own.
"End of speech" is measured two ways: where the VAD heard the last speech of the segment, and
(independently of Silero) the last 10 ms frame within 30 dB of the segment's loudest frame. The
delay runs from the moment that audio reached the engine (paced like a microphone) to the Final.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.asr.whisper import WhisperTranscriber  # noqa: E402
from engine.audio.io import load_audio  # noqa: E402
from engine.audio.sources import ArraySource  # noqa: E402
from engine.config import AsrOptions, EngineConfig, SpeakerOptions  # noqa: E402
from engine.events import Final, Partial, SpeechStarted  # noqa: E402
from engine.pipeline import Pipeline  # noqa: E402

SPEECH = ROOT.parent / "shared" / "data" / "speech"


def acoustic_end(audio: np.ndarray, start_s: float, end_s: float) -> float:
    """Source time of the last 10 ms frame within 30 dB of the loudest frame in [start, end]."""
    hop = 160
    first = int(start_s * 16000) // hop
    frames = audio[first * hop : int(end_s * 16000) // hop * hop].reshape(-1, hop)
    rms = np.sqrt((frames**2).mean(axis=1)) + 1e-9
    loud = np.nonzero(rms > rms.max() * 10 ** (-30 / 20))[0]
    return (first + loud[-1] + 1) * hop / 16000


def replay(name: str, audio: np.ndarray, transcriber: WhisperTranscriber, language: str | None):
    config = EngineConfig(asr=AsrOptions(language=language), speakers=SpeakerOptions(mode="off"))
    events: list[tuple[float, object]] = []
    pipeline = Pipeline(
        config, lambda e: events.append((time.monotonic(), e)), transcriber=transcriber
    )
    source = ArraySource(audio, name=name, realtime=True)
    cpu0 = time.process_time()
    t0 = time.monotonic()
    pipeline.run(source)
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    finals = [e for _, e in events if isinstance(e, Final)]
    starts = {e.segment_id: (t, e) for t, e in events if isinstance(e, SpeechStarted)}
    first_partial: dict[int, float] = {}
    for t, e in events:
        if isinstance(e, Partial) and e.segment_id not in first_partial:
            first_partial[e.segment_id] = t
    duration = len(audio) / 16000
    decode_total = sum(f.times.asr_done_at - f.times.asr_start_at for f in finals)
    print(
        f"\n== {name}: {duration:.1f} s audio, {len(finals)} finals, wall {wall:.1f} s, "
        f"CPU {cpu / wall:.2f} cores; real-time factor {decode_total / duration:.3f} "
        f"(final decodes) / {cpu / duration:.2f} (all CPU, partials included)"
    )
    delays, acoustic, partial_delays, decodes = [], [], [], []
    for f in finals:
        delay = f.times.emitted_at - f.times.audio_end_at
        acoustic.append(f.times.emitted_at - (t0 + acoustic_end(audio, f.start, f.end)))
        decode = f.times.asr_done_at - f.times.asr_start_at
        delays.append(delay)
        decodes.append(decode)
        fp = ""
        if f.segment_id in first_partial and f.segment_id in starts:
            t_start, ev = starts[f.segment_id]
            # speech start reached the engine at t0 + ev.start (paced source)
            d = first_partial[f.segment_id] - (t0 + ev.start)
            partial_delays.append(d)
            fp = f"first partial {d:5.2f} s after speech start"
        speculative = "yes" if f.times.asr_start_at < f.times.vad_end_at else "no"
        print(
            f"  [{f.start:6.2f}-{f.end:6.2f}] end→final {delay:5.2f} s "
            f"(acoustic end→final {acoustic[-1]:4.2f} s)  "
            f"(decode {decode:4.2f} s, speculative={speculative})  {fp}  {f.text}"
        )
    return delays, acoustic, partial_delays, decodes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--model", default="default")
    parser.add_argument("--language", default="en", help="source language ('' = auto)")
    parser.add_argument("--gap", type=float, default=0.7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    t = time.monotonic()
    transcriber = WhisperTranscriber(
        AsrOptions(model=args.model, cpu_threads=args.threads, language=args.language or None)
    )
    print(f"model {args.model} loaded in {time.monotonic() - t:.1f} s")
    runs: list[tuple[str, np.ndarray]] = []
    if args.clips:
        runs = [(str(c), load_audio(c)) for c in args.clips]
    else:
        gap = np.zeros(int(args.gap * 16000), dtype=np.float32)
        clips = sorted(p for p in SPEECH.glob("*.wav") if p.name != "chan3.wav")
        pieces = [np.zeros(8000, dtype=np.float32)]
        for c in clips:
            pieces += [load_audio(c), gap]
        pieces.append(np.zeros(16000, dtype=np.float32))
        runs = [
            (f"monologue of {len(clips)} clips, {args.gap} s pauses", np.concatenate(pieces)),
            ("chan3.wav", load_audio(SPEECH / "chan3.wav")),
        ]
    all_delays, all_acoustic, all_partials, all_decodes = [], [], [], []
    for name, audio in runs:
        d, a, p, dec = replay(name, audio, transcriber, args.language)
        all_delays += d
        all_acoustic += a
        all_partials += p
        all_decodes += dec
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("\n== summary")
    print(
        f"  end of speech → final: median {statistics.median(all_delays):.2f} s, "
        f"max {max(all_delays):.2f} s over {len(all_delays)} utterances"
    )
    print(
        f"  acoustic end of speech → final: median {statistics.median(all_acoustic):.2f} s, "
        f"max {max(all_acoustic):.2f} s"
    )
    if all_partials:
        print(f"  speech start → first partial: median {statistics.median(all_partials):.2f} s")
    print(f"  final decode time: median {statistics.median(all_decodes):.2f} s")
    print(f"  peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
