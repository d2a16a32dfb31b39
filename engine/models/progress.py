"""Download progress on stderr, for command-line runs that fetch a model on first use.

On a terminal: one line redrawn in place ("Downloading whisper-small  45%  218/484 MB  12 MB/s").
Piped or logged: a line at start, one every 10 %, and one at the end (no carriage returns in
log files). The store uses it whenever a caller gave no progress callback of its own (the GUI's
model manager gives one).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from engine.models.download import DownloadProgress


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n / 1e6:.0f}"


class StderrProgress:
    """A DownloadProgress callback that draws a progress bar on a text stream (stderr)."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 24) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last_step = -1
        self.finished = False

    def __call__(self, progress: DownloadProgress) -> None:
        fraction = progress.fraction if progress.fraction is not None else 0.0
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = progress.bytes_done / elapsed / 1e6
        percent = int(fraction * 100)
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (
            f"Downloading {self.label} [{bar}] {percent:3d}%  "
            f"{_mb(progress.bytes_done)}/{_mb(progress.bytes_total)} MB  {rate:.1f} MB/s"
        )
        done = progress.bytes_total is not None and progress.bytes_done >= progress.bytes_total
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done and not self.finished else ""))
        elif percent // 10 != self.last_step or (done and not self.finished):
            self.stream.write(line + "\n")
        self.last_step = percent // 10
        self.finished = self.finished or done
        self.stream.flush()
