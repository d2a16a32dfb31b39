"""Where Dragoman keeps its files (platformdirs), overridable for tests with DRAGOMAN_HOME."""

from __future__ import annotations

import importlib.util
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
    """The `resources/` folder: beside the `engine` package in a checkout or a Briefcase bundle,
    else the installed data package `dragoman_resources` (a wheel install)."""
    beside = Path(__file__).resolve().parent.parent / "resources"
    if beside.is_dir():
        return beside
    spec = importlib.util.find_spec("dragoman_resources")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return beside
