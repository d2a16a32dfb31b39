"""How fast an unplugged microphone is noticed and a replugged one is used again (issue 12,
defect 5), on a private PulseAudio server; prints numbers, asserts nothing.

    .venv/bin/python bench/bench_input_lost.py [--cycles 10]

Per cycle: capture from a `module-remap-source` "microphone" of a room sink (a quiet 440 Hz
tone plays there); unload it, so PulseAudio moves the stream to the speakers' monitor (a loud
1 kHz tone plays there); reload it. Printed: the time from `pactl unload-module` returning to
`InputLost`, from `load-module` returning to `InputRestored`, the loudest 1 kHz band magnitude
among the blocks delivered after the unload (the speakers' tone itself is ~37 per 20 ms frame:
anything below ~1 is the room tone's cut-off click, i.e. nothing leaked), and how long the
source's close() took at the end.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10)
    args = parser.parse_args(argv)

    from engine.audio import SAMPLE_RATE
    from engine.audio.sources import MicrophoneSource
    from engine.config import AudioOptions
    from engine.events import InputLost, InputRestored
    from tests.audio_env import Microphone, band_energies, room_and_speakers
    from tests.integration.test_input_lost_pulse import MIC, SPEAKERS_HZ, Listener, play_tones

    lost_s: list[float] = []
    back_s: list[float] = []
    leaks: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, room_and_speakers(Path(tmp)) as srv:
        play_tones(srv)
        mic = Microphone(srv.env)
        mic.plug()
        listener = Listener(MicrophoneSource(f"pulse:{MIC}", AudioOptions(when_input_lost="wait")))
        try:
            listener.wait_audio(1.0)
            for cycle in range(args.cycles):
                listener.events.clear()
                mic.unplug()
                unplugged = time.monotonic()
                lost = listener.wait_event(InputLost)
                lost_s.append(lost.at - unplugged)
                time.sleep(1.0)
                after = listener.audio_between(unplugged - 0.05, time.monotonic())
                leak = band_energies(after, SAMPLE_RATE, [SPEAKERS_HZ])[:, 0]
                leaks.append(float(leak.max()) if len(leak) else 0.0)
                mic.plug()
                replugged = time.monotonic()
                back = listener.wait_event(InputRestored)
                back_s.append(back.at - replugged)
                listener.wait_audio(0.5)
                print(
                    f"cycle {cycle}: lost after {lost_s[-1] * 1000:.0f} ms, back after "
                    f"{back_s[-1] * 1000:.0f} ms, 1 kHz after the unplug {leaks[-1]:.2f}"
                )
        finally:
            t0 = time.monotonic()
            listener.close()
            closed = time.monotonic() - t0
            mic.unplug()
    print(
        f"\n{args.cycles} cycles: InputLost median {statistics.median(lost_s) * 1000:.0f} ms "
        f"(max {max(lost_s) * 1000:.0f}); InputRestored median "
        f"{statistics.median(back_s) * 1000:.0f} ms (max {max(back_s) * 1000:.0f}); loudest "
        f"1 kHz band after an unplug {max(leaks):.2f} (the tone: ~37); close {closed:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
