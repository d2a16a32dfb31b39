"""Segment bookkeeping: audio blocks in, decode jobs out (pure logic, no threads).

`SegmentTracker` has the shape of whisper_streaming's online processor: `feed(samples,
received_at)` returns what the recogniser should do now (decode a partial, a speculative final
or a final, or drop a segment) plus `SpeechStarted` events, and `flush()` closes the open segment
when the source ends. It owns the VAD windowing, the segmenter, a ring of recent audio and the
arrival times of blocks (so a final knows when its last speech sample was heard). The speech
probability model is injected, so tests drive it with scripted probabilities.

Revisions (issue 8): the recogniser decodes segments cut at short pauses, which loses the
context of the sentence ("In short, the period" -> "Ensure the period"). Once the silence after
the last final reaches `VadOptions.revise_pause_ms`, the finals since the previous revision are
re-decoded together: a "revise" job spans them all (at most `revise_max_s` of audio; a paragraph
without a long pause is revised when the next final would pass that length) and names each
segment's range (`SegmentSpan`) so the recogniser can give every segment its words back. Earlier
finals lead the window as context (`REVISE_CONTEXT_S`), so a lone short utterance is revised too.

Latency: when the VAD first hears a pause, the segment so far is decoded at once ("speculative
final", after `SPECULATIVE_DELAY_S`). If the pause ends the segment with no speech in between,
the final job carries `reuse_length` and the recogniser reuses that decode: nothing is left to
decode after the silence.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
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
# A revision window reaches back over earlier finals up to this length: Whisper's encoder window
# is at least 10 s anyway (engine.asr.whisper.MIN_CONTEXT_S), so this context costs no encoder
# time, and a neighbour fixes what a short utterance alone gets wrong ("Prie again." alone,
# "Fail better. Try again." together).
REVISE_CONTEXT_S = 8.0

JobKind = Literal["partial", "speculative", "final", "drop", "revise"]


@dataclass(frozen=True, slots=True)
class SegmentSpan:
    """One final segment inside a revise job (absolute samples in the source)."""

    segment_id: int
    start_sample: int
    end_sample: int
    context: bool = False  # decoded for context only (revised before): not revised again


@dataclass(frozen=True, slots=True)
class DecodeJob:
    """One piece of work for the recogniser. Samples are absolute positions in the source.

    partial: decode the growing segment for a provisional hypothesis (latest wins);
    speculative: decode at a pause, kept in case the pause ends the segment;
    final: the segment ended (or was split): its committed text;
    drop: the segment was too short to be speech (withdraw its partial line);
    revise: re-decode the finals `spans` together (audio from the first one's start to the last
    one's end, pauses included); `segment_id` is the last of them.
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
    spans: tuple[SegmentSpan, ...] = ()  # revise: the segments it covers, in order


SegmentOutput = DecodeJob | SpeechStarted


class SegmentTracker:
    """VAD windows -> segments -> decode jobs, for one run of one source (see module doc).

    vad: speech probability per 512-sample window. partials: schedule partial and speculative
    decodes (only worth their cost when audio arrives at the pace of speech). revisions: emit
    revise jobs (see the module doc).
    """

    def __init__(
        self,
        vad: VoiceActivityDetector,
        options: VadOptions | None = None,
        *,
        partials: bool = True,
        partial_interval_s: float = 0.6,
        revisions: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.vad = vad
        self.options = options or VadOptions()
        self.partials = partials
        self.clock = clock
        self.segmenter = Segmenter(self.options)
        longest = max(self.options.max_segment_s, self.options.revise_max_s)
        self.history = AudioHistory(longest + HISTORY_MARGIN_S)
        self.revisions = revisions
        self._revise_pause = self.options.revise_pause_ms * SAMPLE_RATE // 1000
        self._revise_max = int(self.options.revise_max_s * SAMPLE_RATE)
        self._unrevised: list[SegmentSpan] = []  # finals since the last revision point
        self._revised: collections.deque[SegmentSpan] = collections.deque(maxlen=32)
        self._context = int(REVISE_CONTEXT_S * SAMPLE_RATE)
        self._unrevised_speech_end: int = 0  # end of speech of the last of them
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
            if (
                self._unrevised
                and self._seg_start is None
                and self.segmenter.position - self._unrevised_speech_end >= self._revise_pause
            ):
                out.extend(self._revise())
        self._pending = pending[n_windows * WINDOW :]
        return out

    def flush(self) -> list[SegmentOutput]:
        """The source ended (or was stopped): close the open segment."""
        out: list[SegmentOutput] = []
        for event in self.segmenter.flush():
            if self._seg_start is None:
                break
            if event.kind == "end":
                out.extend(
                    self._closed(self._final(event.position, self.segmenter.last_speech_end))
                )
            else:
                out.append(self._drop())
            self._seg_start = None
        out.extend(self._revise())  # the source ended: a pause as long as any
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
            return self._closed(job)
        elif event.kind == "drop":
            self._seg_start = None
            return [self._drop()]
        elif event.kind == "split":
            # a cut inside speech: a speculative decode may run past it, so never reuse it
            job = self._final(event.position, event.position, vad_end_at=now, reuse=False)
            return [*self._closed(job), self._open(event.position, now)]
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

    def _closed(self, final: DecodeJob) -> list[SegmentOutput]:
        """The final job, after the revision of the earlier finals when adding this one would
        make the revision longer than `revise_max_s` (a paragraph without a long pause)."""
        if not self.revisions:
            return [final]
        out: list[SegmentOutput] = [final]
        first = self._unrevised[0] if self._unrevised else None
        if first is not None and final.end_sample - first.start_sample > self._revise_max:
            out = [*self._revise(), final]
        self._unrevised.append(SegmentSpan(final.segment_id, final.start_sample, final.end_sample))
        self._unrevised_speech_end = min(self.segmenter.last_speech_end, final.end_sample)
        return out

    def _revise(self) -> list[DecodeJob]:
        """The revise job of the finals since the last revision point, which starts a new one.

        Earlier finals lead the window as context (marked `context`: their words are decoded
        but they are not revised again) while the window stays within `REVISE_CONTEXT_S` (or
        the new finals' own length) and `revise_max_s`; a lone final with no context gets no
        job (decoded alone again, it would come back the same)."""
        oldest = self.history.oldest
        spans = [s for s in self._unrevised if s.start_sample >= oldest]
        earlier = [s for s in self._revised if s.start_sample >= oldest]
        self._revised.extend(self._unrevised)
        self._unrevised = []
        if not spans:
            return []
        end = spans[-1].end_sample
        reach = min(max(self._context, end - spans[0].start_sample), self._revise_max)
        context: list[SegmentSpan] = []
        for span in reversed(earlier):
            if end - span.start_sample > reach:
                break
            context.insert(0, replace(span, context=True))
        spans = context + spans
        if len(spans) < 2:
            return []
        start = spans[0].start_sample
        speech_end = min(self._unrevised_speech_end, end)
        return [
            DecodeJob(
                "revise",
                spans[-1].segment_id,
                self.history.slice(start, end),
                start,
                end,
                speech_end_at=self._arrival_of(speech_end),
                start_at=self._arrival_of(start),
                vad_end_at=self.clock(),
                spans=tuple(spans),
            )
        ]

    def _drop(self) -> DecodeJob:
        return DecodeJob("drop", self.segment_id, np.zeros(0, np.float32), 0, 0)

    def _arrival_of(self, sample: int) -> float | None:
        """When the block holding `sample` arrived."""
        for end, at in self._arrivals:
            if end >= sample:
                return at
        return self._arrivals[-1][1] if self._arrivals else None
