"""Capture sources on a private PulseAudio server (two null sinks)."""

from __future__ import annotations

import subprocess
import threading
import time

import numpy as np
import soundfile as sf

from engine.audio.sources import MicrophoneSource
from tests.audio_env import tone


def captured_rms(source: MicrophoneSource, seconds: float, play) -> float:
    """RMS of what `source` captures while `play()` runs on another thread."""
    player = threading.Thread(target=play)
    blocks = []
    start = time.monotonic()
    player.start()
    try:
        for block in source.blocks():
            blocks.append(block.samples)
            if time.monotonic() - start > seconds:
                break
    finally:
        source.close()
        player.join()
    audio = np.concatenate(blocks)
    return float(np.sqrt(np.mean(audio**2)))


# A 'pulse:SOURCE' capture redirects only its own stream: a later capture on the default device
# in the same process records the default source, not that PulseAudio source.
def test_default_mic_after_a_pulse_source_records_the_default_source(pulse, tmp_path, monkeypatch):
    monkeypatch.delenv("PULSE_SOURCE", raising=False)  # restored (absent) after the test
    pulse.pactl("load-module", "module-null-sink", "sink_name=other", "rate=48000", "channels=1")
    wav = tmp_path / "tone.wav"
    sf.write(wav, tone(440.0, 1.5, 48_000), 48_000)

    def play_into_other() -> None:
        time.sleep(0.3)
        subprocess.run(["paplay", "-d", "other", str(wav)], env=pulse.env, timeout=30, check=True)

    # The system-audio source hears what plays into 'other' ...
    assert captured_rms(MicrophoneSource("pulse:other.monitor"), 2.0, play_into_other) > 0.1
    # ... the default input (the first sink's monitor here) must not.
    assert captured_rms(MicrophoneSource(None), 2.0, play_into_other) < 0.01
