"""Helpers of the desktop-app tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from engine.metrics import normalize_text

if TYPE_CHECKING:
    from app.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SPEECH = REPO / ".." / "shared" / "data" / "speech"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.audio_env


def words(text: str) -> list[str]:
    """Lower-case words without punctuation; digits spelled out (Whisper writes "10", "10m")."""
    return normalize_text(text)


def clip(name: str) -> Path:
    path = (SPEECH / name).resolve()
    if not path.is_file():
        pytest.skip(f"speech clip {name} not found in ../shared/data/speech")
    return path


def app_settings(source: str = "mic") -> Settings:
    """Settings for a controller under test: input `source`, no model loading at launch."""
    from app.settings import Settings

    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.source = source
    return settings


def choose(combo: object, data: object) -> None:
    """Pick the item holding `data` in a combo box as a user's pick does (`activated` too)."""
    index = combo.findData(data)  # type: ignore[attr-defined]
    assert index >= 0, data
    combo.setCurrentIndex(index)  # type: ignore[attr-defined]
    combo.activated.emit(index)  # type: ignore[attr-defined]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the Qt event loop until `predicate()` holds (fails the test after `timeout` s)."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.005)


class DelayProbe:
    """Measures event-loop delay: a 10 ms timer notes how late each tick fires."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.interval = interval_ms / 1000.0
        self.max_delay = 0.0
        self.ticks = 0
        self._last: float | None = None
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        if self._last is not None:
            self.max_delay = max(self.max_delay, now - self._last - self.interval)
            self.ticks += 1
        self._last = now

    def start(self) -> None:
        self._last = None
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.max_delay


def close_controller(controller: object) -> None:
    from PySide6.QtWidgets import QApplication

    controller.shutdown()  # type: ignore[attr-defined]
    controller.window.deleteLater()  # type: ignore[attr-defined]
    controller.overlay.deleteLater()  # type: ignore[attr-defined]
    QApplication.processEvents()
