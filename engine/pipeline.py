"""The engine: frames -> VAD -> streaming ASR -> speaker id -> translation -> speech.

Data flows one way, through three threads:
- the caller's thread runs `run(source)`: it reads blocks from the source and feeds them to the
  `SegmentTracker` (engine/segments.py: VAD + segment bookkeeping, pure), which returns decode
  jobs; they go to the recogniser;
- the recogniser thread (`engine/recogniser.py`) decodes partials, speculative finals and
  finals, identifies the speaker and emits `Partial`/`Final` events, handing each final on;
- the downstream thread (`engine/downstream.py`) translates each final (the
  `TranslationStage`, engine/translate/stage.py) and speaks it (the `SpeechSink`), in order,
  so a slow translator never stalls capture.

The stages are built by `engine.stages.build_stages`; the pipeline only wires them, runs the
threads and reports `Stats`. Every event goes through one callback (`on_event`), serialised.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from engine.asr.whisper import Transcriber
from engine.audio import SAMPLE_RATE
from engine.audio.echo import EchoGuard
from engine.audio.sources import FrameSource
from engine.config import EngineConfig
from engine.downstream import Downstream
from engine.errors import DragomanError
from engine.events import Event, Finished, SpeakerChanged, Stage, StageFailure, Stats
from engine.recogniser import Recogniser
from engine.segments import DecodeJob, SegmentOutput, SegmentTracker
from engine.speakers.base import SpeakerIdentifier
from engine.stages import Stages, build_stages
from engine.translate.base import Translator
from engine.tts.base import SpeechSink
from engine.vad import VoiceActivityDetector

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 0.5  # while draining after the source ended
EventCallback = Callable[[Event], None]


class _Level:
    """Mean input level between two Stats events."""

    def __init__(self) -> None:
        self.energy = 0.0
        self.samples = 0

    def add(self, samples: object) -> None:
        import numpy as np

        block = np.asarray(samples)
        self.energy += float(np.dot(block, block))
        self.samples += len(block)

    def take_db(self) -> float:
        rms = math.sqrt(self.energy / self.samples) if self.samples else 0.0
        self.energy, self.samples = 0.0, 0
        return 20 * math.log10(max(rms, 1e-10))


class Pipeline:
    """Wires the stages. `load()` (slow) then `run(source)` (blocks); `stop()` from any thread.

    Loaded stage objects may be handed in (reused between runs, or scripted in tests); the rest
    is built from `config` by `load()`.
    """

    def __init__(
        self,
        config: EngineConfig | None = None,
        on_event: EventCallback | None = None,
        *,
        vad: VoiceActivityDetector | None = None,
        transcriber: Transcriber | None = None,
        speaker_identifier: SpeakerIdentifier | None = None,
        translator: Translator | None = None,
        speech: SpeechSink | None = None,
        speech_output: Path | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self.on_event: EventCallback = on_event or (lambda event: None)
        self.speech_output = speech_output  # WAV of the synthesised speech on the source timeline
        self._given_vad = vad
        self._given_transcriber = transcriber
        self._given_identifier = speaker_identifier
        self._given_translator = translator
        self._given_speech = speech
        self.stages: Stages | None = None
        self._emit_lock = threading.RLock()  # a consumer may call back into the pipeline
        self._stop = threading.Event()
        self._run_lock = threading.Lock()
        self._running = False
        self._source: FrameSource | None = None
        self._recogniser: Recogniser | None = None
        self._downstream: Downstream | None = None
        self._consumed = 0  # samples read from the source so far

    # ----------------------------------------------------------------- loading
    @property
    def loaded(self) -> bool:
        return self.stages is not None

    def load(self) -> None:
        """Load every model the config needs (raises DragomanError with a readable message)."""
        if self.stages is not None:
            return
        self.stages = build_stages(
            self.config,
            self._emit,
            self.source_clock,
            speech_output=self.speech_output,
            vad=self._given_vad,
            transcriber=self._given_transcriber,
            identifier=self._given_identifier,
            translator=self._given_translator,
            speech=self._given_speech,
        )

    # The loaded stages by name (what the GUI keeps between runs to avoid reloading models).
    @property
    def transcriber(self) -> Transcriber | None:
        return self.stages.transcriber if self.stages else None

    @property
    def speaker_identifier(self) -> SpeakerIdentifier | None:
        return self.stages.identifier if self.stages else None

    @property
    def translator(self) -> Translator | None:
        return self.stages.translator if self.stages else None

    @property
    def speech(self) -> SpeechSink | None:
        return self.stages.speech if self.stages else None

    @property
    def backends(self) -> dict[str, str]:
        return self.stages.backends if self.stages else {}

    # ----------------------------------------------------------------- events
    def _emit(self, event: Event) -> None:
        with self._emit_lock:
            try:
                self.on_event(event)
            except Exception:  # a broken consumer must not kill the engine
                log.exception("event consumer failed on %s", type(event).__name__)

    def source_clock(self) -> float:
        """Seconds of source audio consumed so far (the player's lag reference)."""
        return self._consumed / SAMPLE_RATE

    # ----------------------------------------------------------------- live controls
    def set_volume(self, volume: float) -> None:
        """Speech volume (0..1+), applied live to the playing speech."""
        if self.speech is not None:
            self.speech.set_volume(volume)

    def rename_speaker(self, old: str, new: str) -> None:
        """Rename a speaker label for the rest of the session (raises ConfigError if unknown)."""
        if self.speaker_identifier is not None:
            self.speaker_identifier.rename(old, new)
            self._emit(SpeakerChanged(old, new))

    def stop(self) -> None:
        """Stop capture; `run` flushes the open segment, finishes queued work and returns.

        Never blocks on audio I/O: it only sets a flag and asks the source to close, which a
        source does without waiting for its stream. A stop is never lost: with no run active it
        stops the next run as soon as it starts. A caller that reuses the pipeline calls
        `reset_stop()` just before `run()` to forget a stop that arrived after the previous
        run had already ended."""
        with self._run_lock:
            self._stop.set()
            source = self._source if self._running else None
        if source is not None:
            source.close()

    def reset_stop(self) -> None:
        """Forget a stop requested while no run was active (see `stop`)."""
        with self._run_lock:
            if not self._running:
                self._stop.clear()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # ----------------------------------------------------------------- running
    def run(self, source: FrameSource, *, realtime: bool | None = None) -> None:
        """Process `source` until it ends or `stop()` is called.

        realtime: whether frames arrive at the pace of speech (microphone, paced file); partials
        and speculative decodes are only worth their cost then. Default: `source.realtime`.
        """
        with self._run_lock:
            self._source = source
            self._running = True
        self.load()
        assert self.stages is not None
        stages = self.stages
        live = source.realtime if realtime is None else realtime
        if self._stop.is_set():
            source.close()
        attach = getattr(source, "set_event_sink", None)  # a capture device says it moved
        if attach is not None:
            attach(self._emit)
        # the speech stage's echo guard, when Dragoman speaks into the room it listens to
        echo_guard = stages.speech.echo_guard if stages.speech and source.hears_room else None
        downstream = None
        if stages.translation is not None or stages.speech is not None:
            downstream = Downstream(
                translation=stages.translation, speech=stages.speech, emit=self._emit
            )
        recogniser = Recogniser(
            stages.transcriber,
            emit=self._emit,
            on_final=downstream.submit if downstream else _ignore,
            identifier=stages.identifier,
            echo_guard=echo_guard,
            live=live,
            word_timestamps=self.config.asr.word_timestamps,
            on_revised=downstream.submit_revised if downstream else None,
        )
        self._recogniser, self._downstream = recogniser, downstream
        recogniser.start()
        if downstream is not None:
            downstream.start()
        error: BaseException | None = None
        try:
            self._feed(source, live, recogniser, echo_guard)
        except BaseException as exc:  # the open segment was flushed; reported below
            error = exc
        try:
            recogniser.close()
            self._join_reporting(recogniser, source)
            if downstream is not None:
                downstream.close()
                self._join_reporting(downstream, source)
            if stages.speech is not None:
                stages.speech.drain(
                    stop=self._stop.is_set() or error is not None,
                    total_duration=self._consumed / SAMPLE_RATE,
                )
        except BaseException as exc:  # e.g. the output device vanished while draining
            error = error or exc
        finally:
            source.close()
            self._emit_stats(source, None)  # everything drained
            with self._run_lock:
                stopped = self._stop.is_set()
                self._stop.clear()  # a loaded pipeline may run another source
                self._running = False
        if error is not None:
            message = str(error) if isinstance(error, DragomanError) else repr(error)
            self._emit(StageFailure(message, Stage.AUDIO, fatal=True, at=time.monotonic()))
            self._emit(Finished(time.monotonic(), reason="error"))
            raise error
        self._emit(Finished(time.monotonic(), reason="stopped" if stopped else "end"))

    def _feed(
        self,
        source: FrameSource,
        live: bool,
        recogniser: Recogniser,
        echo_guard: EchoGuard | None,
    ) -> None:
        """Read the source into the segment tracker until it ends or a stop; then flush.

        A failing source (device lost) just ends the blocks, so the open segment is still
        flushed before the error is raised."""
        assert self.stages is not None
        self.stages.vad.reset()
        tracker = SegmentTracker(
            self.stages.vad,
            self.config.vad,
            partials=live and self.config.asr.partials,
            partial_interval_s=self.config.asr.partial_interval_s,
            revisions=self.config.asr.revisions,
        )
        level = _Level()
        next_stats = SAMPLE_RATE
        source_error: Exception | None = None
        blocks = source.blocks()
        while not self._stop.is_set():
            try:
                block = next(blocks)
            except StopIteration:
                break
            except Exception as exc:
                source_error = exc
                break
            samples = block.samples
            if echo_guard is not None:
                samples = echo_guard.filter_frame(
                    samples, block.received_at - len(samples) / SAMPLE_RATE
                )
            level.add(samples)
            outputs = tracker.feed(samples, block.received_at, recogniser_idle=recogniser.idle())
            self._submit(recogniser, outputs)
            self._consumed = tracker.total
            if tracker.total >= next_stats:
                next_stats += SAMPLE_RATE
                self._emit_stats(source, level)
        if self._stop.is_set():
            recogniser.hurry()  # someone waits for Stop: the last finals decode greedily
        self._submit(recogniser, tracker.flush())
        self._emit_stats(source, level)
        if source_error is not None:
            raise source_error

    def _submit(self, recogniser: Recogniser, outputs: list[SegmentOutput]) -> None:
        for item in outputs:
            if isinstance(item, DecodeJob):
                recogniser.submit(item)
            else:
                self._emit(item)

    def _join_reporting(self, thread: threading.Thread, source: FrameSource) -> None:
        """Wait for a stage to finish its queue, reporting the backlog as it drains."""
        while True:
            thread.join(timeout=STATS_INTERVAL_S)
            if not thread.is_alive():
                return
            self._emit_stats(source, None)

    def _emit_stats(self, source: FrameSource, level: _Level | None) -> None:
        rec, down, speech = self._recogniser, self._downstream, self.speech
        self._emit(
            Stats(
                at=time.monotonic(),
                source_time=self._consumed / SAMPLE_RATE,
                input_level_db=level.take_db() if level is not None else -200.0,
                dropped_blocks=source.dropped_blocks,
                asr_backlog_s=rec.backlog_seconds() if rec else 0.0,
                translation_backlog=down.pending_sentences if down else 0,
                speech_backlog=speech.backlog if speech is not None else 0,
                real_time_factor=rec.last_rtf if rec else None,
                stage_backends=self.backends,
            )
        )


def _ignore(*_: object) -> None:
    pass
