"""Where Dragoman keeps its files (platformdirs), overridable for tests with DRAGOMAN_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "dragoman"


def _home_override() -> Path | None:
    value = os.environ.get("DRAGOMAN_HOME")
    return Path(value) if value else None


def data_dir() -> Path:
    """User data directory (models, speaker profiles, sessions)."""
    home = _home_override()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    home = _home_override()
    return (
        home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    )


def cache_dir() -> Path:
    home = _home_override()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def models_dir() -> Path:
    """User models directory; each model lives in its own sub-directory named by catalogue id."""
    return data_dir() / "models"


def speakers_dir() -> Path:
    return data_dir() / "speakers"


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def resources_dir() -> Path:
    """The repository's / installed package's `resources/` folder."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "resources", here / "resources"):
        if candidate.is_dir():
            return candidate
    return here.parent / "resources"
