"""SIGTERM (logout, systemd) while interpreting: the app saves the session and exits 0 (issue
12). Before the fix the default action killed the process (exit -15) and the open sentence was
never written."""

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

pytestmark = pytest.mark.slow


def _saved_lines(home: Path) -> list[dict]:
    lines: list[dict] = []
    for path in sorted((home / "data").rglob("session-*.json")):
        with contextlib.suppress(OSError, ValueError):  # being written
            lines += json.loads(path.read_text()).get("lines", [])
    return lines


def test_sigterm_while_running_saves_the_session_and_exits_0(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DRAGOMAN_HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "QT_QPA_PLATFORM": "offscreen",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--input", str(clip("chan3.wav")), "--start"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 150
        while not _saved_lines(tmp_path):
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "no line was saved while running"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, out[-3000:]
    lines = _saved_lines(tmp_path)
    assert lines and all(ln["final"] for ln in lines), lines  # the open sentence was flushed
