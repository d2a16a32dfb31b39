"""engine.latency: the per-stage latency the status bar shows, from event stamps alone."""

from __future__ import annotations

from engine.events import Final, FinalRevised, SpeechOutput, StageTimes, Stats, Translation
from engine.latency import LatencyTracker, UtteranceLatency


def _final(times: StageTimes) -> Final:
    return Final(1, 0.0, 1.0, "hello", "en", times)


def _translation(times: StageTimes) -> Translation:
    return Translation(1, 0.0, 1.0, "hello", "en", "hallo", "de", None, "m2m100", {}, times)


def test_a_final_starts_a_new_utterance() -> None:
    tracker = LatencyTracker()
    assert tracker.observe(_final(StageTimes(audio_end_at=10.0, asr_done_at=10.4, emitted_at=10.5)))
    assert tracker.latest == UtteranceLatency(recognition_s=0.5)
    assert tracker.observe(_translation(StageTimes(asr_done_at=10.4, translation_done_at=10.7)))
    assert tracker.latest.translation_s is not None
    assert abs(tracker.latest.translation_s - 0.3) < 1e-9
    tracker.observe(_final(StageTimes(vad_end_at=20.0, asr_done_at=20.25)))  # no audio stamp
    assert tracker.latest == UtteranceLatency(recognition_s=0.25)
    assert [name for name, _ in tracker.latest.parts()] == ["ASR"]


def test_speech_latency_prefers_playback_start() -> None:
    tracker = LatencyTracker()
    played = StageTimes(translation_done_at=5.0, playback_start_at=5.8, synthesis_start_at=5.0)
    tracker.observe(SpeechOutput(1, "hallo", "de", "v", 1.0, played))
    assert tracker.latest.speech_s is not None and abs(tracker.latest.speech_s - 0.8) < 1e-9
    written = StageTimes(asr_done_at=None, synthesis_start_at=1.0, synthesis_done_at=1.2)
    tracker.observe(SpeechOutput(2, "hallo", "de", "v", 1.0, written))
    assert tracker.latest.speech_s is not None and abs(tracker.latest.speech_s - 0.2) < 1e-9


def test_events_without_stamps_change_nothing() -> None:
    tracker = LatencyTracker()
    assert not tracker.observe(_final(StageTimes()))
    assert not tracker.observe(_translation(StageTimes(asr_done_at=1.0)))
    assert not tracker.observe(Stats(0.0, 0.0, -60.0, 0, 0.0, 0, 0, None))
    assert tracker.latest == UtteranceLatency()
    tracker.observe(_final(StageTimes(audio_end_at=3.0, asr_done_at=2.0, emitted_at=2.5)))
    assert tracker.latest.recognition_s == 0.0  # clock skew never shows a negative latency


def test_a_revision_and_its_translation_are_no_latency() -> None:
    tracker = LatencyTracker()
    tracker.observe(_final(StageTimes(audio_end_at=10.0, asr_done_at=10.4, emitted_at=10.5)))
    tracker.observe(_translation(StageTimes(asr_done_at=10.4, translation_done_at=10.7)))
    before = tracker.latest
    revised = FinalRevised(
        1, 0.0, 1.0, "hello all", "hello", "en", StageTimes(audio_end_at=10.0, asr_done_at=13.0)
    )
    assert not tracker.observe(revised)
    assert not tracker.observe(_translation(StageTimes(asr_done_at=13.0, translation_done_at=13.9)))
    assert tracker.latest == before
