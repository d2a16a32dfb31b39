"""Segment bookkeeping as a pure class: blocks in, decode jobs out (no threads, no models).

A scripted VAD gives one probability per 512-sample window, so every job's kind, segment and
sample range is exact.
"""

from __future__ import annotations

import numpy as np

from engine.audio.history import AudioHistory
from engine.config import VadOptions
from engine.events import SpeechStarted
from engine.segments import DecodeJob, SegmentTracker
from engine.vad import WINDOW

SR = 16_000


class ScriptedVad:
    def __init__(self, probs: list[float]) -> None:
        self.probs = probs
        self.i = 0

    def reset(self) -> None:
        self.i = 0

    def probability(self, window: np.ndarray) -> float:
        p = self.probs[self.i] if self.i < len(self.probs) else 0.0
        self.i += 1
        return p


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def feed_all(tracker: SegmentTracker, windows: int, *, per_block: int = 1, idle: bool = True):
    """Feed `windows` windows of a ramp (sample value = its index) in blocks; received_at of
    block k is k; returns every output, flush included."""
    out = []
    block = WINDOW * per_block
    audio = np.arange(windows * WINDOW, dtype=np.float32)
    for k, start in enumerate(range(0, len(audio), block)):
        out.extend(tracker.feed(audio[start : start + block], float(k), recogniser_idle=idle))
    out.extend(tracker.flush())
    return out


def jobs(outputs, kind=None):
    return [o for o in outputs if isinstance(o, DecodeJob) and (kind is None or o.kind == kind)]


def test_one_utterance_gives_start_partials_speculative_and_a_final_that_reuses_it():
    # 10 silent windows, 60 speech windows (1.92 s), then silence long enough to end it
    probs = [0.0] * 10 + [0.9] * 60 + [0.0] * 30
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions(), clock=Clock())
    out = feed_all(tracker, len(probs))
    started = [o for o in out if isinstance(o, SpeechStarted)]
    assert [s.segment_id for s in started] == [1]
    pad = VadOptions().speech_pad_ms * SR // 1000
    assert started[0].start == (10 * WINDOW - pad) / SR
    partials = jobs(out, "partial")
    assert partials and all(j.segment_id == 1 for j in partials)
    assert partials[0].end_sample - partials[0].start_sample >= 0.5 * SR  # first after 0.5 s
    ends = [j.end_sample for j in partials]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)
    (spec,) = jobs(out, "speculative")
    (final,) = jobs(out, "final")
    assert final.start_sample == 10 * WINDOW - pad
    assert final.end_sample == 70 * WINDOW + pad  # last speech window + padding
    assert final.reuse_length == spec.end_sample - spec.start_sample
    # the audio is the exact slice of the source
    assert final.audio[0] == final.start_sample and final.audio[-1] == final.end_sample - 1
    assert final.vad_end_at == 100.0
    assert final.speech_end_at is not None and final.start_at is not None


def test_no_partials_when_not_live_and_a_final_without_reuse():
    probs = [0.0] * 10 + [0.9] * 60 + [0.0] * 30
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions(), partials=False)
    out = feed_all(tracker, len(probs))
    assert [j.kind for j in jobs(out)] == ["final"]
    assert jobs(out)[0].reuse_length is None


def test_a_busy_recogniser_gets_no_new_partial_but_still_the_speculative_and_final():
    probs = [0.0] * 10 + [0.9] * 60 + [0.0] * 30
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions())
    out = feed_all(tracker, len(probs), idle=False)
    assert [j.kind for j in jobs(out)] == ["speculative", "final"]


def test_speech_resuming_after_a_short_pause_invalidates_the_speculative_decode():
    # speech, a 5-window dip (shorter than min_silence), speech again, then the end
    probs = [0.0] * 10 + [0.9] * 40 + [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions())
    out = feed_all(tracker, len(probs))
    specs = jobs(out, "speculative")
    (final,) = jobs(out, "final")
    assert len(specs) == 2  # one at each pause
    assert final.reuse_length == specs[-1].end_sample - specs[-1].start_sample
    assert final.reuse_length != specs[0].end_sample - specs[0].start_sample


def test_a_long_segment_is_split_and_the_first_half_never_reuses_a_decode():
    probs = [0.0] * 5 + [0.9] * 200 + [0.0] * 30
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions(max_segment_s=3.0))
    out = feed_all(tracker, len(probs))
    finals = jobs(out, "final")
    assert len(finals) >= 2
    assert finals[0].reuse_length is None
    for a, b in zip(finals, finals[1:], strict=False):
        assert a.end_sample == b.start_sample  # contiguous: no audio lost or doubled at a cut
    started = [o.segment_id for o in out if isinstance(o, SpeechStarted)]
    assert started == [f.segment_id for f in finals]


def test_a_burst_too_short_to_be_speech_is_dropped():
    probs = [0.0] * 10 + [0.9] * 3 + [0.0] * 30
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions())
    out = feed_all(tracker, len(probs))
    kinds = [j.kind for j in jobs(out)]
    assert kinds[-1] == "drop" and "final" not in kinds  # a speculative decode may precede it


def test_flush_closes_the_open_segment_once():
    probs = [0.0] * 5 + [0.9] * 50
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions())
    out = feed_all(tracker, len(probs), per_block=3)
    assert [j.kind for j in jobs(out, "final")] == ["final"]
    assert tracker.flush() == []
    assert not tracker.in_segment


def test_blocks_of_any_size_give_the_same_segments():
    probs = [0.0] * 10 + [0.9] * 60 + [0.0] * 30
    by_window = feed_all(SegmentTracker(ScriptedVad(probs), partials=False), len(probs))
    tracker = SegmentTracker(ScriptedVad(probs), partials=False)
    audio = np.arange(len(probs) * WINDOW, dtype=np.float32)
    odd = []
    for start in range(0, len(audio), 700):  # blocks that straddle windows
        odd.extend(tracker.feed(audio[start : start + 700], 0.0))
    odd.extend(tracker.flush())
    assert [(j.kind, j.start_sample, j.end_sample) for j in jobs(by_window)] == [
        (j.kind, j.start_sample, j.end_sample) for j in jobs(odd)
    ]
    assert tracker.total == len(audio)


# A block longer than the history ring still counts every sample, so absolute positions (the
# VAD's) never drift.
def test_history_counts_every_sample_of_a_block_longer_than_the_ring():
    h = AudioHistory(1.0)
    h.append(np.arange(2 * SR, dtype=np.float32))
    assert h.total == 2 * SR
    assert h.slice(2 * SR - 10, 2 * SR)[0] == 2 * SR - 10
