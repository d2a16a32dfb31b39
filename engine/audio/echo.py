"""Echo guard: Dragoman must not transcribe its own synthesised voice as a new utterance.

Pure logic (no audio devices): `PlaybackLog` records what the player made audible and when
(monotonic stamps), and `EchoGuard` applies the configured policy to the capture side:

- "mute-capture": capture frames recorded while the player was audible, plus `tail_s`, are
  replaced by silence (`filter_frame`), so the VAD never opens a segment on our own voice.
- "correlate": capture passes through untouched; a finished speech segment whose audio
  correlates with recently played audio above `threshold` is dropped (`should_drop_segment`).
  The user can talk over the speech; only segments that are mostly our echo are dropped.
- "off": nothing is filtered.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.config import SpeechOptions

POLICIES = ("mute-capture", "correlate", "off")


@dataclass(frozen=True)
class PlayedAudio:
    """Audio that became audible at monotonic time `start_at` (resampled to the log's rate)."""

    start_at: float
    samples: np.ndarray = field(repr=False)
    sample_rate: int

    @property
    def end_at(self) -> float:
        return self.start_at + len(self.samples) / self.sample_rate


class PlaybackLog:
    """Thread-safe record of recently played audio; the player writes, the echo guard reads.

    Keeps `keep_s` seconds of history. Audio is stored at `sample_rate` (the capture rate), so
    correlation needs no resampling at decision time.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, keep_s: float = 60.0) -> None:
        self.sample_rate = sample_rate
        self.keep_s = keep_s
        self._items: deque[PlayedAudio] = deque()
        self._lock = threading.Lock()

    def add(self, start_at: float, samples: np.ndarray) -> None:
        """Record `samples` (already at `self.sample_rate`) audible from `start_at`."""
        item = PlayedAudio(start_at, np.asarray(samples, dtype=np.float32), self.sample_rate)
        with self._lock:
            self._items.append(item)
            horizon = item.end_at - self.keep_s
            while self._items and self._items[0].end_at < horizon:
                self._items.popleft()

    def items(self) -> list[PlayedAudio]:
        with self._lock:
            return list(self._items)

    def speaking_between(self, t0: float, t1: float, tail_s: float = 0.0) -> bool:
        """Whether played audio (extended by `tail_s`) overlaps the interval [t0, t1]."""
        with self._lock:
            return any(it.start_at <= t1 and it.end_at + tail_s >= t0 for it in self._items)

    def is_speaking(self, now: float) -> bool:
        return self.speaking_between(now, now)

    def last_end(self) -> float | None:
        with self._lock:
            return max((it.end_at for it in self._items), default=None)

    def reference(self, t0: float, t1: float) -> np.ndarray:
        """Played audio laid on the timeline [t0, t1] (silence where nothing played)."""
        n = max(0, int(round((t1 - t0) * self.sample_rate)))
        out = np.zeros(n, dtype=np.float32)
        for it in self.items():
            offset = int(round((it.start_at - t0) * self.sample_rate))
            src = it.samples
            lo, hi = max(0, offset), min(n, offset + len(src))
            if lo < hi:
                out[lo:hi] += src[lo - offset : hi - offset]
        return out


def max_normalized_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Highest normalised cross-correlation of the shorter signal slid along the longer one.

    1.0 means one contains an exact (scaled) copy of the other; unrelated audio stays near 0.
    Windows of the longer signal are normalised by their own energy, so silence in the
    reference does not dilute a match.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if len(a) > len(b):
        a, b = b, a
    n = len(a)
    if n == 0 or len(b) == 0:
        return 0.0
    a = a - a.mean()
    norm_a = float(np.sqrt(np.dot(a, a)))
    if norm_a < 1e-9:
        return 0.0
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    corr = corr[: len(b) - n + 1]  # a fully inside b
    csum = np.concatenate(([0.0], np.cumsum(b)))
    csum2 = np.concatenate(([0.0], np.cumsum(b * b)))
    win_sum = csum[n:] - csum[:-n]
    win_energy = csum2[n:] - csum2[:-n] - win_sum * win_sum / n  # energy around the window mean
    floor = 1e-6 * norm_a * norm_a
    score = corr / (norm_a * np.sqrt(np.maximum(win_energy, floor)))
    return float(np.clip(score.max(), -1.0, 1.0))


class EchoGuard:
    """Applies the echo policy between capture and the VAD / recogniser.

    `filter_frame(frame, t)`: call for every capture frame; `t` is the monotonic time of the
    frame's first sample (the capture callback's stamp, corrected by the input latency when
    known). `should_drop_segment(audio, start_at, end_at)`: call for every finished segment
    before it is transcribed / emitted as final.
    """

    def __init__(
        self,
        log: PlaybackLog,
        policy: str = "mute-capture",
        *,
        sample_rate: int = SAMPLE_RATE,
        tail_s: float = 0.3,
        threshold: float = 0.5,
        search_s: float = 2.0,
    ) -> None:
        if policy not in POLICIES:
            from engine.errors import ConfigError

            raise ConfigError(f"Unknown echo guard {policy!r}: use one of {', '.join(POLICIES)}.")
        self.log = log
        self.policy = policy
        self.sample_rate = sample_rate
        self.tail_s = tail_s
        self.threshold = threshold
        self.search_s = search_s  # slack around the segment's stamps when searching the echo
        self.unstamped_search_s = 15.0  # history searched for a segment without stamps
        self.muted_frames = 0
        self.dropped_segments = 0
        self.last_similarity: float | None = None

    @classmethod
    def from_options(cls, options: SpeechOptions, log: PlaybackLog) -> EchoGuard:
        """The guard configured by `SpeechOptions` (echo_guard, echo_tail_s, echo_threshold)."""
        return cls(
            log,
            options.echo_guard,
            sample_rate=log.sample_rate,
            tail_s=options.echo_tail_s,
            threshold=options.echo_threshold,
        )

    def filter_frame(self, frame: np.ndarray, t: float) -> np.ndarray:
        """The frame itself, or silence of the same shape when it would carry our own voice."""
        if self.policy != "mute-capture":
            return frame
        t1 = t + len(frame) / self.sample_rate
        if self.log.speaking_between(t, t1, self.tail_s):
            self.muted_frames += 1
            return np.zeros_like(frame)
        return frame

    def similarity(
        self, audio: np.ndarray, start_at: float | None = None, end_at: float | None = None
    ) -> float:
        """Best normalised correlation of `audio` with recently played audio (0 when none)."""
        duration = len(audio) / self.sample_rate
        if start_at is None and end_at is None:
            last = self.log.last_end()
            if last is None:
                return 0.0
            # No stamps: search the whole recent history that could hold this segment.
            start_at, end_at = last - duration - self.unstamped_search_s, last
        elif end_at is None:
            assert start_at is not None
            end_at = start_at + duration
        elif start_at is None:
            start_at = end_at - duration
        assert start_at is not None and end_at is not None
        reference = self.log.reference(start_at - self.search_s, end_at + self.search_s)
        if not np.any(reference):
            return 0.0
        return max_normalized_correlation(audio, reference)

    def should_drop_segment(
        self, audio: np.ndarray, start_at: float | None = None, end_at: float | None = None
    ) -> bool:
        """True when the segment is our own played speech ("correlate" policy only).

        start_at/end_at: monotonic capture times of the segment's first/last sample; without
        them the segment is compared with the last played audio.
        """
        if self.policy != "correlate" or len(audio) == 0:
            return False
        self.last_similarity = self.similarity(audio, start_at, end_at)
        if self.last_similarity >= self.threshold:
            self.dropped_segments += 1
            return True
        return False
