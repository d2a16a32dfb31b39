"""A fixed-size ring of the most recent audio, addressed by absolute sample index."""

from __future__ import annotations

import numpy as np

from engine.audio import SAMPLE_RATE


class AudioHistory:
    def __init__(self, seconds: float, sample_rate: int = SAMPLE_RATE) -> None:
        self.capacity = int(seconds * sample_rate)
        self._buffer = np.zeros(self.capacity, dtype=np.float32)
        self.total = 0  # samples appended since the start

    @property
    def oldest(self) -> int:
        return max(0, self.total - self.capacity)

    def append(self, samples: np.ndarray) -> None:
        skipped = max(len(samples) - self.capacity, 0)  # older than the ring can hold
        self.total += skipped
        samples = samples[skipped:]
        n = len(samples)
        start = self.total % self.capacity
        first = min(n, self.capacity - start)
        self._buffer[start : start + first] = samples[:first]
        self._buffer[: n - first] = samples[first:]
        self.total += n

    def slice(self, start: int, end: int) -> np.ndarray:
        """Samples [start, end) clipped to what is still retained (a copy)."""
        start = max(start, self.oldest)
        end = min(end, self.total)
        if end <= start:
            return np.zeros(0, dtype=np.float32)
        idx = np.arange(start, end) % self.capacity
        return self._buffer[idx].copy()
