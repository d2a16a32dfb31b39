"""System audio through libpulse (soundcard), on a real PulseAudio server: a tone played into
the sink is recorded from its monitor (with no `pactl` on PATH), named "System audio (...)", and
`dragoman run system` captions speech played into the sink."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import soundfile as sf

from tests.audio_env import tone
from tests.cli_env import start_cli, wait_for_line

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


def test_dragoman_run_system_captions_what_the_computer_plays(pulse, tmp_path, speech_dir):
    jsonl = tmp_path / "system.jsonl"
    env = pulse.env | {"DRAGOMAN_HOME": os.environ["DRAGOMAN_HOME"]}
    proc = start_cli(
        "run", "system", "--source", "en", "--speakers", "off", "--jsonl", jsonl, env=env
    )
    try:
        line = wait_for_line(proc.stderr, "listening on", timeout=120)
        assert "listening on System audio (Null Output)" in line
        pulse.play_file(speech_dir / "goforward.wav")
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    records = [json.loads(x) for x in jsonl.read_text().splitlines()]
    text = " ".join(r["text"] for r in records if r["type"] == "final").lower()
    assert "forward" in text, text
