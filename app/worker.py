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
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.config import EngineConfig
from engine.errors import ConfigError, DragomanError
from engine.events import (
    EngineError,
    Final,
    Finished,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    SpeechOutput,
    SpeechStarted,
    Stats,
    Translation,
)

log = logging.getLogger(__name__)

IDLE, LOADING, RUNNING, STOPPING = "idle", "loading", "running", "stopping"

PipelineFactory = Callable[..., Any]  # (config, on_event, **loaded_stages) -> Pipeline
SourceFactory = Callable[[str, EngineConfig, bool], Any]


def default_pipeline_factory(
    config: EngineConfig, on_event: Callable[[Any], None], **loaded_stages: Any
) -> Any:
    from engine.pipeline import Pipeline

    return Pipeline(config, on_event, **loaded_stages)


def default_source_factory(spec: str, config: EngineConfig, realtime: bool) -> Any:
    from engine.audio.sources import open_source

    return open_source(spec, realtime=realtime, options=config.audio)


class EngineWorker(QObject):
    """Owns the engine pipeline and the audio source; emits one typed signal per event kind."""

    state_changed = Signal(str)  # IDLE | LOADING | RUNNING | STOPPING
    speech_started = Signal(SpeechStarted)
    partial = Signal(Partial)
    discarded = Signal(SegmentDiscarded)  # a partial line to withdraw
    final = Signal(Final)
    translation = Signal(Translation)
    speech = Signal(SpeechOutput)
    speaker_changed = Signal(SpeakerChanged)
    stats = Signal(Stats)
    error = Signal(EngineError)
    finished = Signal(Finished)

    preloaded = Signal(bool)  # models of the current settings are loaded (or failed)

    _run_requested = Signal(object, str, bool)
    _preload_requested = Signal(object)

    def __init__(
        self,
        pipeline_factory: PipelineFactory | None = None,
        source_factory: SourceFactory | None = None,
    ) -> None:
        super().__init__()
        self._pipeline_factory = pipeline_factory or default_pipeline_factory
        self._source_factory = source_factory or default_source_factory
        self._lock = threading.RLock()
        self._pipeline: Any = None
        self._pipeline_config: EngineConfig | None = None
        self._state = IDLE
        self._stop_requested = False
        self._reported_error = False
        self._run_requested.connect(self._run)
        self._preload_requested.connect(self._preload)

    # ------------------------------------------------------------------ called from the UI thread
    @property
    def state(self) -> str:
        return self._state

    def start(self, config: EngineConfig, source: str, *, realtime: bool = True) -> bool:
        """Queue a run on the worker thread; False when a run is already in progress."""
        with self._lock:
            if self._state != IDLE:
                return False
            self._stop_requested = False
            self._set_state(LOADING)
        self._run_requested.emit(config, source, realtime)
        return True

    def preload(self, config: EngineConfig) -> None:
        """Load the models for `config` on the worker thread ahead of the first start, so that
        Start responds at once. A start queued meanwhile runs after it and reuses the models."""
        self._preload_requested.emit(config)

    def stop(self) -> None:
        """Thread-safe: stop capture, flush the last segment; `finished` follows."""
        with self._lock:
            self._stop_requested = True
            pipeline = self._pipeline if self._state == RUNNING else None
            if self._state in (LOADING, RUNNING):
                self._set_state(STOPPING)
        if pipeline is not None:
            try:
                pipeline.stop()
            except Exception:  # the engine must not take the UI down with it
                log.exception("pipeline.stop failed")

    def rename_speaker(self, old: str, new: str) -> None:
        pipeline = self._pipeline
        if pipeline is not None and hasattr(pipeline, "rename_speaker"):
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
                forget_stages()

    # ------------------------------------------------------------------ worker thread
    def _set_state(self, state: str) -> None:
        self._state = state
        self.state_changed.emit(state)

    def _fail(self, message: str, stage: str, *, fatal: bool = True) -> None:
        self.error.emit(EngineError(message, stage, fatal, time.monotonic()))

    @Slot(object, str, bool)
    def _run(self, config: EngineConfig, source_spec: str, realtime: bool) -> None:
        try:
            self._run_inner(config, source_spec, realtime)
        finally:
            with self._lock:
                self._set_state(IDLE)

    @Slot(object)
    def _preload(self, config: EngineConfig) -> None:
        if self._state != IDLE or len(cached_stages(config)) == len(_STAGES):
            self.preloaded.emit(True)
            return
        try:
            pipeline = self._new_pipeline(config)
            pipeline.load()
        except DragomanError as exc:
            log.warning("preloading the models failed: %s", exc)
            self.error.emit(EngineError(str(exc), "load", False, time.monotonic()))
            self.preloaded.emit(False)
            return
        except Exception as exc:
            log.exception("preloading the models failed")
            self.error.emit(
                EngineError(f"The engine could not start: {exc}", "load", False, time.monotonic())
            )
            self.preloaded.emit(False)
            return
        self._loaded(pipeline, config)
        self.preloaded.emit(True)

    def _run_inner(self, config: EngineConfig, source_spec: str, realtime: bool) -> None:
        self._reported_error = False
        try:
            pipeline = self._new_pipeline(config)
            pipeline.load()
        except DragomanError as exc:
            log.warning("loading the engine failed: %s", exc)
            self._fail(str(exc), "load")
            return
        except Exception as exc:
            log.exception("loading the engine failed")
            self._fail(f"The engine could not start: {exc}", "load")
            return
        self._loaded(pipeline, config)
        if self._stop_requested:
            return
        try:
            source = self._source_factory(source_spec, config, realtime)
        except DragomanError as exc:
            log.warning("opening %s failed: %s", source_spec, exc)
            self._fail(str(exc), "audio")
            return
        except Exception as exc:
            log.exception("opening %s failed", source_spec)
            self._fail(f"Cannot open the audio input {source_spec!r}: {exc}", "audio")
            return
        with self._lock:
            if self._stop_requested:
                _close(source)
                return
            reset_stop = getattr(pipeline, "reset_stop", None)
            if reset_stop is not None:
                reset_stop()  # a stop that hit the previous run after it ended is not for us
            self._set_state(RUNNING)
        try:
            pipeline.run(source)
        except DragomanError as exc:
            log.warning("engine run failed: %s", exc)
            if not self._reported_error:
                self._fail(str(exc), "engine")
        except Exception as exc:
            log.exception("engine run failed")
            if not self._reported_error:
                self._fail(f"The engine stopped unexpectedly: {exc}", "engine")
            self._pipeline_config = None  # a pipeline that crashed is not reused
            forget_stages()
        finally:
            _close(source)

    def _new_pipeline(self, config: EngineConfig) -> Any:
        """A fresh pipeline for this run, reusing loaded models whose part of the config is
        unchanged (loading Whisper again would cost seconds)."""
        self._pipeline = None
        reuse = cached_stages(config)
        if reuse:
            try:
                return self._pipeline_factory(config, self._on_event, **reuse)
            except TypeError:  # a factory that cannot take loaded stages
                pass
        return self._pipeline_factory(config, self._on_event)

    def _loaded(self, pipeline: Any, config: EngineConfig) -> None:
        self._pipeline, self._pipeline_config = pipeline, config
        remember_stages(pipeline, config)

    def _on_event(self, event: Any) -> None:
        """Called on engine threads: only emits (queued to the receivers' threads)."""
        kind = str(getattr(event, "type", ""))
        signal = {
            "speech_started": self.speech_started,
            "partial": self.partial,
            "final": self.final,
            "translation": self.translation,
            "speech": self.speech,
            "speaker_changed": self.speaker_changed,
            "stats": self.stats,
            "error": self.error,
            "finished": self.finished,
            "discarded": self.discarded,
        }.get(kind)
        if signal is None:
            log.debug("ignoring unknown engine event %r", event)
            return
        if kind == "error" and getattr(event, "fatal", False):
            self._reported_error = True
        signal.emit(event)


