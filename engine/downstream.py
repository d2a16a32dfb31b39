"""The downstream thread: finals in, translations and speech out, strictly in order.

A slow translator or synthesiser never stalls capture or recognition: finals queue here and
none is ever dropped. Each stage's failure is reported under its own `Stage` and never stops
the other: a speech device that vanished still lets every later final be translated, and a
final whose translation failed is skipped by speech (the listener does not understand the
original) but keeps its subtitle.

A `FinalRevised` (a final whose text a revision changed) is translated again, in its turn, and
never spoken: its speech was already heard.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from engine.errors import DeviceError, DragomanError
from engine.events import Event, Final, FinalRevised, Stage, StageFailure, Translation
from engine.translate.stage import TranslationStage
from engine.tts.base import SpeechSink

log = logging.getLogger(__name__)

EventCallback = Callable[[Event], None]


class Downstream(threading.Thread):
    """Translates (when `translation` is set) then speaks (when `speech` is set) each final."""

    def __init__(
        self,
        *,
        translation: TranslationStage | None,
        speech: SpeechSink | None,
        emit: EventCallback,
    ) -> None:
        super().__init__(name="dragoman-downstream", daemon=True)
        self.translation = translation
        self.speech = speech
        self.emit = emit
        self._queue: collections.deque[tuple[Final | FinalRevised, Any]] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False
        self._pending_sentences = 0

    @property
    def pending_sentences(self) -> int:
        """Sentences queued for translation (the translation backlog)."""
        with self._cond:
            return self._pending_sentences

    def submit(self, final: Final, audio: Any = None) -> None:
        """Queue `final` (with its audio when the translation stage may need it)."""
        if self.translation is None or self.translation.whisper_fallback is None:
            audio = None  # keep no audio nobody will read
        with self._cond:
            self._queue.append((final, audio))
            self._pending_sentences += self._sentences(final)
            self._cond.notify()

    def submit_revised(self, revised: FinalRevised) -> None:
        """Queue a revised final: translated again (when translating), never spoken."""
        if self.translation is None:
            return
        with self._cond:
            self._queue.append((revised, None))
            self._pending_sentences += self._sentences(revised)
            self._cond.notify()

    def close(self) -> None:
        """Finish every queued final, then end the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                final, audio = self._queue.popleft()
            try:
                translation = self._translate(final, audio)
                # a revision was already spoken in its first version; never speak the
                # untranslated original
                if isinstance(final, Final) and (
                    self.translation is None or translation is not None
                ):
                    self._speak(final, translation)
            finally:
                with self._cond:
                    self._pending_sentences = max(
                        0, self._pending_sentences - self._sentences(final)
                    )

    def _sentences(self, final: Final | FinalRevised) -> int:
        return self.translation.sentence_count(final) if self.translation is not None else 0

    def _translate(self, final: Final | FinalRevised, audio: Any = None) -> Translation | None:
        if self.translation is None:
            return None
        try:
            translation = self.translation.translate(final, audio)
        except DragomanError as exc:
            self.emit(StageFailure(str(exc), Stage.NMT, at=time.monotonic()))
            return None
        except Exception as exc:
            log.exception("translation failed")
            self.emit(StageFailure(f"Translation failed: {exc}", Stage.NMT, at=time.monotonic()))
            return None
        if translation is not None:
            self.emit(translation)
        return translation

    def _speak(self, final: Final, translation: Translation | None) -> None:
        if self.speech is None:
            return
        try:
            self.speech.speak(final, translation)
        except DeviceError as exc:
            self.emit(StageFailure(str(exc), Stage.PLAYBACK, at=time.monotonic()))
        except DragomanError as exc:
            self.emit(StageFailure(str(exc), Stage.TTS, at=time.monotonic()))
        except Exception as exc:
            log.exception("speech synthesis failed")
            self.emit(StageFailure(f"Speech failed: {exc}", Stage.TTS, at=time.monotonic()))
