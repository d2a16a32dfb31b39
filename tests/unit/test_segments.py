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


# ---------------------------------------------------------------- revisions (issue 8)
PAUSE_WINDOWS = VadOptions().revise_pause_ms * SR // 1000 / WINDOW  # 31.25


def feed_windows(tracker: SegmentTracker, probs: list[float]):
    """Feed one window at a time; returns (outputs, position in samples when each was made)."""
    out = []
    audio = np.arange(len(probs) * WINDOW, dtype=np.float32)
    for k in range(len(probs)):
        for o in tracker.feed(audio[k * WINDOW : (k + 1) * WINDOW], float(k)):
            out.append((o, (k + 1) * WINDOW))
    out.extend((o, len(probs) * WINDOW) for o in tracker.flush())
    return out


def test_a_long_pause_after_two_finals_revises_them_together():
    # two utterances 0.64 s apart (two finals), then a pause longer than revise_pause_ms
    probs = [0.0] * 10 + [0.9] * 40 + [0.0] * 20 + [0.9] * 40 + [0.0] * 60
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions(), revisions=True, clock=Clock())
    made = feed_windows(tracker, probs)
    kinds = [o.kind for o, _ in made if isinstance(o, DecodeJob) and o.kind != "partial"]
    assert kinds == ["speculative", "final", "speculative", "final", "revise"]
    finals = [o for o, _ in made if isinstance(o, DecodeJob) and o.kind == "final"]
    ((revise, at),) = [(o, at) for o, at in made if isinstance(o, DecodeJob) and o.kind == "revise"]
    assert [(s.segment_id, s.start_sample, s.end_sample, s.context) for s in revise.spans] == [
        (f.segment_id, f.start_sample, f.end_sample, False) for f in finals
    ]
    assert revise.segment_id == 2
    assert (revise.start_sample, revise.end_sample) == (
        finals[0].start_sample,
        finals[1].end_sample,
    )
    # the whole span, pause included, is the exact slice of the source
    assert revise.audio[0] == revise.start_sample and revise.audio[-1] == revise.end_sample - 1
    assert len(revise.audio) == revise.end_sample - revise.start_sample
    # made as soon as the silence after the last speech reached revise_pause_ms
    speech_end = 110 * WINDOW
    assert at == speech_end + int(np.ceil(PAUSE_WINDOWS)) * WINDOW
    assert revise.speech_end_at is not None and revise.vad_end_at == 100.0


def test_no_revise_jobs_when_revisions_are_off():
    probs = [0.0] * 10 + [0.9] * 40 + [0.0] * 20 + [0.9] * 40 + [0.0] * 60
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions(), clock=Clock())
    assert not jobs([o for o, _ in feed_windows(tracker, probs)], "revise")


def test_a_lone_final_is_revised_with_the_earlier_final_as_context():
    # two utterances 2 s apart: the first alone gets no job (nothing to gain), the second is
    # revised with the first leading the window as context (not revised again)
    probs = [0.0] * 10 + [0.9] * 30 + [0.0] * 62 + [0.9] * 30 + [0.0] * 60
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions(), revisions=True, clock=Clock())
    made = [o for o, _ in feed_windows(tracker, probs)]
    finals = jobs(made, "final")
    (revise,) = jobs(made, "revise")
    assert [(s.segment_id, s.context) for s in revise.spans] == [(1, True), (2, False)]
    assert (revise.start_sample, revise.end_sample) == (
        finals[0].start_sample,
        finals[1].end_sample,
    )


def test_context_reaches_back_no_further_than_revise_context_s():
    # the first utterance ends ~9 s before the second: too far back to lead its window
    probs = [0.0] * 10 + [0.9] * 30 + [0.0] * 280 + [0.9] * 30 + [0.0] * 60
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions(), revisions=True, clock=Clock())
    assert not jobs([o for o, _ in feed_windows(tracker, probs)], "revise")


def test_a_paragraph_without_long_pauses_is_revised_at_the_cap_each_final_once():
    # six 1 s utterances 0.5 s apart (no pause reaches revise_pause_ms), cap 3 s
    probs = [0.0] * 10 + ([0.9] * 31 + [0.0] * 16) * 6 + [0.0] * 60
    options = VadOptions(revise_max_s=3.0)
    tracker = SegmentTracker(ScriptedVad(probs), options, revisions=True, clock=Clock())
    made = [o for o, _ in feed_windows(tracker, probs)]
    finals = jobs(made, "final")
    revises = jobs(made, "revise")
    assert len(finals) == 6 and len(revises) >= 3
    for job in revises:
        assert job.end_sample - job.start_sample <= 3.0 * SR
    revised = [s.segment_id for job in revises for s in job.spans if not s.context]
    assert sorted(revised) == [1, 2, 3, 4, 5, 6]
    # each revision is made right when the next final would pass the cap: before that final
    order = [(o.kind, o.segment_id) for o in made if isinstance(o, DecodeJob)]
    for job in revises[:-1]:
        position = order.index(("revise", job.segment_id))
        assert order[position + 1] == ("final", job.segment_id + 1)


def test_the_source_ending_revises_the_open_paragraph():
    # the source ends 0.6 s after the second utterance, before revise_pause_ms
    probs = [0.0] * 10 + [0.9] * 40 + [0.0] * 20 + [0.9] * 40 + [0.0] * 20
    tracker = SegmentTracker(ScriptedVad(probs), VadOptions(), revisions=True, clock=Clock())
    made = feed_windows(tracker, probs)
    (revise,) = jobs([o for o, _ in made], "revise")
    assert [s.segment_id for s in revise.spans] == [1, 2]
    assert tracker.flush() == []  # nothing twice
