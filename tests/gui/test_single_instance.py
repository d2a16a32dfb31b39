"""One Dragoman per user (issue 12, defect 6). Before the fix a second launch opened a second
window, tray icon and overlay, both capturing and both writing settings.toml. Now the second
launch hands its request (input, start) to the first over a local socket and exits 0."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gui_helpers import REPO, clip

from app.single_instance import Request

pytestmark = pytest.mark.slow


def test_request_survives_the_wire() -> None:
    request = Request(source="/tmp/a b.wav", start=True)
    assert Request.from_line(request.to_line()) == request
    assert Request.from_line(b"not json\n") == Request()
    assert Request.from_line(b'{"source": 3, "start": "yes"}\n') == Request(None, True)


def _launch(home: Path, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DRAGOMAN_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "QT_QPA_PLATFORM": "offscreen",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _final_lines(home: Path) -> list[dict]:
    lines: list[dict] = []
    for path in sorted((home / "data").rglob("session-*.json")):
        with contextlib.suppress(OSError, ValueError):  # being written
            lines += [ln for ln in json.loads(path.read_text())["lines"] if ln["final"]]
    return lines


def test_a_second_launch_hands_over_and_exits_0(tmp_path: Path) -> None:
    first = _launch(tmp_path)
    try:
        lock = tmp_path / "config" / "instance.lock"
        deadline = time.monotonic() + 60
        while not lock.exists():
            assert first.poll() is None, first.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "the first instance never took the lock"
            time.sleep(0.1)
        second = _launch(tmp_path, "--input", str(clip("goforward.wav")), "--start")
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 0, out[-3000:]
        assert "already running" in out
        # the first instance took the request: it interprets the clip
        deadline = time.monotonic() + 150
        while not _final_lines(tmp_path):
            assert first.poll() is None, first.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "the handed-over input was never interpreted"
            time.sleep(0.2)
        assert "forward" in " ".join(ln["text"] for ln in _final_lines(tmp_path)).lower()
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=60)
        assert first.returncode == 0, out[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    # the lock went with the first instance: the next launch is a first one again
    third = _launch(tmp_path)
    try:
        time.sleep(3)
        assert third.poll() is None, third.communicate()[0][-3000:]
    finally:
        third.send_signal(signal.SIGTERM)
        assert third.wait(60) == 0
