"""Time from 'text ready' to the first audible sample of its speech.

For each line: synthesis of the first sentence (Piper) + queueing + device output latency.
"Audible" is measured two ways:
- callback: the player's own estimate (stream callback time + PortAudio's DAC time);
- recorded: the first loud sample captured back from the sink's monitor, in-process, with the
  capture stream's ADC time stamps (an independent check of the callback estimate).

Without --device, a private PulseAudio server with a null sink is started (as in the tests),
so this runs on machines without a sound card. Prints medians and 90th percentiles.

    python bench/bench_speech_latency.py [--runs 10] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.audio.player import SpeechPlayer  # noqa: E402
from engine.config import SpeechOptions  # noqa: E402
from engine.tts import create_synthesizer  # noqa: E402
from tests.audio_env import MonitorCapture  # noqa: E402

LINES = [
    "Good morning and welcome to the conference.",
    "Our first speaker will talk about renewable energy.",
    "Please switch your phones to silent mode.",
    "The coffee break starts at half past ten.",
    "Questions can be asked at the end of each session.",
    "Thank you all for coming today. We hope you enjoy it.",
    "Lunch will be served in the main hall.",
    "The slides will be shared after the talk.",
    "Let us begin with a short introduction.",
    "We are running about five minutes late.",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(threads: int, runs: int, device: str | None, capture: MonitorCapture | None) -> None:
    options = SpeechOptions(cpu_threads=threads)
    synth = create_synthesizer(options)
    t = time.monotonic()
    synth.warm_up("en")  # type: ignore[attr-defined]
    load_s = time.monotonic() - t
    first_synth, by_callback, by_recording, rtf = [], [], [], []
    with SpeechPlayer(options, device=device) as player:
        for i in range(runs):
            line = LINES[i % len(LINES)]
            ready = time.monotonic()
            first_chunk_at: list[float] = []
            t_syn = time.monotonic()

            def chunks(line=line, first_chunk_at=first_chunk_at):
                for chunk in synth.synthesize(line, "en"):
                    if not first_chunk_at:
                        first_chunk_at.append(time.monotonic())
                    yield chunk

            seen = len(player.events)
            n = player.play(i, chunks(), source_start=float(i), source_end=float(i) + 1)
            syn_total = time.monotonic() - t_syn
            player.wait_idle(30.0)
            start = next(e for e in list(player.events)[seen:] if e.kind == "start")
            audio_s = sum(it.end_at - it.start_at for it in player.log.items()[-n:])
            first_synth.append(first_chunk_at[0] - ready)
            by_callback.append(start.at - ready)
            rtf.append(syn_total / max(audio_s, 1e-6))
            if capture is not None:
                time.sleep(0.3)
                heard = capture.first_loud_after(ready)
                if heard is not None:
                    by_recording.append(heard - ready)
            time.sleep(0.3)

    def line(name: str, values: list[float]) -> str:
        if not values:
            return f"  {name:<44} n/a"
        return (
            f"  {name:<44} median {1000 * statistics.median(values):7.1f} ms"
            f"   p90 {1000 * pct(values, 0.9):7.1f} ms   (n={len(values)})"
        )

    print(f"Piper en_US-joe-medium, onnxruntime intra-op threads = {threads}")
    print(f"  voice load + warm-up                         {1000 * load_s:7.1f} ms")
    print(line("text ready -> first sentence synthesised", first_synth))
    print(line("text ready -> first audible (callback stamp)", by_callback))
    print(line("text ready -> first audible (recorded)", by_recording))
    print(f"  synthesis real-time factor                   median {statistics.median(rtf):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--device", help="output device (default: a private null sink)")
    args = parser.parse_args()
    with ExitStack() as stack:
        capture = None
        if args.device is None:
            from tests.audio_env import pulse_available, pulse_server

            if not pulse_available():
                sys.exit("needs pulseaudio + PortAudio, or --device")
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            stack.enter_context(pulse_server(tmp))
            capture = stack.enter_context(MonitorCapture(block=256, latency=0.05))
        for threads in args.threads:
            run(threads, args.runs, args.device, capture)


if __name__ == "__main__":
    main()
