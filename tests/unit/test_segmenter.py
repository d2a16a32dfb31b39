"""The VAD segmenter state machine on synthetic speech probabilities (no model)."""

from engine.config import VadOptions
from engine.vad import WINDOW, Segmenter

MS = 16  # samples per millisecond


def run(probs, **opts):
    seg = Segmenter(VadOptions(**opts))
    events = []
    for p in probs:
        events += [(e.kind, e.position) for e in seg.push(p)]
    events += [(e.kind, e.position) for e in seg.flush()]
    return events


def windows(ms: int) -> int:
    return ms * MS // WINDOW


def test_one_utterance_with_padding_and_hysteresis():
    probs = [0.0] * windows(640) + [0.9] * windows(960) + [0.0] * windows(1000)
    events = run(probs, speech_pad_ms=192, min_silence_ms=384)
    kinds = [k for k, _ in events]
    assert kinds == ["start", "pause", "end"]
    start, pause, end = (p for _, p in events)
    assert start == 640 * MS - 192 * MS
    assert pause == 1600 * MS
    assert end == 1600 * MS + 192 * MS


def test_short_pause_resumes_instead_of_ending():
    probs = [0.9] * windows(640) + [0.0] * windows(192) + [0.9] * windows(640) + [0.0] * 40
    kinds = [k for k, _ in run(probs, min_silence_ms=400)]
    assert kinds == ["start", "pause", "resume", "pause", "end"]


def test_probability_between_thresholds_keeps_speech():
    # 0.4 is below threshold 0.5 but above neg_threshold 0.35: still speech
    probs = [0.9] * 10 + [0.4] * 30 + [0.9] * 10 + [0.0] * 40
    kinds = [k for k, _ in run(probs, min_silence_ms=300)]
    assert kinds == ["start", "pause", "end"]


def test_too_short_burst_is_dropped():
    probs = [0.0] * 10 + [0.9] * windows(96) + [0.0] * 40
    assert [k for k, _ in run(probs, min_speech_ms=250)] == ["start", "pause", "drop"]


def test_silence_never_starts_a_segment():
    assert run([0.1] * 500) == []


def test_long_monologue_is_split_at_the_quietest_point():
    probs = []
    for i in range(60):  # 60 x 320 ms of speech with one dip per 10
        probs += [0.95] * 9 + [0.55 if i % 10 else 0.51]
    probs += [0.0] * 40
    events = run(probs, max_segment_s=6.0, min_silence_ms=400)
    splits = [p for k, p in events if k == "split"]
    assert splits, events
    for p in splits:  # split on a window boundary where the probability dipped
        assert p % WINDOW == 0
        assert probs[p // WINDOW - 1] < 0.6
    assert events[-1][0] == "end"
    # segments cover the speech contiguously: each split starts the next segment
    assert all(b - a <= 6.0 * 16000 for a, b in zip([0, *splits], splits, strict=False))


def test_padding_never_reaches_back_into_previous_segment():
    probs = [0.9] * 20 + [0.0] * 14 + [0.9] * 20 + [0.0] * 40
    events = run(probs, speech_pad_ms=300, min_silence_ms=400)
    ends = [p for k, p in events if k == "end"]
    starts = [p for k, p in events if k == "start"]
    assert len(starts) == 2 and starts[1] >= ends[0]
