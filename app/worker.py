"""The one bridge between the Qt GUI and the Qt-free engine.

`EngineWorker` lives on its own QThread. `start()` (called from the UI thread) queues a run to
that thread, which loads the models (slow: never on the UI thread), opens the audio source and
blocks in `Pipeline.run`. Engine events arrive from engine threads through `_on_event` and leave
as typed signals; receivers on the UI thread get them through queued connections. `stop()` is
thread-safe: it asks the pipeline to flush the last segment and return.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine import stage_cache
from engine.api import EnginePipeline, PipelineFactory, SourceFactory, make_pipeline, open_source
from engine.audio.silence import SilenceWatch, is_microphone
from engine.audio.sources import FrameSource
from engine.config import EngineConfig, InputLostPolicy
from engine.errors import DragomanError
from engine.events import (
    Event,
    Final,
    FinalRevised,
    Finished,
    InputLost,
    InputRestored,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    SpeechOutput,
    SpeechStarted,
    Stage,
    StageFailure,
    Stats,
    Translation,
)

if TYPE_CHECKING:
    from engine.speakers.base import SpeakerIdentifier

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpeakerSession:
    """The transcript a run adds to: `key` differs per transcript (session) of the window;
    `taken` are the speaker labels it already shows."""

    key: int
    taken: tuple[str, ...] = ()


IDLE, LOADING, RUNNING, STOPPING = "idle", "loading", "running", "stopping"


class EngineWorker(QObject):
    """Owns the engine pipeline and the audio source; emits one typed signal per event kind."""

    state_changed = Signal(str)  # IDLE | LOADING | RUNNING | STOPPING
    speech_started = Signal(SpeechStarted)
    partial = Signal(Partial)
    discarded = Signal(SegmentDiscarded)  # a partial line to withdraw
    final = Signal(Final)
    revised = Signal(FinalRevised)  # a final's text replaced (its new translation follows)
    translation = Signal(Translation)
    speech = Signal(SpeechOutput)
    speaker_changed = Signal(SpeakerChanged)
    stats = Signal(Stats)
    error = Signal(StageFailure)
    finished = Signal(Finished)
    input_lost = Signal(InputLost)  # the chosen device vanished (waiting, or following)
    input_restored = Signal(InputRestored)

    preloaded = Signal(bool)  # models of the current settings are loaded (or failed)

    _run_requested = Signal(object, str, bool, object)
    _preload_requested = Signal(object)

    def __init__(
        self,
        pipeline_factory: PipelineFactory | None = None,
        source_factory: SourceFactory | None = None,
    ) -> None:
        super().__init__()
        self._pipeline_factory: PipelineFactory = pipeline_factory or make_pipeline
        self._source_factory: SourceFactory = source_factory or open_source
        self._lock = threading.RLock()
        self._pipeline: EnginePipeline | None = None
        self._stopped: EnginePipeline | None = None  # the pipeline last asked to stop
        self._pipeline_config: EngineConfig | None = None
        self._state = IDLE
        self._stop_requested = False
        self._reported_error = False
        self._source: FrameSource | None = None  # the running capture
        # the loaded speaker identifier and the transcript whose speakers it holds
        self._speakers_of: tuple[weakref.ref[SpeakerIdentifier], int] | None = None
        self._run_requested.connect(self._run)
        self._preload_requested.connect(self._preload)

    # ------------------------------------------------------------------ called from the UI thread
    @property
    def state(self) -> str:
        return self._state

    def start(
        self,
        config: EngineConfig,
        source: str,
        *,
        realtime: bool = True,
        speakers: SpeakerSession | None = None,
    ) -> bool:
        """Queue a run on the worker thread; False when a run is already in progress.

        speakers: the transcript the run adds to. The loaded speaker identifier outlives runs
        (it holds the model), but its speakers belong to one transcript: a run for another
        transcript than its last one starts its numbering afresh (S1 first), skipping the
        labels that transcript already shows. None: the same transcript as the last run."""
        with self._lock:
            if self._state != IDLE:
                return False
            self._stop_requested = False
            self._set_state(LOADING)
        self._run_requested.emit(config, source, realtime, speakers)
        return True

    def preload(self, config: EngineConfig) -> None:
        """Load the models for `config` on the worker thread ahead of the first start, so that
        Start responds at once. A start queued meanwhile runs after it and reuses the models."""
        self._preload_requested.emit(config)

    def stop(self) -> None:
        """Thread-safe and non-blocking: stop capture, flush the last segment; `finished`
        follows. Stopping the pipeline closes the audio device, which can take a while (PortAudio
        on PulseAudio): that happens on a short-lived thread, never on the caller's."""
        with self._lock:
            self._stop_requested = True
            pipeline = self._pipeline if self._state == RUNNING else None
            if self._state in (LOADING, RUNNING):
                self._set_state(STOPPING)
            if pipeline is None or pipeline is self._stopped:
                return  # nothing running, or this run's stop is already under way
            self._stopped = pipeline
            threading.Thread(
                target=_stop_pipeline, args=(pipeline,), name="dragoman-stop", daemon=True
            ).start()

    def set_input_policy(self, policy: InputLostPolicy) -> None:
        """While the chosen device is away: follow the server's choice of input now, or stop
        listening to it ("follow" / "wait"). Non-blocking: the device is opened or closed on a
        short-lived thread, never on the caller's."""
        source = self._source
        set_when_lost = getattr(source, "set_when_lost", None)
        if set_when_lost is not None:
            threading.Thread(
                target=_call_logged,
                args=(set_when_lost, policy),
                name="dragoman-input",
                daemon=True,
            ).start()

    def rename_speaker(self, old: str, new: str) -> None:
        pipeline = self._pipeline
        if pipeline is not None:
            try:
                pipeline.rename_speaker(old, new)
            except Exception:
                log.exception("pipeline.rename_speaker failed")

    def set_volume(self, volume: float) -> bool:
        """Change the speech volume live; False when no run is loaded (applies from the next
        start)."""
        pipeline = self._pipeline
        if pipeline is None:
            return False
        try:
            pipeline.set_volume(volume)
            return True
        except Exception:
            log.exception("changing the volume failed")
            return False

    def reset(self) -> None:
        """Forget the loaded pipeline (e.g. after models changed); the next run reloads."""
        with self._lock:
            if self._state == IDLE:
                self._pipeline = None
                self._pipeline_config = None
                stage_cache.shared.clear()

    # ------------------------------------------------------------------ worker thread
    def _set_state(self, state: str) -> None:
        self._state = state
        self.state_changed.emit(state)

    def _fail(self, message: str, stage: Stage, *, fatal: bool = True) -> None:
        self.error.emit(StageFailure(message, stage, fatal, time.monotonic()))

    @Slot(object, str, bool, object)
    def _run(
        self,
        config: EngineConfig,
        source_spec: str,
        realtime: bool,
        speakers: SpeakerSession | None,
    ) -> None:
        try:
            self._run_inner(config, source_spec, realtime, speakers)
        finally:
            with self._lock:
                self._set_state(IDLE)

    @Slot(object)
    def _preload(self, config: EngineConfig) -> None:
        if self._state != IDLE or stage_cache.shared.complete(config):
            self.preloaded.emit(True)
            return
        try:
            pipeline = self._new_pipeline(config)
            pipeline.load()
        except DragomanError as exc:
            log.warning("preloading the models failed: %s", exc)
            self.error.emit(StageFailure(str(exc), Stage.LOAD, False, time.monotonic()))
            self.preloaded.emit(False)
            return
        except Exception as exc:
            log.exception("preloading the models failed")
            self.error.emit(
                StageFailure(
                    f"The engine could not start: {exc}", Stage.LOAD, False, time.monotonic()
                )
            )
            self.preloaded.emit(False)
            return
        self._loaded(pipeline, config)
        self.preloaded.emit(True)

    def _run_inner(
        self,
        config: EngineConfig,
        source_spec: str,
        realtime: bool,
        speakers: SpeakerSession | None = None,
    ) -> None:
        self._reported_error = False
        try:
            pipeline = self._new_pipeline(config)
            pipeline.load()
        except DragomanError as exc:
            log.warning("loading the engine failed: %s", exc)
            self._fail(str(exc), Stage.LOAD)
            return
        except Exception as exc:
            log.exception("loading the engine failed")
            self._fail(f"The engine could not start: {exc}", Stage.LOAD)
            return
        self._loaded(pipeline, config)
        self._begin_speakers(pipeline, speakers)
        if self._stop_requested:
            return
        try:
            source = self._source_factory(source_spec, config, realtime)
        except DragomanError as exc:
            log.warning("opening %s failed: %s", source_spec, exc)
            self._fail(str(exc), Stage.AUDIO)
            return
        except Exception as exc:
            log.exception("opening %s failed", source_spec)
            self._fail(f"Cannot open the audio input {source_spec!r}: {exc}", Stage.AUDIO)
            return
        if is_microphone(source_spec):  # a denied permission delivers exact zeros
            source = SilenceWatch(source, self._no_signal)
        with self._lock:
            if self._stop_requested:
                _close(source)
                return
            pipeline.reset_stop()  # a stop that hit the previous run after it ended is not ours
            self._set_state(RUNNING)
        self._source = source
        try:
            pipeline.run(source)
        except DragomanError as exc:
            log.warning("engine run failed: %s", exc)
            if not self._reported_error:
                self._fail(str(exc), Stage.AUDIO)
        except Exception as exc:
            log.exception("engine run failed")
            if not self._reported_error:
                self._fail(f"The engine stopped unexpectedly: {exc}", Stage.AUDIO)
            self._pipeline_config = None  # a pipeline that crashed is not reused
            stage_cache.shared.clear()
        finally:
            self._source = None
            _close(source)

    def _begin_speakers(self, pipeline: EnginePipeline, speakers: SpeakerSession | None) -> None:
        """Reset the identifier's speakers when this run's transcript is not the one they were
        heard in (see `start`); a run continuing the same transcript keeps them."""
        identifier = pipeline.speaker_identifier
        if identifier is None or speakers is None:
            return
        last = self._speakers_of
        if last is not None and last[0]() is identifier and last[1] == speakers.key:
            return
        try:
            identifier.reset(speakers.taken)
        except Exception:  # the transcript matters more than its labels
            log.exception("resetting the speakers failed")
        self._speakers_of = (weakref.ref(identifier), speakers.key)

    def _no_signal(self, message: str) -> None:
        """The capture device has delivered exact zeros for a while (engine thread)."""
        self.error.emit(StageFailure(message, Stage.AUDIO, False, time.monotonic()))

    def _new_pipeline(self, config: EngineConfig) -> EnginePipeline:
        """A fresh pipeline for this run, reusing loaded models whose part of the config is
        unchanged (loading Whisper again would cost seconds)."""
        self._pipeline = None
        return self._pipeline_factory(config, self._on_event, stage_cache.shared.lookup(config))

    def _loaded(self, pipeline: EnginePipeline, config: EngineConfig) -> None:
        self._pipeline, self._pipeline_config = pipeline, config
        stage_cache.shared.remember(pipeline, config)

    def _on_event(self, event: Event) -> None:
        """Called on engine threads: only emits (queued to the receivers' threads)."""
        if isinstance(event, StageFailure) and event.fatal:
            self._reported_error = True
        for kind, signal in (
            (SpeechStarted, self.speech_started),
            (Partial, self.partial),
            (Final, self.final),
            (FinalRevised, self.revised),
            (Translation, self.translation),
            (SpeechOutput, self.speech),
            (SpeakerChanged, self.speaker_changed),
            (Stats, self.stats),
            (StageFailure, self.error),
            (Finished, self.finished),
            (SegmentDiscarded, self.discarded),
            (InputLost, self.input_lost),
            (InputRestored, self.input_restored),
        ):
            if isinstance(event, kind):
                signal.emit(event)
                return
        log.debug("ignoring unknown engine event %r", event)


