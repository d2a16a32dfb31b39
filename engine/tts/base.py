"""The speech contracts: `Synthesizer` (text -> speech chunks) and `SpeechSink` (the speech
stage as the pipeline sees it), with their result type. No backend code here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from engine.events import Final, Translation

if TYPE_CHECKING:
    from engine.audio.echo import EchoGuard


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

    @property
    def backend_in_use(self) -> str:
        """Where speech is synthesised now: "local" or "remote" (after a fallback: local)."""
        raise NotImplementedError

    def warm_up(self, lang: str) -> None:
        """Load what speaking `lang` needs now, so a missing voice fails before the session."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections and sessions (the synthesizer is not used afterwards)."""
        raise NotImplementedError


class SpeechSink(Protocol):
    """The speech stage as the pipeline sees it: finals (and their translations) in, speech
    out (played, written to a WAV, or both). Implemented by `engine.tts.stage.SpeechStage`."""

    @property
    def echo_guard(self) -> EchoGuard:
        """What keeps Dragoman from transcribing its own voice when it speaks into the room."""
        raise NotImplementedError

    @property
    def backend_in_use(self) -> str:
        raise NotImplementedError

    @property
    def backlog(self) -> int:
        """Utterances synthesised or being synthesised that were not heard yet."""
        raise NotImplementedError

    def speak(self, final: Final, translation: Translation | None = None) -> None:
        """Speak the translation, or the final's own text (called in segment order)."""
        raise NotImplementedError

    def set_volume(self, volume: float) -> None:
        """Playback volume (0..1+), applied to what is playing now."""
        raise NotImplementedError

    def drain(self, stop: bool = False, total_duration: float | None = None) -> None:
        """The run ended: wait until queued speech was heard (unless `stop`), close outputs."""
        raise NotImplementedError
