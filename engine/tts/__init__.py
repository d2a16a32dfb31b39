"""Speech synthesis: text + language -> mono float32 speech, one chunk per sentence.

`Synthesizer` is the stage contract; `create_synthesizer(options)` picks the backend
(local Piper, or the remote Piper HTTP service with a local fallback). Backends are imported
lazily so that importing this package never loads onnxruntime or httpx.
"""

from __future__ import annotations

from engine.config import SpeechOptions
from engine.sentences import split_sentences
from engine.tts.base import SpeechChunk, SpeechSink, Synthesizer


def create_synthesizer(options: SpeechOptions | None = None) -> Synthesizer:
    """The synthesizer selected by `options.backend` ("local" or "remote")."""
    options = options or SpeechOptions()
    if options.backend == "remote":
        from engine.tts.remote import RemoteSynthesizer

        return RemoteSynthesizer(options)
    if options.backend != "local":
        from engine.errors import ConfigError

        raise ConfigError(f"Unknown speech backend {options.backend!r}: use 'local' or 'remote'.")
    from engine.tts.piper_local import PiperSynthesizer

    return PiperSynthesizer(options)


__all__ = ["SpeechChunk", "SpeechSink", "Synthesizer", "create_synthesizer", "split_sentences"]
