"""Dragoman engine: Qt-free live interpretation pipeline (VAD -> ASR -> speaker -> NMT -> TTS)."""

from importlib.metadata import PackageNotFoundError, version

try:  # the one version number is [project].version in pyproject.toml (Briefcase reads it too)
    __version__ = version("dragoman")
except PackageNotFoundError:  # a bare source tree that was never installed
    __version__ = "0+unknown"
