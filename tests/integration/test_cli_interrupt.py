"""`dragoman run` interrupted: Ctrl-C flushes the open segment; a second Ctrl-C during the flush
leaves at once; the exit status is 130."""

from __future__ import annotations

import json
import signal
import time

from tests.cli_env import start_cli


def test_second_ctrl_c_exits_130_without_crashing(speech_dir, tmp_path):
    """The second Ctrl-C used to unwind through a decode in progress and abort the process."""
    jsonl = tmp_path / "run.jsonl"
    proc = start_cli(
        "run", speech_dir / "chan3.wav", "--realtime", "--speakers", "off", "--jsonl", jsonl
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
