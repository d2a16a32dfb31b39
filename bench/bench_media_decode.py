"""Decoding long media files: speed and memory of engine.audio.io.stream_audio per container.

Encodes N minutes of real speech (the shared clips, repeated) into M4A (AAC), WebM (Opus), MKV
(AAC) and MP3 with PyAV, then streams each through stream_audio (PyAV or libsndfile + soxr) and
prints decode speed (x real time) and the peak resident memory of a fresh process that decodes
the file, for a 1-minute and an N-minute file: it must be the same (flat) whatever the length.

    python bench/bench_media_decode.py [--minutes 10]

Figures are from a shared 2-core machine: noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
import soundfile as sf

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"


def encode(samples: np.ndarray, rate: int, path: Path, fmt: str, codec: str, out_rate: int):
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=out_rate, layout="mono")
        ctx = stream.codec_context
        resampler = av.AudioResampler(
            format=ctx.format.name, layout="mono", rate=out_rate, frame_size=ctx.frame_size
        )
        step = rate * 10
        for start in range(0, len(samples), step):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + step], "flt", "mono")
            frame.sample_rate = rate
            for chunk in resampler.resample(frame):
                for packet in stream.encode(chunk):
                    out.mux(packet)
        for chunk in resampler.resample(None):
            for packet in stream.encode(chunk):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


_CHILD = """
import json, resource, sys, time
from engine.audio.io import stream_audio
start = time.perf_counter()
total = sum(len(c) for c in stream_audio(sys.argv[1], block_s=0.5))
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": total / 16000, "elapsed": elapsed, "rss_mb": rss}))
"""


def decode_in_child(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    clip, rate = sf.read(SPEECH / "forever.wav", dtype="float32")
    seconds = args.minutes * 60
    long = np.tile(clip, int(seconds * rate / len(clip)) + 1)[: int(seconds * rate)]
    with tempfile.TemporaryDirectory() as tmp:
        kinds = {
            "wav": ("wav", None, None, rate),
            "m4a (aac)": ("m4a", "mp4", "aac", 44100),
            "webm (opus)": ("webm", "webm", "libopus", 48000),
            "mkv (aac)": ("mkv", "matroska", "aac", 44100),
            "mp3": ("mp3", "mp3", "libmp3lame", 44100),
        }
        print(
            f"| file | size ({args.minutes:.0f} min) | decode speed | peak RSS, 1 min file "
            f"| peak RSS, {args.minutes:.0f} min file |"
        )
        print("|---|---|---|---|---|")
        for name, (suffix, fmt, codec, out_rate) in kinds.items():
            results = []
            for minutes, audio in (
                (1.0, long[: int(60 * rate)]),
                (args.minutes, long),
            ):
                path = Path(tmp) / f"{minutes:.0f}min.{suffix}"
                if fmt is None:
                    sf.write(path, audio, rate)
                else:
                    encode(audio, rate, path, fmt, codec, out_rate)
                results.append((path.stat().st_size, decode_in_child(path)))
            size, big = results[1]
            print(
                f"| {name} | {size / 1e6:.1f} MB | {big['seconds'] / big['elapsed']:.0f}x "
                f"real time | {results[0][1]['rss_mb']:.0f} MB | {big['rss_mb']:.0f} MB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
