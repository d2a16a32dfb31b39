"""Speech output: a real-time player on a sounddevice OutputStream, and a WAV timeline writer.

`SpeechPlayer` plays synthesised chunks strictly in source order (segment start time, segment
id, sentence index), one after the other, never overlapping. Three threads cooperate:
- the caller (the pipeline's synthesis worker) enqueues chunks as they are synthesised;
- a feeder thread applies the lag policy, inserts pauses, resamples, and cuts the audio into
  fixed blocks for a small bounded block queue (the only pacing: a blocking `put`);
- the PortAudio callback only copies the next block out (silence when none) and enqueues
  time stamps; a dispatcher thread turns them into `PlaybackEvent`s and the `PlaybackLog`
  that the echo guard reads.

The ordering (`OrderedSpeechQueue`) and the lag policy (`LagPolicy`) are pure logic.
`SpeechTimeline` lays speech on the source timeline in a WAV file (no device, not real time).
"""

from __future__ import annotations

import collections
import heapq
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.audio.echo import PlaybackLog
from engine.config import SpeechOptions
from engine.errors import DeviceError

log = logging.getLogger(__name__)

EVENT_HISTORY = 1024  # playback events kept in `SpeechPlayer.events`


# --------------------------------------------------------------------------- items and events


@dataclass(frozen=True)
class SpeechItem:
    """One piece of speech to play: a sentence of segment `segment_id` (or an empty end mark).

    source_start/source_end: the segment's times in the source (seconds); every sentence of a
    segment carries the segment's times. last: no more sentences follow for this segment.
    """

    segment_id: int
    source_start: float
    samples: np.ndarray = field(repr=False)
    sample_rate: int
    text: str = ""
    index: int = 0
    last: bool = True
    source_end: float | None = None
    enqueued_at: float = 0.0

    @property
    def key(self) -> tuple[float, int, int]:
        return (self.source_start, self.segment_id, self.index)

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0


@dataclass(frozen=True)
class PlaybackEvent:
    """Playback of a segment started / ended / was skipped (or the device failed).

    kind: "start" | "end" | "skipped" | "error". at: monotonic time the first (start) or last
    (end) sample became audible, as estimated from the stream's DAC time; for "skipped" the
    time of the decision. reason: for "skipped", "stale" (lag policy) or "late" (arrived after
    later speech had already played); for "error", the message. lag_s: how far behind the
    source the segment was when it was scheduled.
    """

    kind: str
    segment_id: int
    at: float
    text: str = ""
    source_start: float = 0.0
    reason: str = ""
    lag_s: float = 0.0


# --------------------------------------------------------------------------- pure logic


class OrderedSpeechQueue:
    """Items come out in key order; an item older than what already came out is refused.

    Not thread-safe (the player guards it with its condition variable).
    """

    def __init__(self) -> None:
        self._heap: list[tuple[tuple[float, int, int], int, SpeechItem]] = []
        self._counter = 0
        self.last_key: tuple[float, int, int] | None = None

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, item: SpeechItem) -> bool:
        """Queue `item`; False (not queued) when it would play out of order."""
        if self.last_key is not None and item.key <= self.last_key:
            return False
        heapq.heappush(self._heap, (item.key, self._counter, item))
        self._counter += 1
        return True

    def pop(self) -> SpeechItem:
        key, _, item = heapq.heappop(self._heap)
        self.last_key = key
        return item

    def has_other_segment(self, segment_id: int) -> bool:
        """Whether speech of another (later) segment is waiting."""
        return any(entry[2].segment_id != segment_id for entry in self._heap)

    def segment_ids(self) -> set[int]:
        return {entry[2].segment_id for entry in self._heap}


@dataclass(frozen=True)
class LagDecision:
    play: bool
    pause_s: float
    lag_s: float
    reason: str  # "on-time" | "catching-up" | "stale"


