"""Speech synthesis: text + language -> mono float32 speech, one chunk per sentence.

`Synthesizer` is the stage contract; `create_synthesizer(options)` picks the backend
(local Piper, or the remote Piper HTTP service with a local fallback). Backends are imported
lazily so that importing this package never loads onnxruntime or httpx.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from engine.config import SpeechOptions
from engine.sentences import split_sentences


@dataclass(frozen=True)
class SpeechChunk:
    """Synthesised speech of one sentence.

    samples: mono float32 in [-1, 1]. index: sentence number within the synthesised text.
    voice: the voice that spoke it (path/id, with "#speaker" for multi-speaker voices).
    """

    samples: np.ndarray = field(repr=False)
    sample_rate: int
    text: str
    index: int = 0
    voice: str = ""

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)


@runtime_checkable
class Synthesizer(Protocol):
    """Text -> speech, lazily, sentence by sentence (playback can start after the first)."""

    def synthesize(self, text: str, lang: str, voice: str | None = None) -> Iterator[SpeechChunk]:
        """Yield one `SpeechChunk` per sentence of `text` spoken in `lang`.

        voice: an explicit voice (path/id, "#speaker" suffix allowed); None = the voice
        configured for `lang`. Raises ModelError when no voice exists for the language.
        """
        raise NotImplementedError

    def voice_for_speaker(self, lang: str, speaker: str | None) -> str | None:
        """The voice to use for `speaker` in `lang` (None = the language's default voice).

        Distinct speakers get distinct voices, stably, while the language has voices left.
        """
        raise NotImplementedError


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


__all__ = ["SpeechChunk", "Synthesizer", "create_synthesizer", "split_sentences"]
