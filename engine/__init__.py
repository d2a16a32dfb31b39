"""Dragoman engine: Qt-free live interpretation pipeline (VAD -> ASR -> speaker -> NMT -> TTS)."""

__version__ = "0.1.0"