class LagPolicy:
    """When speech falls behind the source, first shorten pauses, then skip stale speech.

    lag_s: how far behind the source the segment's speech would be when it starts (source
    time now minus the segment's source end). source_gap_s: the pause between this segment
    and the previous one in the source. Up to max_lag_s/2 of lag the natural pause is kept
    (capped at max_pause_s); between max_lag_s/2 and max_lag_s it shrinks linearly towards
    min_pause_s; beyond max_lag_s the segment is skipped when newer speech waits (skipping
    the newest would leave nothing to catch up to). max_lag_s <= 0 disables skipping.
    """

    def __init__(
        self, max_lag_s: float, *, max_pause_s: float = 1.0, min_pause_s: float = 0.1
    ) -> None:
        self.max_lag_s = max_lag_s
        self.max_pause_s = max_pause_s
        self.min_pause_s = min_pause_s

    def decide(self, lag_s: float, source_gap_s: float, newer_waiting: bool) -> LagDecision:
        natural = min(max(source_gap_s, 0.0), self.max_pause_s)
        if self.max_lag_s <= 0:
            return LagDecision(True, natural, lag_s, "on-time")
        if lag_s > self.max_lag_s and newer_waiting:
            return LagDecision(False, 0.0, lag_s, "stale")
        half = self.max_lag_s / 2
        if lag_s <= half:
            return LagDecision(True, natural, lag_s, "on-time")
        fraction = min(1.0, (lag_s - half) / half)
        pause = max(natural * (1.0 - fraction), min(natural, self.min_pause_s))
        return LagDecision(True, pause, lag_s, "catching-up")


# --------------------------------------------------------------------------- the device player


@dataclass(frozen=True)
class _Marker:
    kind: str  # "start" | "end" | "chunk" | "done"
    offset: int  # sample offset inside the block
    item: SpeechItem | None = None
    audio: np.ndarray | None = None  # "chunk": the audio at the log's rate
    lag_s: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class _Block:
    samples: np.ndarray
    markers: tuple[_Marker, ...] = ()


def _resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out or len(samples) == 0:
        return np.asarray(samples, dtype=np.float32)
    import soxr

    return soxr.resample(np.asarray(samples, dtype=np.float32), rate_in, rate_out).astype(
        np.float32
    )


def _import_sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio missing
        raise DeviceError(
            f"Audio output is unavailable: {exc}. Install PortAudio (libportaudio2)."
        ) from exc
    return sounddevice


def resolve_output_device(device: str | int | None) -> str | int | None:
    """'pulse:SINK' -> PortAudio's 'pulse' device with PULSE_SINK=SINK (process-wide)."""
    if isinstance(device, str) and device.startswith("pulse:"):
        from engine.audio.pulse import use_sink

        return use_sink(device.split(":", 1)[1])
    return device


