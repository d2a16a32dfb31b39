"""Shared test set-up: an isolated DRAGOMAN_HOME per test session, paths to shared data."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()
SPEECH = SHARED / "data" / "speech"

_HOME = Path(tempfile.mkdtemp(prefix="dragoman-test-home-"))
os.environ["DRAGOMAN_HOME"] = str(_HOME)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The assembled Whisper base is 145 MB: reuse one assembled copy across test sessions.
_SHARED_MODELS = Path(tempfile.gettempdir()) / "dragoman-test-models"


def pytest_sessionstart(session: pytest.Session) -> None:
    _SHARED_MODELS.mkdir(exist_ok=True)
    models = _HOME / "data" / "models"
    models.parent.mkdir(parents=True, exist_ok=True)
    if not models.exists():
        models.symlink_to(_SHARED_MODELS, target_is_directory=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    if not SPEECH.is_dir():
        pytest.fail(f"shared speech clips not found at {SPEECH}")
    return SPEECH


@pytest.fixture(scope="session")
def whisper_base():
    """One loaded Whisper base transcriber (English fixed) shared by the integration tests."""
    from engine.asr.whisper import WhisperTranscriber
    from engine.config import AsrOptions

    return WhisperTranscriber(AsrOptions(language="en"))


@pytest.fixture(scope="session")
def whisper_auto():
    from engine.asr.whisper import WhisperTranscriber
    from engine.config import AsrOptions

    return WhisperTranscriber(AsrOptions())