def _stop_pipeline(pipeline: EnginePipeline) -> None:
    try:
        pipeline.stop()
    except Exception:  # the engine must not take the UI down with it
        log.exception("stopping the pipeline failed")


def _call_logged(function: Callable[..., object], *args: object) -> None:
    try:
        function(*args)
    except Exception:  # the engine must not take the UI down with it
        log.exception("%s failed", getattr(function, "__name__", function))


def _close(source: FrameSource) -> None:
    try:
        source.close()
    except Exception:
        log.exception("closing the audio source failed")


class WorkerThread:
    """A started QThread hosting one EngineWorker (Buzz-style moveToThread)."""

    def __init__(self, worker: EngineWorker) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("dragoman-engine")
        worker.moveToThread(self.thread)
        self.thread.start()
        self.stuck = False

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Stop the engine (flushing the last segment) and end the thread; False when the
        thread is still blocked after `timeout_ms` (in a driver call that never returned)."""
        self.worker.stop()
        self.thread.quit()
        # Models loaded on this thread must not outlive it in the shared cache: measured here, a
        # Whisper model whose loading thread had ended decoded a 0.5 s partial in 15-20 s
        # instead of 1 s (a later window of the same process then could not even flush a
        # sentence before quitting).
        stage_cache.shared.clear()
        if self.thread.wait(timeout_ms):
            return True
        # Destroying a running QThread aborts the process: keep it referenced until the process
        # ends; `app.main` then exits without running Qt's destructors.
        log.error("the engine thread did not end within %d ms", timeout_ms)
        self.stuck = True
        _stuck_threads.append(self.thread)
        return False


_stuck_threads: list[QThread] = []


def engine_thread_stuck() -> bool:
    """True when some engine thread never ended (the process must exit without teardown)."""
    return any(thread.isRunning() for thread in _stuck_threads)