class SpeechPlayer:
    """Plays synthesised speech in source order on an output device (see the module doc).

    on_event: called on the dispatcher thread with each `PlaybackEvent` (keep it short).
    source_clock: returns the current source time (seconds); without it, lag is measured from
    the moment a segment's first sentence was enqueued.
    device: a PortAudio device (index or name), "pulse:SINK_NAME", or None (options or default).
    block_ms: stream block; buffer_ms: audio the feeder may prepare ahead of the callback (it
    rides out scheduling stalls on a busy machine and adds no latency to the first sample);
    latency: PortAudio output latency (0.1 s plays without stalls through PulseAudio, where
    "low" was seen to starve the stream).
    """

    def __init__(
        self,
        options: SpeechOptions | None = None,
        *,
        device: str | int | None = None,
        on_event: Callable[[PlaybackEvent], None] | None = None,
        source_clock: Callable[[], float] | None = None,
        log: PlaybackLog | None = None,
        block_ms: int = 20,
        buffer_ms: int = 400,
        latency: float | str = 0.1,
    ) -> None:
        self.options = options or SpeechOptions()
        self.sample_rate = int(self.options.output_sample_rate)
        self.device = device if device is not None else self.options.output_device
        self.on_event = on_event
        self.source_clock = source_clock
        self.log = log or PlaybackLog()
        self.policy = LagPolicy(self.options.max_lag_s)
        self.block = max(1, int(self.sample_rate * block_ms / 1000))
        self.latency = latency
        self._blocks: queue.Queue[_Block] = queue.Queue(maxsize=max(1, buffer_ms // block_ms))
        self._marks: queue.SimpleQueue[tuple[_Marker, float] | None] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._queue = OrderedSpeechQueue()
        self._pending = 0  # items enqueued and not yet audible to their end (or skipped)
        self._stopping = False
        self._stream: Any = None
        self._threads: list[threading.Thread] = []
        self._device_delay = 0.0
        self._speaking_segment: int | None = None
        self._last_audible_end: float = 0.0
        self.underruns = 0
        self.skipped = 0
        self.error: DeviceError | None = None
        # the most recent events, in order (for tests, benches and logs; bounded: a long
        # session must not grow it)
        self.events: collections.deque[PlaybackEvent] = collections.deque(maxlen=EVENT_HISTORY)

    # -- lifecycle

    def start(self) -> None:
        """Open the output stream and start the threads. Raises DeviceError."""
        sd = _import_sounddevice()
        device = resolve_output_device(self.device)
        try:
            self._stream = sd.OutputStream(
                samplerate=self.sample_rate,
                channels=1,
                dtype="float32",
                blocksize=self.block,
                device=device,
                latency=self.latency,
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._device_delay = float(self._stream.latency)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._stream = None
            name = device if device is not None else "the default output"
            raise DeviceError(f"Cannot open audio output {name!r} for speech: {exc}") from exc
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._feed, name="speech-feeder", daemon=True),
            threading.Thread(target=self._dispatch, name="speech-events", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, *, drain: bool = False, timeout: float = 30.0) -> None:
        """Stop playback (after everything queued was heard when `drain`)."""
        if drain:
            self.wait_idle(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # the device may already be gone
                log.debug("closing the output stream failed", exc_info=True)
            self._stream = None
        self._marks.put(None)
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads = []
        while True:  # audio prepared but never played must not leak into a restart
            try:
                self._blocks.get_nowait()
            except queue.Empty:
                break

    def __enter__(self) -> SpeechPlayer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- feeding

    def enqueue(self, item: SpeechItem) -> bool:
        """Queue one item; False (reported as skipped "late") when it would play out of order."""
        if item.enqueued_at == 0.0:
            item = _with_enqueued_at(item, time.monotonic())
        with self._cond:
            accepted = self._queue.push(item)
            if accepted:
                self._pending += 1
                self._cond.notify_all()
        if not accepted:
            self._report_skip(item, "late", 0.0)
        return accepted

    def play(
        self,
        segment_id: int,
        chunks: Iterable[Any],
        *,
        source_start: float,
        source_end: float | None = None,
    ) -> int:
        """Enqueue each `SpeechChunk` of `chunks` as soon as it is synthesised, then an end mark.

        Runs on the caller's thread (the synthesis worker): playback of the first sentence
        starts while the next ones are being synthesised. Returns the number of sentences.
        Exceptions of the synthesis propagate (after the segment was closed).
        """
        count = 0
        now = time.monotonic()
        try:
            for chunk in chunks:
                item = SpeechItem(
                    segment_id,
                    source_start,
                    chunk.samples,
                    chunk.sample_rate,
                    text=chunk.text,
                    index=count,
                    last=False,
                    source_end=source_end,
                    enqueued_at=now,
                )
                self.enqueue(item)
                count += 1
        finally:  # a failing synthesis still ends the segment (its "end" event fires)
            end_mark = SpeechItem(
                segment_id,
                source_start,
                np.zeros(0, np.float32),
                self.sample_rate,
                index=count,
                last=True,
                source_end=source_end,
                enqueued_at=now,
            )
            self.enqueue(end_mark)
        return count

    @property
    def backlog(self) -> int:
        """Items waiting or playing."""
        with self._cond:
            return self._pending

    @property
    def is_speaking(self) -> bool:
        return self.log.is_speaking(time.monotonic())

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until everything queued has been heard (True) or `timeout` passed (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.error is not None:
                    return False
                self._cond.wait(remaining)
        wait = self._last_audible_end - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        return True

    # -- internals

    def _source_lag(self, item: SpeechItem, ahead_s: float) -> float:
        end = item.source_end if item.source_end is not None else item.source_start
        if self.source_clock is not None:
            return self.source_clock() - end + ahead_s
        return time.monotonic() - item.enqueued_at + ahead_s

    def _report_skip(self, item: SpeechItem, reason: str, lag: float) -> None:
        self.skipped += 1
        self._marks.put((_Marker("skipped", 0, item, lag_s=lag, reason=reason), time.monotonic()))

    def _put_block(self, block: _Block) -> bool:
        while True:
            try:
                self._blocks.put(block, timeout=0.2)
                return True
            except queue.Full:
                if self._stopping:
                    return False

    def _feed(self) -> None:
        skipped_segments: set[int] = set()
        prev_source_end: float | None = None
        current: int | None = None
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                item = self._queue.pop()
                newer = self._queue.has_other_segment(item.segment_id)
            if item.segment_id in skipped_segments:
                self._done_without_playing()
                continue
            markers: list[_Marker] = []
            if item.segment_id != current:
                ahead = self._blocks.qsize() * self.block / self.sample_rate + self._device_delay
                lag = self._source_lag(item, ahead)
                gap = 0.0 if prev_source_end is None else item.source_start - prev_source_end
                decision = self.policy.decide(lag, gap, newer)
                if not decision.play:
                    skipped_segments.add(item.segment_id)
                    self._report_skip(item, "stale", lag)
                    self._done_without_playing()
                    continue
                current = item.segment_id
                prev_source_end = (
                    item.source_end
                    if item.source_end is not None
                    else item.source_start + item.duration
                )
                idle = (
                    max(0.0, time.monotonic() - self._last_audible_end)
                    if (self._speaking_segment is None and self._blocks.empty())
                    else 0.0
                )
                pause = max(0.0, decision.pause_s - idle)
                for _ in range(int(round(pause * self.sample_rate / self.block))):
                    if not self._put_block(_Block(np.zeros(self.block, np.float32))):
                        return
                markers.append(_Marker("start", 0, item, lag_s=lag))
            audio = _resample(item.samples, item.sample_rate, self.sample_rate)
            audio = audio * np.float32(self.options.volume) if self.options.volume != 1.0 else audio
            if len(audio):
                log_audio = _resample(item.samples, item.sample_rate, self.log.sample_rate)
                markers.append(_Marker("chunk", 0, item, audio=log_audio))
            n_blocks = max(1, -(-len(audio) // self.block))
            padded = np.zeros(n_blocks * self.block, np.float32)
            padded[: len(audio)] = audio
            end_offset = len(audio) - (n_blocks - 1) * self.block
            for b in range(n_blocks):
                block_markers = tuple(markers) if b == 0 else ()
                if b == n_blocks - 1:
                    tail = [_Marker("done", end_offset, item)]
                    if item.last:
                        tail.insert(0, _Marker("end", end_offset, item))
                    block_markers = block_markers + tuple(tail)
                chunk = padded[b * self.block : (b + 1) * self.block]
                if not self._put_block(_Block(chunk, block_markers)):
                    return
            if item.last:
                current = None

    def _done_without_playing(self) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.underruns += 1
        try:
            block = self._blocks.get_nowait()
        except queue.Empty:
            outdata.fill(0)
            return
        outdata[:, 0] = block.samples
        if block.markers:
            delay = self._device_delay
            try:
                dac = time_info.outputBufferDacTime - time_info.currentTime
                if 0.0 <= dac < 2.0 and time_info.currentTime > 0:
                    delay = dac
            except AttributeError:
                pass
            base = time.monotonic() + delay
            for marker in block.markers:
                self._marks.put((marker, base + marker.offset / self.sample_rate))

    def _finished(self) -> None:
        if not self._stopping:
            self.error = DeviceError("The audio output stopped unexpectedly (device removed?).")
            self._marks.put((_Marker("error", 0), time.monotonic()))
            with self._cond:
                self._cond.notify_all()

    def _dispatch(self) -> None:
        while True:
            entry = self._marks.get()
            if entry is None:
                return
            marker, at = entry
            item = marker.item
            event: PlaybackEvent | None = None
            if marker.kind == "chunk" and marker.audio is not None:
                self.log.add(at, marker.audio)
            elif marker.kind == "start" and item is not None:
                self._speaking_segment = item.segment_id
                event = PlaybackEvent(
                    "start", item.segment_id, at, item.text, item.source_start, "", marker.lag_s
                )
            elif marker.kind == "end" and item is not None:
                self._speaking_segment = None
                event = PlaybackEvent("end", item.segment_id, at, "", item.source_start)
            elif marker.kind == "skipped" and item is not None:
                event = PlaybackEvent(
                    "skipped",
                    item.segment_id,
                    at,
                    item.text,
                    item.source_start,
                    marker.reason,
                    marker.lag_s,
                )
            elif marker.kind == "error" and self.error is not None:
                event = PlaybackEvent("error", -1, at, reason=str(self.error))
            if marker.kind == "done":
                self._last_audible_end = at
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()
            if event is not None:
                self.events.append(event)
                if self.on_event is not None:
                    try:
                        self.on_event(event)
                    except Exception:
                        log.exception("speech playback event handler failed")


def _with_enqueued_at(item: SpeechItem, at: float) -> SpeechItem:
    from dataclasses import replace

    return replace(item, enqueued_at=at)


# --------------------------------------------------------------------------- WAV timeline


@dataclass(frozen=True)
class TimelinePlacement:
    """Where one piece of speech landed in the speech WAV (seconds)."""

    segment_id: int | None
    source_start: float
    placed_start: float
    duration: float
    text: str = ""

    @property
    def delay(self) -> float:
        """How much later than its source start it was placed (overlap avoidance)."""
        return self.placed_start - self.source_start


class SpeechTimeline:
    """Writes speech laid on the source timeline to a WAV file (for `--speech OUT.wav`).

    Each piece starts at its source start time, or right after the previous piece if they
    would overlap (pieces never overlap, and never play out of the order they were added).
    Streams to disk; memory does not grow with the length of the session.
    """

    def __init__(self, path: str | Path, sample_rate: int = 22_050) -> None:
        import soundfile as sf

        self.path = Path(path)
        self.sample_rate = sample_rate
        self.placements: list[TimelinePlacement] = []
        self._cursor = 0  # samples written so far
        try:
            self._file: Any = sf.SoundFile(
                str(self.path), "w", samplerate=sample_rate, channels=1, subtype="PCM_16"
            )
        except (sf.LibsndfileError, OSError, RuntimeError) as exc:
            from engine.errors import InputError

            raise InputError(f"Cannot write the speech file {self.path}: {exc}") from exc

    def add(
        self,
        source_start: float,
        samples: np.ndarray,
        sample_rate: int,
        *,
        segment_id: int | None = None,
        text: str = "",
    ) -> TimelinePlacement:
        audio = _resample(np.asarray(samples, dtype=np.float32), sample_rate, self.sample_rate)
        start = max(self._cursor, int(round(max(0.0, source_start) * self.sample_rate)))
        if start > self._cursor:
            self._file.write(np.zeros(start - self._cursor, np.float32))
        self._file.write(np.clip(audio, -1.0, 1.0))
        self._cursor = start + len(audio)
        placement = TimelinePlacement(
            segment_id, source_start, start / self.sample_rate, len(audio) / self.sample_rate, text
        )
        self.placements.append(placement)
        return placement

    @property
    def duration(self) -> float:
        return self._cursor / self.sample_rate

    def close(self, total_duration: float | None = None) -> None:
        """Finish the file, padding with silence up to `total_duration` (the source length)."""
        if self._file is None:
            return
        if total_duration is not None:
            end = int(round(total_duration * self.sample_rate))
            if end > self._cursor:
                self._file.write(np.zeros(end - self._cursor, np.float32))
                self._cursor = end
        self._file.close()
        self._file = None

    def __enter__(self) -> SpeechTimeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