# Loaded stage objects, shared by every worker of the process: (stage attribute, config section).
_STAGES = (
    ("transcriber", "asr"),
    ("speaker_identifier", "speakers"),
    ("translator", "translation"),
)
_stage_cache: dict[str, tuple[Any, Any]] = {}
_stage_lock = threading.Lock()


# AsrOptions fields that need the Whisper model loaded again; the others (language, task, beam
# size, partial cadence, guards) are read at decode time.
_ASR_LOAD_FIELDS = ("model", "device", "compute_type", "cpu_threads")


def cached_stages(config: EngineConfig) -> dict[str, Any]:
    """Loaded stages whose options equal this config's (to pass to a new Pipeline)."""
    with _stage_lock:
        found = {}
        for attr, section in _STAGES:
            entry = _stage_cache.get(attr)
            if entry is None:
                continue
            if entry[0] == getattr(config, section):
                found[attr] = entry[1]
            elif attr == "transcriber":
                derived = _derive_transcriber(entry[0], entry[1], config.asr)
                if derived is not None:
                    found[attr] = derived
        return found


def _derive_transcriber(old_options: Any, transcriber: Any, options: Any) -> Any:
    """The loaded transcriber with other decode-time options (a new spoken language, task...),
    sharing its model; None when the model itself must be loaded again."""
    if any(getattr(old_options, f) != getattr(options, f) for f in _ASR_LOAD_FIELDS):
        return None
    try:
        return transcriber.with_options(options)
    except ConfigError:
        return None  # let a full load report the problem clearly


def remember_stages(pipeline: Any, config: EngineConfig) -> None:
    with _stage_lock:
        for attr, section in _STAGES:
            stage = getattr(pipeline, attr, None)
            if stage is not None:
                _stage_cache[attr] = (getattr(config, section), stage)


def forget_stages() -> None:
    """Drop every cached model (after models were installed or removed)."""
    with _stage_lock:
        _stage_cache.clear()


def _close(source: Any) -> None:
    close = getattr(source, "close", None)
    if close is not None:
        try:
            close()
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

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Stop the engine (flushing the last segment) and end the thread."""
        self.worker.stop()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
