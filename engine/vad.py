"""Voice activity detection: Silero VAD v6 on onnxruntime (no torch) + a pure segmenter.

`SileroVad` turns each 512-sample window (32 ms at 16 kHz) into a speech probability, carrying
the LSTM state and 64 samples of context between calls. `Segmenter` is a pure state machine over
those probabilities that says where segments start, pause, resume, end, or must be split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.config import VadOptions

WINDOW = 512
CONTEXT = 64
MAX_SEGMENT_S = 28.0


class VoiceActivityDetector(Protocol):
    def probability(self, window: np.ndarray) -> float:
        """Speech probability of one 512-sample window (16 kHz float32)."""
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError


class SileroVad:
    """Silero VAD v6 (the ONNX file shipped with faster-whisper), one intra-op thread."""

    def __init__(self, model_path: Path | None = None, *, threads: int = 1) -> None:
        from engine.models.packaged import silero_vad_path
        from engine.ort_session import create_session

        path = Path(model_path) if model_path else silero_vad_path()
        self._session = create_session(
            path, threads=threads, what="Silero VAD model", memory_arena=False
        )
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def probability(self, window: np.ndarray) -> float:
        if window.shape[0] != WINDOW:
            raise ValueError(f"Silero VAD needs {WINDOW}-sample windows, got {window.shape[0]}")
        batch = np.concatenate([self._context, window]).astype(np.float32, copy=False)[None, :]
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = window[-CONTEXT:].astype(np.float32, copy=True)
        return float(out.reshape(-1)[0])


VadEventKind = Literal["start", "pause", "resume", "end", "split", "drop"]


@dataclass(frozen=True, slots=True)
class VadEvent:
    """What the segmenter decided at one window. Positions are sample offsets in the source.

    kind: "start" (segment begins at `position`, padding included), "pause" (speech stopped at
    `position`; the segment may end — a good moment to decode speculatively), "resume" (speech
    came back before the segment ended), "end" (segment ends at `position`, padding included),
    "split" (segment too long: close it at `position` and continue a new one from there),
    "drop" (the segment was too short to be speech; discard it).
    """

    kind: VadEventKind
    position: int


class Segmenter:
    """Hysteresis state machine over per-window speech probabilities (pure logic, no model).

    Feed `push(probability)` once per 512-sample window; it returns the events of that window.
    """

    def __init__(self, options: VadOptions | None = None, *, window: int = WINDOW) -> None:
        self.options = options or VadOptions()
        self.window = window
        opts = self.options
        self.neg_threshold = (
            opts.neg_threshold
            if opts.neg_threshold is not None
            else max(opts.threshold - 0.15, 0.01)
        )
        ms = SAMPLE_RATE // 1000
        self.min_silence = opts.min_silence_ms * ms
        self.min_speech = opts.min_speech_ms * ms
        self.pad = opts.speech_pad_ms * ms
        # one Whisper window holds 30 s: longer segments would need several decodes
        self.max_segment = int(min(opts.max_segment_s, MAX_SEGMENT_S) * SAMPLE_RATE)
        self.position = 0  # samples consumed so far
        self.in_speech = False
        self.segment_start = 0
        self.speech_start = 0
        self.last_speech_end = 0  # end of the last window above the negative threshold
        self.paused_at: int | None = None
        self.last_end = 0  # where the previous segment ended (padding never overlaps it)
        self._probs: list[tuple[int, float]] = []  # (window end, prob) within the open segment

    def push(self, probability: float) -> list[VadEvent]:
        events: list[VadEvent] = []
        window_start = self.position
        self.position += self.window
        if not self.in_speech:
            if probability >= self.options.threshold:
                self.in_speech = True
                self.speech_start = window_start
                self.segment_start = max(window_start - self.pad, self.last_end, 0)
                self.last_speech_end = self.position
                self.paused_at = None
                self._probs = [(self.position, probability)]
                events.append(VadEvent("start", self.segment_start))
            return events

        self._probs.append((self.position, probability))
        if probability >= self.options.threshold or (
            self.paused_at is None and probability >= self.neg_threshold
        ):
            self.last_speech_end = self.position
            if self.paused_at is not None:
                self.paused_at = None
                events.append(VadEvent("resume", self.position))
        elif probability < self.neg_threshold and self.paused_at is None:
            self.paused_at = self.last_speech_end
            events.append(VadEvent("pause", self.paused_at))

        if self.paused_at is not None and self.position - self.paused_at >= self.min_silence:
            events.append(self._close(self.last_speech_end + self.pad))
            return events

        if self.position - self.segment_start >= self.max_segment:
            cut = self._quietest_point()
            events.append(VadEvent("split", cut))
            self.segment_start = cut
            self.speech_start = cut
            self.last_end = cut
            self._probs = [(p, q) for p, q in self._probs if p > cut]
        return events

    def flush(self) -> list[VadEvent]:
        """The source ended: close an open segment."""
        if not self.in_speech:
            return []
        return [self._close(min(self.last_speech_end + self.pad, self.position))]

    def _close(self, end: int) -> VadEvent:
        end = min(end, self.position)
        self.in_speech = False
        self.paused_at = None
        speech = self.last_speech_end - self.speech_start
        self.last_end = end
        self._probs = []
        return VadEvent("end" if speech >= self.min_speech else "drop", end)

    def _quietest_point(self) -> int:
        """Window boundary of lowest speech probability in the last third of the segment."""
        span = self.position - self.segment_start
        candidates = [(q, p) for p, q in self._probs if p >= self.position - span // 3]
        if not candidates:
            return self.position
        return min(candidates)[1]
