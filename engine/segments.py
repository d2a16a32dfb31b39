"""Segment bookkeeping: audio blocks in, decode jobs out (pure logic, no threads).

`SegmentTracker` has the shape of whisper_streaming's online processor: `feed(samples,
received_at)` returns what the recogniser should do now (decode a partial, a speculative final
or a final, or drop a segment) plus `SpeechStarted` events, and `flush()` closes the open segment
when the source ends. It owns the VAD windowing, the segmenter, a ring of recent audio and the
arrival times of blocks (so a final knows when its last speech sample was heard). The speech
probability model is injected, so tests drive it with scripted probabilities.

Latency: when the VAD first hears a pause, the segment so far is decoded at once ("speculative
final", after `SPECULATIVE_DELAY_S`). If the pause ends the segment with no speech in between,
the final job carries `reuse_length` and the recogniser reuses that decode: nothing is left to
decode after the silence.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.audio.history import AudioHistory
from engine.config import VadOptions
from engine.events import SpeechStarted
from engine.vad import WINDOW, Segmenter, VadEvent, VoiceActivityDetector

SPECULATIVE_DELAY_S = 0.1  # silence heard before the speculative final decode starts
FIRST_PARTIAL_S = 0.5  # segment audio (pre-padding included) before the first partial
HISTORY_MARGIN_S = 10.0  # audio kept beyond the longest segment

JobKind = Literal["partial", "speculative", "final", "drop"]


@dataclass(frozen=True, slots=True)
class DecodeJob:
    """One piece of work for the recogniser. Samples are absolute positions in the source.

    partial: decode the growing segment for a provisional hypothesis (latest wins);
    speculative: decode at a pause, kept in case the pause ends the segment;
    final: the segment ended (or was split): its committed text;
    drop: the segment was too short to be speech (withdraw its partial line).
    """

    kind: JobKind
    segment_id: int
    audio: np.ndarray
    start_sample: int
    end_sample: int
    speech_end_at: float | None = None  # monotonic time the last speech sample arrived
    start_at: float | None = None  # monotonic capture time of the first sample
    vad_end_at: float | None = None  # when the VAD decided the segment ended
    reuse_length: int | None = None  # final: reuse a speculative decode of exactly this length


SegmentOutput = DecodeJob | SpeechStarted


class SegmentTracker:
    """VAD windows -> segments -> decode jobs, for one run of one source (see module doc).

    vad: speech probability per 512-sample window. partials: schedule partial and speculative
    decodes (only worth their cost when audio arrives at the pace of speech).
    """

    def __init__(
        self,
        vad: VoiceActivityDetector,
        options: VadOptions | None = None,
        *,
        partials: bool = True,
        partial_interval_s: float = 0.6,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.vad = vad
        self.options = options or VadOptions()
        self.partials = partials
        self.clock = clock
        self.segmenter = Segmenter(self.options)
        self.history = AudioHistory(self.options.max_segment_s + HISTORY_MARGIN_S)
        self._arrivals: collections.deque[tuple[int, float]] = collections.deque(maxlen=4096)
        self._pending = np.zeros(0, dtype=np.float32)
        self._partial_step = int(partial_interval_s * SAMPLE_RATE)
        self._first_partial = int(FIRST_PARTIAL_S * SAMPLE_RATE)
        self._spec_delay = int(SPECULATIVE_DELAY_S * SAMPLE_RATE)
        self.segment_id = 0
        self._seg_start: int | None = None  # start of the open segment
        self._spec_at: int | None = None  # pause position awaiting a speculative decode
        self._spec_length: int | None = None  # length of the speculative decode since the pause
        self._last_partial_len = 0

    @property
    def total(self) -> int:
        """Samples fed so far."""
        return self.history.total

    @property
    def in_segment(self) -> bool:
        return self._seg_start is not None

    def feed(
        self, samples: np.ndarray, received_at: float, *, recogniser_idle: bool = True
    ) -> list[SegmentOutput]:
        """Take one block of 16 kHz mono float32 that became available at `received_at`.

        recogniser_idle: whether the recogniser has nothing to do; a new partial is only
        scheduled then (a busy recogniser would only make it stale)."""
        self.history.append(samples)
        self._arrivals.append((self.history.total, received_at))
        pending = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        n_windows = len(pending) // WINDOW
        out: list[SegmentOutput] = []
        for i in range(n_windows):
            probability = self.vad.probability(pending[i * WINDOW : (i + 1) * WINDOW])
            for event in self.segmenter.push(probability):
                out.extend(self._on_vad_event(event))
            job = self._scheduled_decode(recogniser_idle)
            if job is not None:
                out.append(job)
                if job.kind == "partial":
                    recogniser_idle = False
        self._pending = pending[n_windows * WINDOW :]
        return out

    def flush(self) -> list[SegmentOutput]:
        """The source ended (or was stopped): close the open segment."""
        out: list[SegmentOutput] = []
        for event in self.segmenter.flush():
            if self._seg_start is None:
                break
            if event.kind == "end":
                out.append(self._final(event.position, self.segmenter.last_speech_end))
            else:
                out.append(self._drop())
            self._seg_start = None
        return out

    # ------------------------------------------------------------------ internals
    def _on_vad_event(self, event: VadEvent) -> list[SegmentOutput]:
        now = self.clock()
        if event.kind == "start":
            return [self._open(event.position, now)]
        if event.kind == "pause":
            self._spec_at = event.position
        elif event.kind == "resume":
            self._spec_at = self._spec_length = None
        elif event.kind == "end":
            job = self._final(event.position, self.segmenter.last_speech_end, vad_end_at=now)
            self._seg_start = None
            return [job]
        elif event.kind == "drop":
            self._seg_start = None
            return [self._drop()]
        elif event.kind == "split":
            # a cut inside speech: a speculative decode may run past it, so never reuse it
            job = self._final(event.position, event.position, vad_end_at=now, reuse=False)
            return [job, self._open(event.position, now)]
        return []

    def _open(self, position: int, now: float) -> SpeechStarted:
        self.segment_id += 1
        self._seg_start = position
        self._spec_at = self._spec_length = None
        self._last_partial_len = 0
        return SpeechStarted(self.segment_id, position / SAMPLE_RATE, now)

    def _scheduled_decode(self, recogniser_idle: bool) -> DecodeJob | None:
        """A partial or speculative decode due at the current position, if any."""
        start = self._seg_start
        if start is None or not self.partials:
            return None
        position = self.segmenter.position
        if self._spec_at is not None and position >= self._spec_at + self._spec_delay:
            self._spec_length = position - start
            self._spec_at = None
            self._last_partial_len = self._spec_length
            return self._job("speculative", start, position)
        step = self._partial_step if self._last_partial_len else self._first_partial
        if (
            position - start - self._last_partial_len >= step
            and self.segmenter.paused_at is None
            and recogniser_idle
        ):
            self._last_partial_len = position - start
            return self._job("partial", start, position)
        return None

    def _job(self, kind: JobKind, start: int, end: int) -> DecodeJob:
        return DecodeJob(kind, self.segment_id, self.history.slice(start, end), start, end)

    def _final(
        self, end: int, speech_end: int, *, vad_end_at: float | None = None, reuse: bool = True
    ) -> DecodeJob:
        start = self._seg_start
        assert start is not None
        return DecodeJob(
            "final",
            self.segment_id,
            self.history.slice(start, end),
            start,
            end,
            speech_end_at=self._arrival_of(speech_end),
            start_at=self._arrival_of(start),
            vad_end_at=self.clock() if vad_end_at is None else vad_end_at,
            reuse_length=self._spec_length if reuse else None,
        )

    def _drop(self) -> DecodeJob:
        return DecodeJob("drop", self.segment_id, np.zeros(0, np.float32), 0, 0)

    def _arrival_of(self, sample: int) -> float | None:
        """When the block holding `sample` arrived."""
        for end, at in self._arrivals:
            if end >= sample:
                return at
        return self._arrivals[-1][1] if self._arrivals else None
