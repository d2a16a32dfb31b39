"""Speaker-id time per segment: preprocessing + embedding + identification.

Runs every clip of ../shared/data/speech (chan3 cut into ~5 s pieces) through
`EmbeddingSpeakerIdentifier.identify` as the pipeline does per final segment, and prints the
median / p90 / max wall time per segment and per second of audio, plus the one-off load time.

    python bench/bench_speaker_id.py [--repeat 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.audio.io import load_audio  # noqa: E402
from engine.config import SpeakerOptions  # noqa: E402
from engine.speakers.encoder import VoiceEncoder  # noqa: E402
from engine.speakers.identifier import EmbeddingSpeakerIdentifier  # noqa: E402
from engine.speakers.profiles import SpeakerProfiles  # noqa: E402

SPEECH = REPO / ".." / "shared" / "data" / "speech"
SR = 16_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes over the clips")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    args = parser.parse_args()

    segments = []
    for path in sorted(SPEECH.glob("*.wav")):
        audio = load_audio(path)
        if len(audio) > 8 * SR:
            step = 5 * SR
            segments += [audio[i : i + step] for i in range(0, len(audio) - SR, step)]
        else:
            segments.append(audio)

    start = time.perf_counter()
    encoder = VoiceEncoder(cpu_threads=args.threads)
    encoder.warm_up()
    load_s = time.perf_counter() - start

    per_segment, per_audio_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            identifier = EmbeddingSpeakerIdentifier(
                SpeakerOptions(cpu_threads=args.threads),
                embedder=encoder,
                profiles=SpeakerProfiles(Path(tmp)),
            )
            for seg in segments:
                t0 = time.perf_counter()
                identifier.identify(seg)
                dt = time.perf_counter() - t0
                per_segment.append(dt)
                per_audio_s.append(dt / (len(seg) / SR))

    durations = [len(s) / SR for s in segments]
    per_segment.sort()
    print(
        f"segments: {len(segments)} x {args.repeat} passes, "
        f"{min(durations):.1f}-{max(durations):.1f} s long "
        f"(median {statistics.median(durations):.2f} s); onnxruntime threads: {args.threads}"
    )
    print(f"model load + warm-up: {load_s * 1000:.0f} ms")
    print(
        f"per segment: median {statistics.median(per_segment) * 1000:.1f} ms, "
        f"p90 {per_segment[int(0.9 * (len(per_segment) - 1))] * 1000:.1f} ms, "
        f"max {per_segment[-1] * 1000:.1f} ms"
    )
    print(f"per second of audio: median {statistics.median(per_audio_s) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
