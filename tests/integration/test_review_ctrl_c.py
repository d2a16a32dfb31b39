"""Review: `dragoman run` interrupted twice (Ctrl-C, Ctrl-C) while the last segment is flushed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


# Regression: the second Ctrl-C used to unwind through a decode and abort the process.
def test_second_ctrl_c_exits_130_without_crashing(speech_dir, tmp_path):
    jsonl = tmp_path / "run.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "run",
            str(speech_dir / "chan3.wav"),
            "--realtime",
            "--speakers",
            "off",
            "--jsonl",
            str(jsonl),
        ],
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if jsonl.exists() and '"final"' in jsonl.read_text():
                break
            time.sleep(0.1)
        time.sleep(1.5)  # well inside the next utterance
        proc.send_signal(signal.SIGINT)
        time.sleep(0.02)
        proc.send_signal(signal.SIGINT)  # impatient: "abort now"
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "terminate called" not in err
    finals = [r for r in map(json.loads, jsonl.read_text().splitlines()) if r["type"] == "final"]
    assert finals
