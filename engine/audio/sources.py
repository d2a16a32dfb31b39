"""Frame sources: a file (paced in real time or as fast as possible) or a capture device.

Every source yields `AudioBlock`s of 16 kHz mono float32. The capture callback only copies the
block into a bounded queue (drop-oldest, counted); resampling happens on the consumer side.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.audio import SAMPLE_RATE, pulse
from engine.audio.input_watch import InputGuard, PulseSubscription
from engine.audio.io import open_audio, stream_audio
from engine.config import AudioOptions, InputLostPolicy
from engine.errors import DeviceError, InputError
from engine.events import InputLost, InputRestored

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AudioBlock:
    samples: np.ndarray  # float32, 16 kHz mono
    start: float  # seconds in the source
    received_at: float  # time.monotonic() when the block became available


class FrameSource(Protocol):
    """Where audio comes from. `realtime`: blocks arrive at the pace of speech (a device, a
    paced file), so partial hypotheses are worth their cost. `hears_room`: it may capture our
    own speech from the loudspeaker (then the speech stage's echo guard applies)."""

    name: str
    realtime: bool
    hears_room: bool

    def blocks(self) -> Iterator[AudioBlock]:
        """Blocks in order until the source ends or `close()` is called."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @property
    def dropped_blocks(self) -> int:
        raise NotImplementedError


class _PacedSource:
    """Audio already recorded, delivered block by block: paced like a microphone when
    `realtime`, else as fast as the engine takes it."""

    name: str
    realtime: bool
    hears_room = False  # recorded audio cannot hear our loudspeaker

    def __init__(self, *, name: str, realtime: bool, block_ms: int) -> None:
        self.name = name
        self.realtime = realtime
        self.block = SAMPLE_RATE * block_ms // 1000
        self._stop = threading.Event()

    @property
    def dropped_blocks(self) -> int:
        return 0

    def _chunks(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def blocks(self) -> Iterator[AudioBlock]:
        t0 = time.monotonic()
        offset = 0
        pending = np.zeros(0, dtype=np.float32)
        for chunk in self._chunks():
            pending = np.concatenate([pending, chunk]) if len(pending) else chunk
            while len(pending) >= self.block:
                block, pending = pending[: self.block], pending[self.block :]
                if not self._wait_until(t0, offset + len(block)):
                    return
                yield AudioBlock(block, offset / SAMPLE_RATE, time.monotonic())
                offset += len(block)
        if len(pending) and self._wait_until(t0, offset + len(pending)):
            yield AudioBlock(pending, offset / SAMPLE_RATE, time.monotonic())

    def _wait_until(self, t0: float, end_sample: int) -> bool:
        """False once the source was closed."""
        if self._stop.is_set():
            return False
        if self.realtime:
            delay = t0 + end_sample / SAMPLE_RATE - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return False
        return True

    def close(self) -> None:
        self._stop.set()


class ArraySource(_PacedSource):
    """Audio already in memory (16 kHz mono float32)."""

    def __init__(
        self,
        audio: np.ndarray,
        *,
        name: str = "audio",
        realtime: bool = False,
        block_ms: int = 32,
    ) -> None:
        super().__init__(name=name, realtime=realtime, block_ms=block_ms)
        self.audio = np.asarray(audio, dtype=np.float32)

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE

    def _chunks(self) -> Iterator[np.ndarray]:
        yield self.audio


class FileSource(_PacedSource):
    """An audio file, decoded and resampled as it is played (memory stays flat for hours of
    audio). The file is checked when the source is created, so a bad file fails before anything
    else starts."""

    def __init__(self, path: str | Path, *, realtime: bool = False, block_ms: int = 32) -> None:
        super().__init__(name=str(path), realtime=realtime, block_ms=block_ms)
        self.path = Path(path)
        with open_audio(self.path) as fh:
            self.duration = fh.frames / fh.samplerate

    def _chunks(self) -> Iterator[np.ndarray]:
        return stream_audio(self.path, block_s=0.5)


class CaptureQueue:
    """Bounded queue between the audio callback and the engine: never blocks the callback;
    when full, the oldest block is dropped and counted.

    `hold()` keeps blocks put from then on aside (bounded alike) until `release()` passes them
    on in order or `discard_held()` drops them: capture goes on while the device it comes from
    is being checked. The lock is only ever held for a few list operations."""

    def __init__(self, max_blocks: int) -> None:
        self._queue: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(maxsize=max_blocks)
        self._max = max_blocks
        self._lock = threading.Lock()
        self._held: list[tuple[np.ndarray, float]] | None = None
        self.dropped = 0
        self.discarded = 0  # held blocks dropped because they came from the wrong device

    def put(self, block: np.ndarray, at: float) -> None:
        with self._lock:
            if self._held is None:
                self._put(block, at)
            elif len(self._held) < self._max:
                self._held.append((block, at))
            else:
                self.dropped += 1

    def _put(self, block: np.ndarray, at: float) -> None:
        while True:
            try:
                self._queue.put_nowait((block, at))
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def hold(self) -> None:
        with self._lock:
            if self._held is None:
                self._held = []

    def release(self) -> None:
        with self._lock:
            held, self._held = self._held or [], None
            for block, at in held:
                self._put(block, at)

    def discard_held(self) -> None:
        with self._lock:
            self.discarded += len(self._held or [])
            self._held = None

    def get(self, timeout: float) -> tuple[np.ndarray, float] | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def blocks(
        self, rate: int, stop: threading.Event, check_alive: Callable[[], None]
    ) -> Iterator[AudioBlock]:
        """The captured blocks resampled from `rate` to 16 kHz, until `stop` is set. While no
        block comes, `check_alive()` raises the DeviceError of a device that is gone."""
        import soxr

        resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")
        consumed = 0
        while not stop.is_set():
            item = self.get(timeout=0.5)
            if item is None:
                if stop.is_set():
                    break
                check_alive()
                continue
            block, at = item
            out = resampler.resample_chunk(block)
            if out.size:
                yield AudioBlock(out, consumed / SAMPLE_RATE, at)
                consumed += out.size


# ALSA devices that are PulseAudio (or PipeWire's pulse server) on a desktop Linux
PULSE_ROUTED = frozenset({"pulse", "default", "pipewire"})


class MicrophoneSource:
    """A capture device through sounddevice (PortAudio).

    device: None/"" = default input; a name (substring) or index; "pulse:SOURCE" opens the
    PulseAudio source SOURCE (e.g. a sink's ".monitor" for system audio) through the `pulse`
    PortAudio device. A PulseAudio source, and the default input when it goes through
    PulseAudio, is guarded (`engine.audio.input_watch`): when it vanishes and the server moves
    the stream elsewhere (for the default input: onto a monitor), capture waits for it or
    follows the move (`AudioOptions.when_input_lost`), and `InputLost` / `InputRestored` events
    say so through the sink given to `set_event_sink`.
    """

    hears_room = True  # it may capture our own speech from the loudspeaker (echo guard)
    realtime = True
    gap_s = 1.0  # silence that ends the open segment when capture stops waiting for a device

    def __init__(self, device: str | int | None = None, options: AudioOptions | None = None):
        try:
            import sounddevice as sd  # imported lazily: PortAudio may be missing on servers
        except OSError as exc:
            raise DeviceError(f"Audio capture unavailable: {exc} (install libportaudio2)") from exc

        self._sd = sd
        self.options = options or AudioOptions()
        self._stop = threading.Event()
        self._close_lock = threading.Lock()  # one thread at a time inside PortAudio's stop
        self._closed = False
        self._paused = False  # waiting for a vanished device: no stream open
        self._queue = CaptureQueue(self.options.queue_blocks)
        self._status_errors = 0
        self._events_lock = threading.Lock()
        self._event_sink: Callable[[InputLost | InputRestored], None] | None = None
        self._pending_events: list[InputLost | InputRestored] = []
        self.tag = ""  # our stream's tag on the PulseAudio server (pulse.TAG_PROPERTY)
        pulse_source = None
        if isinstance(device, str) and device.startswith("pulse:"):
            pulse_source = device.removeprefix("pulse:")
            device = "pulse"
        self._pulse_source = pulse_source
        self.device = _find_input_device(sd, device)
        info = sd.query_devices(self.device)
        self.name = pulse_source or str(info["name"])
        self.rate = int(info["default_samplerate"]) or 48_000
        default_via_pulse = device in (None, "") and self.name in PULSE_ROUTED
        guarded = bool(pulse_source or default_via_pulse) and PulseSubscription.available()
        self._tagged = guarded
        # a chosen PulseAudio source that is away now (unplugged, or across a restart of the
        # engine) is waited for, or the default source followed meanwhile, as when it vanishes
        absent = bool(guarded and pulse_source and _pulse_source_missing(pulse_source))
        if absent and pulse_source and not self.options.wait_for_absent_input:
            raise _absent_input_error(pulse_source)
        self._stream: Any = None
        if not absent:
            try:
                self._stream = self._open_stream(pulse_source)
            except DeviceError:
                if not (guarded and pulse_source and _pulse_source_missing(pulse_source)):
                    raise
                if not self.options.wait_for_absent_input:
                    raise
                absent = True  # it vanished in between
        self._subscription: PulseSubscription | None = None
        self.guard: InputGuard | None = None
        if guarded:
            self.guard = InputGuard(
                pulse_source,
                self.options.when_input_lost,
                self,
                label=pulse.known_description(pulse_source) if pulse_source else None,
            )
            if absent:
                self._paused = True  # no stream: the guard opens one when there is a source
                self.guard.start_absent()
            try:
                self._subscription = PulseSubscription(self.guard.on_event, self.guard.start)
            except OSError:
                log.warning("cannot watch the sound server; input changes go unnoticed")

    def _open_stream(self, pulse_source: str | None) -> Any:
        """Open and start a stream (on `pulse_source`, else the server's default source, when
        the device is `pulse`). The ALSA "pulse" plugin reads PULSE_SOURCE (and our tag in
        PULSE_PROP) when the stream opens: they are set only for that moment, so later
        captures on the default device are not redirected."""
        env: dict[str, str] = {}
        if self._tagged:
            self.tag = uuid.uuid4().hex
            env = pulse.tagged_environment(pulse_source, self.tag)
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        stream = None
        try:
            stream = self._sd.InputStream(
                device=self.device,
                channels=1,
                samplerate=self.rate,
                dtype="float32",
                blocksize=self.rate * self.options.block_ms // 1000,
                callback=self._callback,
            )
            stream.start()
        except Exception as exc:  # PortAudioError and friends
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
            if pulse_source and _pulse_source_missing(pulse_source):
                raise DeviceError(
                    f"The input {pulse_source!r} is not connected (the sound server has no "
                    "source of that name now)"
                ) from exc
            raise DeviceError(f"Cannot open input device {self.name!r}: {exc}") from exc
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return stream

    @property
    def dropped_blocks(self) -> int:
        return self._queue.dropped

    @property
    def waiting(self) -> bool:
        """True while capture waits for the chosen device to come back."""
        return self._paused

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status:
            self._status_errors += 1
        self._queue.put(indata[:, 0].copy(), time.monotonic())

    def blocks(self) -> Iterator[AudioBlock]:
        return self._queue.blocks(self.rate, self._stop, self._check_alive)

    def _check_alive(self) -> None:
        if self._paused:
            return  # no stream while waiting for the device: nothing is wrong
        if not self._stream.active:
            if self.guard is not None and self.guard.stream_ended():
                return  # its device went with no other source to move to: waiting for it
            raise DeviceError(
                f"Input device {self.name!r} stopped delivering audio "
                "(unplugged or taken by another program)"
            )

    # ------------------------------------------------------------------ the guard's side
    def set_event_sink(self, emit: Callable[[InputLost | InputRestored], None]) -> None:
        """Where `InputLost` / `InputRestored` go (events from before this call follow now)."""
        with self._events_lock:
            self._event_sink = emit
            pending, self._pending_events = self._pending_events, []
        for event in pending:
            emit(event)

    def emit(self, event: InputLost | InputRestored) -> None:
        if self._closed:
            return  # the run is over: nothing to say about its device any more
        with self._events_lock:
            sink = self._event_sink
            if sink is None:
                self._pending_events.append(event)
        if sink is not None:
            sink(event)

    def hold(self) -> None:
        self._queue.hold()

    def release(self) -> None:
        self._queue.release()

    def pause(self) -> None:
        """Capture nothing (the stream records another source now): drop what was held, close
        the stream, and end the open segment with a little silence."""
        self._queue.hold()  # closing delivers the blocks still buffered: drop those too
        with self._close_lock:
            if self._closed or self._paused:
                self._queue.discard_held()
                return
            self._paused = True
            self._close_stream()
        self._queue.discard_held()
        self._queue.put(np.zeros(int(self.rate * self.gap_s), np.float32), time.monotonic())

    def resume(self, source: str | None) -> bool:
        with self._close_lock:
            if self._closed:
                return False
            try:
                stream = self._open_stream(source)
            except DeviceError as exc:
                log.warning("reopening %s failed: %s", self.name, exc)
                return False
            self._stream = stream
            self._paused = False
            return True

    def set_when_lost(self, policy: InputLostPolicy) -> None:
        """Change `AudioOptions.when_input_lost` of this capture now (blocks while a stream is
        opened or closed: not for the UI thread)."""
        if self.guard is not None:
            self.guard.set_policy(policy)

    def _close_stream(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:  # closing a dead device must not mask the original error
            log.debug("closing input stream failed", exc_info=True)

    def close(self) -> None:
        """Idempotent and thread-safe: the first call stops and closes the stream; a concurrent
        call waits for it, a later one returns at once (two threads inside PortAudio's stop at
        once deadlock on PulseAudio)."""
        self._stop.set()
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            if not self._paused:
                self._close_stream()
        if self._subscription is not None:
            self._subscription.close()


def _pulse_source_missing(name: str) -> bool:
    """True when the server lists its sources and `name` is not one of them."""
    sources = pulse.list_sources()
    return bool(sources) and all(d.name != name for d in sources)


def _find_input_device(sd: Any, device: str | int | None) -> int:
    try:
        devices = sd.query_devices()
    except Exception as exc:
        raise DeviceError(f"Cannot list audio devices: {exc}") from exc
    inputs = [i for i, d in enumerate(devices) if d["max_input_channels"] > 0]
    if not inputs:
        wanted = f" (asked for {device!r})" if device not in (None, "") else ""
        raise DeviceError(
            f"No audio input device found{wanted}: no microphone or capture source is available"
        )
    if device in (None, ""):
        default = sd.default.device[0]
        if isinstance(default, int) and default in inputs:
            return default
        return inputs[0]
    if isinstance(device, int) or (isinstance(device, str) and device.isdigit()):
        index = int(device)
        if index in inputs:
            return index
        raise DeviceError(f"No input device with index {index}")
    exact = [i for i in inputs if devices[i]["name"] == device]
    matches = exact or [i for i in inputs if str(device).lower() in devices[i]["name"].lower()]
    if not matches:
        raise DeviceError(f"No input device named {device!r} (see `dragoman devices`)")
    return matches[0]


def _absent_input_error(name: str) -> DeviceError:
    """A chosen PulseAudio input that is not connected, with the inputs there are."""
    inputs = ", ".join(d.name for d in pulse.list_sources()) or "none"
    return DeviceError(f"The input {name!r} is not connected. Inputs now: {inputs}")


def open_source(
    spec: str, *, realtime: bool = False, options: AudioOptions | None = None
) -> FrameSource:
    """`mic`, `mic:NAME`, `pulse:SOURCE`, or a file path."""
    options = options or AudioOptions()
    if spec == "mic":
        return MicrophoneSource(options.device, options)
    if spec.startswith("mic:"):
        return MicrophoneSource(spec.removeprefix("mic:"), options)
    if spec.startswith("pulse:"):
        return MicrophoneSource(spec, options)
    if not spec:
        raise InputError("No input given: pass a file path or `mic`")
    return FileSource(spec, realtime=realtime, block_ms=options.block_ms)
