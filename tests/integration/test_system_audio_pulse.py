"""System audio through libpulse (soundcard), on a real PulseAudio server, with no `pactl` on
PATH: a tone played into the sink is recorded from its monitor, named "System audio (...)"."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf

from tests.audio_env import tone

RECORD = """
import json, sys, time
import numpy as np
from engine.audio.platform_capture import SystemAudioSource, list_system_audio, load_backend

labels = [d.label for d in list_system_audio(load_backend())]
source = SystemAudioSource()
print(json.dumps({"labels": labels, "name": source.name}), flush=True)
got, t0 = [], time.monotonic()
for block in source.blocks():
    got.append(block.samples)
    if time.monotonic() - t0 > 4.0:
        break
source.close()
np.save(sys.argv[1], np.concatenate(got))
"""


def test_system_audio_records_the_sink_monitor_without_pactl(pulse, tmp_path):
    wav, out = tmp_path / "tone.wav", tmp_path / "captured.npy"
    sf.write(wav, tone(440.0, 1.5, 48_000), 48_000)
    no_tools = tmp_path / "empty-path"
    no_tools.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", RECORD, str(out)],
        env=pulse.env | {"PATH": str(no_tools)},  # neither pactl nor any other tool
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(proc.stdout.readline() or "{}")
        assert ready, proc.stderr.read() if proc.poll() is not None else "no ready line"
        pulse.play_file(wav)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    # the null sink's monitor, named for its sink ("Null Output"), chosen as the default output's
    assert ready == {"labels": ["System audio (Null Output)"], "name": "System audio (Null Output)"}
    audio = np.load(out)
    assert len(audio) > 3 * 16_000
    loud = np.abs(audio) > 0.1
    assert loud.sum() > 16_000  # about 1.5 s of the tone came through
    segment = audio[np.flatnonzero(loud)[0] :][:16_000]
    peak_hz = np.argmax(np.abs(np.fft.rfft(segment))) * 16_000 / len(segment)
    assert abs(peak_hz - 440) < 5
