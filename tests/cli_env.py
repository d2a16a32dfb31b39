"""The `dragoman` command line as a real subprocess, for every test that runs it.

    from tests.cli_env import run_cli, start_cli

    proc = run_cli("run", "clip.wav", "--jsonl", out)      # waits; CompletedProcess (text)
    live = start_cli("run", "mic", "--jsonl", out)         # Popen: signal it, then communicate()

Both run `python -m engine.cli` (the engine's command line) in this interpreter, unbuffered, with
the test session's environment (its DRAGOMAN_HOME and offline Hub); `launcher=True` runs the
`dragoman` command itself (`python -m dragoman`: the desktop app when no command is given).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO


def _command(args: tuple[object, ...], launcher: bool) -> list[str]:
    module = "dragoman" if launcher else "engine.cli"
    return [sys.executable, "-m", module, *map(str, args)]


def _env(env: Mapping[str, str] | None, drop: tuple[str, ...]) -> dict[str, str]:
    merged = dict(os.environ if env is None else env)
    merged["PYTHONUNBUFFERED"] = "1"
    for name in drop:
        merged.pop(name, None)
    return merged


def run_cli(
    *args: object,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
    drop_env: tuple[str, ...] = (),
    cwd: Path | str | None = None,
    launcher: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the command line to completion; stdout and stderr captured as text."""
    return subprocess.run(
        _command(args, launcher),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(env, drop_env),
        cwd=cwd,
    )


def start_cli(
    *args: object,
    env: Mapping[str, str] | None = None,
    drop_env: tuple[str, ...] = (),
    stderr_to_stdout: bool = False,
    cwd: Path | str | None = None,
    launcher: bool = False,
) -> subprocess.Popen[str]:
    """Start the command line and return at once (the caller waits, signals or kills it)."""
    return subprocess.Popen(
        _command(args, launcher),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if stderr_to_stdout else subprocess.PIPE,
        text=True,
        env=_env(env, drop_env),
        cwd=cwd,
    )


def wait_for_line(stream: IO[str], needle: str, timeout: float) -> str:
    """Read lines from `stream` (a started command's stderr) until one contains `needle`."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} not seen; got {''.join(seen)!r}")
