"""The speech stage of the pipeline: final/translation -> synthesis -> player and/or WAV.

`SpeechStage.speak(final, translation)` runs on the pipeline's downstream worker (after
translation), synthesises sentence by sentence and hands each sentence to the `SpeechPlayer`
(`options.play`) as soon as it exists, and/or lays it on the source timeline of the speech
WAV (`speech_output`). It emits one `SpeechOutput` event per segment, once synthesis is done
and (when playing) playback has started, or when the player skipped it (`skipped=True`).
Its `echo_guard` (policy from `options.echo_guard`) reads what the player made audible.
When the output device fails mid-session, the next `speak` raises its DeviceError once and
the stage carries on without playback.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.audio.echo import EchoGuard, PlaybackLog
from engine.config import SpeechOptions
from engine.events import Final, SpeechOutput, StageTimes, Translation
from engine.tts import Synthesizer, create_synthesizer
from engine.tts.voices import split_ref

if TYPE_CHECKING:
    from engine.audio.player import PlaybackEvent, SpeechPlayer

log = logging.getLogger(__name__)


def voice_name(ref: str) -> str:
    """'/x/en_US-joe-medium.onnx#2' -> 'en_US-joe-medium#2' (the short name in events)."""
    if not ref:
        return ""
    base, speaker = split_ref(ref)
    name = Path(base).name.removesuffix(".onnx")
    return f"{name}#{speaker}" if speaker is not None else name


@dataclass
class _Pending:
    """What is known about one segment's speech until its SpeechOutput is emitted."""

    text: str
    lang: str
    voice: str
    times: StageTimes
    duration: float = 0.0
    synthesized: bool = False
    playback_at: float | None = None
    skipped: bool = False


class SpeechStage:
    """Synthesis + playback + speech WAV for the pipeline (see the module doc).

    emit: receives `SpeechOutput` events (from the worker or the player's event thread).
    speech_output: WAV path for `--speech`; lang: the language spoken when a final has no
    translation and no detected language (the ASR language, else English).
    source_clock: current source time for the player's lag policy (live sources only).
    synthesizer / player: injected for tests; built from `options` otherwise.
    """

    def __init__(
        self,
        options: SpeechOptions,
        *,
        emit: Callable[[SpeechOutput], None],
        speech_output: Path | None = None,
        lang: str | None = None,
        source_clock: Callable[[], float] | None = None,
        synthesizer: Synthesizer | None = None,
        player: SpeechPlayer | None = None,
        warm_up: bool = True,
    ) -> None:
        self.options = options
        self.emit = emit
        self.default_lang = lang or "en"
        self.synth = synthesizer or create_synthesizer(options)
        if warm_up:
            self.synth.warm_up(self.default_lang)  # a missing voice fails now, not mid-session
        self.log = PlaybackLog()
        self.player = player
        if self.player is None and options.play:
            from engine.audio.player import SpeechPlayer

            self.player = SpeechPlayer(
                options, on_event=self._on_playback, source_clock=source_clock, log=self.log
            )
            self.player.start()
        elif self.player is not None:
            self.log = self.player.log
            self.player.on_event = self._on_playback
        self.echo_guard = EchoGuard.from_options(options, self.log)
        self.timeline = None
        if speech_output is not None:
            from engine.audio.player import SpeechTimeline

            self.timeline = SpeechTimeline(speech_output)
        self._pending: dict[int, _Pending] = {}
        self._lock = threading.Lock()
        self._last_end = 0.0

    @property
    def backend_in_use(self) -> str:
        return self.synth.backend_in_use

    def set_volume(self, volume: float) -> None:
        """Playback volume (0..1+), applied to what is playing now."""
        self.options = replace(self.options, volume=volume)
        if self.player is not None:
            self.player.options = replace(self.player.options, volume=volume)

    @property
    def backlog(self) -> int:
        """Segments synthesised or being synthesised whose speech was not heard yet."""
        with self._lock:
            return len(self._pending)

    def speak(self, final: Final, translation: Translation | None = None) -> None:
        """Synthesise (and play / write) the translation, or the final's own text."""
        if translation is not None:
            text, lang = translation.text, translation.target_lang
            times = translation.times
        else:
            text, lang, times = final.text, final.lang or self.default_lang, final.times
        if not text.strip():
            return
        if self.player is not None and self.player.error is not None:
            error, self.player = self.player.error, None  # the device is gone: WAV/events only
            raise error
        voice = self.synth.voice_for_speaker(lang, final.speaker)
        started = time.monotonic()
        entry = _Pending(text, lang, voice or "", replace(times, synthesis_start_at=started))
        with self._lock:
            self._pending[final.segment_id] = entry
        self._last_end = max(self._last_end, final.end)
        chunks = self._chunks(final, text, lang, voice, entry)
        try:
            if self.player is not None:
                self.player.play(
                    final.segment_id, chunks, source_start=final.start, source_end=final.end
                )
            else:
                for _ in chunks:
                    pass
        except BaseException:
            with self._lock:
                self._pending.pop(final.segment_id, None)
            raise
        with self._lock:
            entry.synthesized = True
            entry.times = replace(entry.times, synthesis_done_at=time.monotonic())
        self._maybe_emit(final.segment_id)

    def _chunks(self, final: Final, text: str, lang: str, voice: str | None, entry: _Pending):
        for chunk in self.synth.synthesize(text, lang, voice):
            entry.duration += chunk.duration
            if not entry.voice:
                entry.voice = chunk.voice
            if self.timeline is not None:
                self.timeline.add(
                    final.start,
                    chunk.samples,
                    chunk.sample_rate,
                    segment_id=final.segment_id,
                    text=chunk.text,
                )
            yield chunk

    def _on_playback(self, event: PlaybackEvent) -> None:
        with self._lock:
            entry = self._pending.get(event.segment_id)
            if entry is None:
                return
            if event.kind == "start":
                entry.playback_at = event.at
                entry.times = replace(entry.times, playback_start_at=event.at)
            elif event.kind == "skipped" and entry.playback_at is None:
                entry.skipped = True
            else:
                return
        self._maybe_emit(event.segment_id)

    def _maybe_emit(self, segment_id: int) -> None:
        with self._lock:
            entry = self._pending.get(segment_id)
            if entry is None or not entry.synthesized:
                return
            if self.player is not None and entry.playback_at is None and not entry.skipped:
                return  # wait for playback to start
            del self._pending[segment_id]
        self.emit(
            SpeechOutput(
                segment_id=segment_id,
                text=entry.text,
                lang=entry.lang,
                voice=voice_name(entry.voice),
                duration=round(entry.duration, 3),
                times=replace(entry.times, emitted_at=time.monotonic()),
                skipped=entry.skipped,
            )
        )

    def drain(self, stop: bool = False, total_duration: float | None = None) -> None:
        """Finish: wait until queued speech was heard (unless `stop`), close the WAV.

        Segments that never started playing are reported as skipped.
        """
        if self.player is not None:
            self.player.stop(drain=not stop)
            with self._lock:
                unheard = [seg for seg, e in self._pending.items() if e.synthesized]
                for seg in unheard:
                    self._pending[seg].skipped = True
            for seg in unheard:
                self._maybe_emit(seg)
        if self.timeline is not None:
            self.timeline.close(total_duration if total_duration is not None else self._last_end)
        self.synth.close()
