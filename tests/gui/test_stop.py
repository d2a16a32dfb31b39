"""Stop never blocks the UI thread and quitting always ends (issue 12, defect 1).

A scripted pipeline and source (satisfying engine.api's Protocols) stand in for the engine so
that the audio device's slow or stuck close can be staged exactly; the real capture path is
stressed in test_start_stop_stress.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
from gui_helpers import wait_until

from app.worker import IDLE, RUNNING, EngineWorker, WorkerThread, engine_thread_stuck
from engine.api import EventCallback, LoadedStages
from engine.audio.sources import AudioBlock
from engine.config import EngineConfig
from engine.events import Finished


class _SlowCloseSource:
    """A capture source whose close() waits for the device (here: for `release`)."""

    name = "slow device"
    realtime = True
    hears_room = True

    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.closed = threading.Event()
        self.close_threads: list[str] = []
        self.waits: list[bool] = []  # per close(): the device let go before the 10 s limit

    @property
    def dropped_blocks(self) -> int:
        return 0

    def blocks(self) -> Iterator[AudioBlock]:
        while not self.closed.is_set():
            time.sleep(0.02)
            yield AudioBlock(np.zeros(320, np.float32), 0.0, time.monotonic())

    def close(self) -> None:
        self.close_threads.append(threading.current_thread().name)
        self.closed.set()
        self.waits.append(self.release.wait(10))


class _ScriptedPipeline:
    transcriber = None
    speaker_identifier = None
    translator = None

    def __init__(self, on_event: EventCallback, *, run_forever: threading.Event | None = None):
        self.on_event = on_event
        self.source: _SlowCloseSource | None = None
        self.run_forever = run_forever

    def load(self) -> None:
        pass

    def run(self, source: _SlowCloseSource) -> None:  # type: ignore[override]
        self.source = source
        for _ in source.blocks():
            pass
        if self.run_forever is not None:
            self.run_forever.wait(30)  # stuck in a driver call
        source.close()
        self.on_event(Finished(time.monotonic(), reason="stopped"))

    def stop(self) -> None:
        if self.source is not None:
            self.source.close()

    def reset_stop(self) -> None:
        pass

    def set_volume(self, volume: float) -> None:
        pass

    def rename_speaker(self, old: str, new: str) -> None:
        pass


def _worker(
    release: threading.Event, run_forever: threading.Event | None = None
) -> tuple[EngineWorker, list[_SlowCloseSource]]:
    sources: list[_SlowCloseSource] = []

    def pipeline(config: EngineConfig, on_event: EventCallback, stages: LoadedStages):  # noqa: ANN202
        return _ScriptedPipeline(on_event, run_forever=run_forever)

    def source(spec: str, config: EngineConfig, realtime: bool) -> _SlowCloseSource:
        sources.append(_SlowCloseSource(release))
        return sources[-1]

    return EngineWorker(pipeline, source), sources


def test_stop_returns_while_the_device_is_still_closing(themed_app: object) -> None:
    release = threading.Event()
    worker, sources = _worker(release)
    thread = WorkerThread(worker)
    try:
        assert worker.start(EngineConfig(), "mic")
        wait_until(lambda: worker.state == RUNNING, 10, "the scripted run")
        worker.stop()  # on this (the UI) thread: must not wait for the device
        still_closing = not release.is_set() and sources[0].closed.is_set()
        release.set()
        wait_until(lambda: worker.state == IDLE, 10, "the run to end")
    finally:
        release.set()
        assert thread.shutdown(5000)
    assert still_closing
    assert sources[0].waits and all(sources[0].waits)
    assert threading.main_thread().name not in sources[0].close_threads


def test_quit_with_a_stuck_engine_thread_does_not_hang(themed_app: object) -> None:
    release, stuck = threading.Event(), threading.Event()
    release.set()
    worker, _ = _worker(release, run_forever=stuck)
    thread = WorkerThread(worker)
    assert worker.start(EngineConfig(), "mic")
    wait_until(lambda: worker.state == RUNNING, 10, "the scripted run")
    try:
        assert not thread.shutdown(300)  # gives up instead of waiting for ever
        assert thread.stuck and engine_thread_stuck()
    finally:
        stuck.set()
        assert thread.thread.wait(10_000)
    assert not engine_thread_stuck()


def test_a_microphone_that_delivers_only_zeros_is_reported(themed_app: object) -> None:
    """A denied microphone permission (macOS, Windows privacy settings) delivers digital
    silence: after 3 s of exact zeros the window is told, in words, while it keeps listening."""
    release = threading.Event()
    release.set()
    worker, sources = _worker(release)
    errors: list = []
    worker.error.connect(errors.append)
    thread = WorkerThread(worker)
    try:
        assert worker.start(EngineConfig(), "mic")
        # 320 zero samples every 20 ms: 3 s of audio after ~3 s
        wait_until(lambda: bool(errors), 15, "the no-signal report")
        assert worker.state == RUNNING  # a warning, not the end of the run
        worker.stop()
        wait_until(lambda: worker.state == IDLE, 10, "the run to end")
    finally:
        assert thread.shutdown(5000)
    (error,) = errors
    assert "No signal from the microphone" in error.message and "permission" in error.message
    assert error.stage == "audio" and not error.fatal
