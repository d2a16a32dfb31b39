"""`dragoman run` interrupted: Ctrl-C or SIGTERM flushes the open segment and exits 128 + the
signal (130, 143); a second one during the flush leaves at once."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.cli_env import start_cli


def _finals(jsonl) -> list[dict]:
    if not jsonl.exists():
        return []
    lines = jsonl.read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["type"] == "final"]


def _start_and_wait_for_a_final(speech_dir, jsonl):
    """A real-time run of chan3.wav (several utterances), 1.5 s into the second utterance."""
    proc = start_cli(
        "run", speech_dir / "chan3.wav", "--realtime", "--speakers", "off", "--jsonl", jsonl
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not _finals(jsonl):
        time.sleep(0.1)
    time.sleep(1.5)  # well inside the next utterance
    return proc


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_flushes_the_open_segment_and_exits_128_plus_it(speech_dir, tmp_path, signum):
    jsonl = tmp_path / "run.jsonl"
    proc = _start_and_wait_for_a_final(speech_dir, jsonl)
    try:
        before = _finals(jsonl)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err[-2000:]
    assert "stopping (flushing the last segment)" in err
    after = _finals(jsonl)
    assert before and len(after) > len(before)  # the utterance in progress became final
    assert after[-1]["end"] > before[-1]["end"]


def test_second_ctrl_c_exits_130_without_crashing(speech_dir, tmp_path):
    """The second Ctrl-C used to unwind through a decode in progress and abort the process."""
    jsonl = tmp_path / "run.jsonl"
    proc = _start_and_wait_for_a_final(speech_dir, jsonl)
    try:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.02)
        proc.send_signal(signal.SIGINT)  # impatient: "abort now"
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "terminate called" not in err
    assert "stopped without flushing" in err
    assert _finals(jsonl)
