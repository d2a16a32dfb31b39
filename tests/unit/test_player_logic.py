"""Pure logic of speech output: ordering, lag policy, WAV timeline, echo guard, sentences."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from engine.audio.echo import EchoGuard, PlaybackLog, max_normalized_correlation
from engine.audio.player import (
    LagPolicy,
    OrderedSpeechQueue,
    SpeechItem,
    SpeechTimeline,
)
from engine.config import SpeechOptions
from engine.errors import ConfigError, ModelError
from engine.tts import split_sentences
from engine.tts.voices import lang_family, split_ref, voices_for_lang

RATE = 16_000


def item(seg: int, start: float, index: int = 0, last: bool = True) -> SpeechItem:
    return SpeechItem(seg, start, np.zeros(10, np.float32), RATE, f"s{seg}.{index}", index, last)


# ---------------------------------------------------------------- ordering


def test_queue_orders_by_source_time_then_sentence() -> None:
    q = OrderedSpeechQueue()
    for it in (item(3, 6.0), item(1, 2.0, 1, True), item(2, 4.0), item(1, 2.0, 0, False)):
        assert q.push(it)
    out = [(x.segment_id, x.index) for x in (q.pop() for _ in range(4))]
    assert out == [(1, 0), (1, 1), (2, 0), (3, 0)]
    assert len(q) == 0


def test_queue_refuses_speech_older_than_what_played() -> None:
    q = OrderedSpeechQueue()
    q.push(item(5, 10.0))
    q.pop()
    assert not q.push(item(4, 8.0))  # would play out of order
    assert not q.push(item(5, 10.0))  # the same piece twice
    assert q.push(item(6, 12.0))
    assert len(q) == 1


def test_queue_knows_when_newer_segments_wait() -> None:
    q = OrderedSpeechQueue()
    q.push(item(1, 1.0, 1, True))
    assert not q.has_other_segment(1)
    q.push(item(2, 3.0))
    assert q.has_other_segment(1)
    assert q.segment_ids() == {1, 2}


# ---------------------------------------------------------------- lag policy


def test_lag_policy_keeps_natural_pauses_when_on_time() -> None:
    policy = LagPolicy(max_lag_s=8.0, max_pause_s=1.0)
    d = policy.decide(lag_s=2.0, source_gap_s=0.6, newer_waiting=True)
    assert d.play and d.pause_s == pytest.approx(0.6) and d.reason == "on-time"
    assert policy.decide(2.0, 5.0, False).pause_s == pytest.approx(1.0)  # capped
    assert policy.decide(2.0, -0.3, False).pause_s == 0.0  # overlapping source segments


def test_lag_policy_shortens_pauses_before_skipping() -> None:
    policy = LagPolicy(max_lag_s=8.0, max_pause_s=1.0, min_pause_s=0.1)
    pauses = [policy.decide(lag, 1.0, True).pause_s for lag in (4.0, 5.0, 6.0, 7.0, 8.0)]
    assert pauses == sorted(pauses, reverse=True)
    assert pauses[0] == pytest.approx(1.0) and pauses[-1] == pytest.approx(0.1)
    assert all(policy.decide(lag, 1.0, True).play for lag in (4.0, 6.0, 8.0))
    assert policy.decide(6.0, 1.0, True).reason == "catching-up"


def test_lag_policy_skips_stale_speech_only_when_newer_waits() -> None:
    policy = LagPolicy(max_lag_s=8.0)
    stale = policy.decide(lag_s=9.0, source_gap_s=0.5, newer_waiting=True)
    assert not stale.play and stale.reason == "stale"
    newest = policy.decide(lag_s=9.0, source_gap_s=0.5, newer_waiting=False)
    assert newest.play and newest.pause_s <= 0.1
    assert LagPolicy(max_lag_s=0).decide(100.0, 0.5, True).play  # disabled


# ---------------------------------------------------------------- timeline


def test_timeline_places_speech_at_source_times_without_overlap(tmp_path) -> None:
    path = tmp_path / "speech.wav"
    one_second = np.full(RATE, 0.5, np.float32)
    with SpeechTimeline(path, sample_rate=RATE) as timeline:
        a = timeline.add(1.0, one_second, RATE, segment_id=1)
        b = timeline.add(1.5, one_second, RATE, segment_id=2)  # would overlap a
        c = timeline.add(5.0, one_second[: RATE // 2], RATE, segment_id=3)
        timeline.close(total_duration=7.0)
    assert (a.placed_start, b.placed_start, c.placed_start) == (1.0, 2.0, 5.0)
    assert b.delay == pytest.approx(0.5)
    audio, rate = sf.read(path, dtype="float32")
    assert rate == RATE and len(audio) == 7 * RATE
    voiced = np.abs(audio) > 0.25
    assert not voiced[:RATE].any()  # silence before the first piece
    assert voiced[RATE : 3 * RATE].all()  # a then b back to back
    assert not voiced[3 * RATE : 5 * RATE].any()
    assert voiced[5 * RATE : int(5.5 * RATE)].all()
    assert not voiced[int(5.5 * RATE) :].any()


def test_timeline_resamples_to_its_rate(tmp_path) -> None:
    path = tmp_path / "speech.wav"
    timeline = SpeechTimeline(path, sample_rate=RATE)
    placed = timeline.add(0.0, np.zeros(22_050, np.float32), 22_050)
    timeline.close()
    assert placed.duration == pytest.approx(1.0, abs=1e-3)
    assert sf.info(str(path)).frames == pytest.approx(RATE, abs=2)


# ---------------------------------------------------------------- echo guard


def noise(seconds: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.2, int(seconds * RATE)).astype(np.float32)


def test_playback_log_intervals() -> None:
    log = PlaybackLog(RATE)
    log.add(100.0, noise(1.0, 1))
    assert log.is_speaking(100.5) and not log.is_speaking(101.2)
    assert log.speaking_between(101.1, 101.2, tail_s=0.3)
    assert not log.speaking_between(101.4, 101.5, tail_s=0.3)
    assert log.last_end() == pytest.approx(101.0)


def test_mute_capture_silences_frames_while_speaking_plus_tail() -> None:
    log = PlaybackLog(RATE)
    log.add(10.0, noise(1.0, 2))
    guard = EchoGuard(log, "mute-capture", tail_s=0.3)
    frame = np.ones(512, np.float32)  # 32 ms
    assert guard.filter_frame(frame, 9.0) is frame
    assert not guard.filter_frame(frame, 10.5).any()
    assert not guard.filter_frame(frame, 11.2).any()  # inside the tail
    assert guard.filter_frame(frame, 11.4).all()
    assert guard.muted_frames == 2
    assert not guard.should_drop_segment(frame)  # this policy never drops segments
    off = EchoGuard(log, "off")
    assert off.filter_frame(frame, 10.5) is frame


def test_correlate_drops_echo_and_keeps_other_speech() -> None:
    played = noise(2.0, 3)
    log = PlaybackLog(RATE)
    log.add(50.0, played)
    guard = EchoGuard(log, "correlate", threshold=0.5)
    # The echo: delayed by 0.18 s, quieter, with room noise, and padded like a VAD segment.
    echo = np.concatenate([np.zeros(3000, np.float32), 0.3 * played, np.zeros(2000, np.float32)])
    echo = echo + noise(len(echo) / RATE, 4) * 0.05
    assert guard.filter_frame(np.ones(512, np.float32), 50.5).all()  # capture untouched
    assert guard.should_drop_segment(echo, start_at=50.0, end_at=50.0 + len(echo) / RATE)
    assert guard.last_similarity > 0.8
    assert guard.should_drop_segment(echo)  # no stamps: searched in the recent history
    other = noise(2.0, 5)
    assert not guard.should_drop_segment(other, start_at=50.0, end_at=52.0)
    assert guard.last_similarity < 0.2
    assert guard.dropped_segments == 2


def test_correlate_with_nothing_played_keeps_everything() -> None:
    guard = EchoGuard(PlaybackLog(RATE), "correlate")
    assert not guard.should_drop_segment(noise(1.0, 6))
    assert guard.similarity(noise(1.0, 6), 0.0, 1.0) == 0.0


def test_normalized_correlation_bounds() -> None:
    a = noise(0.5, 7)
    assert max_normalized_correlation(a, a) == pytest.approx(1.0, abs=1e-6)
    assert max_normalized_correlation(a, -2 * a) < 0.01
    assert max_normalized_correlation(np.zeros(100), a) == 0.0
    assert max_normalized_correlation(a, np.zeros(0)) == 0.0


def test_unknown_echo_policy_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="mute-capture"):
        EchoGuard(PlaybackLog(), "loud")


# ---------------------------------------------------------------- text and voices


def test_split_sentences() -> None:
    assert split_sentences("Hello there. It costs 3.5 euros! Really? yes") == [
        "Hello there.",
        "It costs 3.5 euros!",
        "Really?",
        "yes",
    ]
    assert split_sentences("你好。今天天气很好！") == ["你好。", "今天天气很好！"]
    assert split_sentences("  ") == []
    assert split_sentences("Dr. Smith met Mr. Jones. They talked.") == [
        "Dr. Smith met Mr. Jones.",
        "They talked.",
    ]


def test_voice_refs() -> None:
    assert split_ref("/v/en_US-libritts-high.onnx#12") == ("/v/en_US-libritts-high.onnx", "12")
    assert split_ref("/a#b/voice.onnx") == ("/a#b/voice.onnx", None)
    assert lang_family("en_US") == lang_family("EN-gb") == "en"


def test_missing_voice_names_a_voice_to_download(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="de_DE-thorsten-medium"):
        voices_for_lang(SpeechOptions(), "de")
    assert voices_for_lang(SpeechOptions(voices={"de": ["a.onnx", "b.onnx"]}), "de-DE") == [
        "a.onnx",
        "b.onnx",
    ]


def _fake_voice(directory, name: str, speakers: int = 1) -> str:
    import json

    model = directory / f"{name}.onnx"
    model.write_bytes(b"")  # never loaded here: voice choice only reads the config
    config = {
        "language": {"family": "en"},
        "num_speakers": speakers,
        "speaker_id_map": {f"p{i}": i for i in range(speakers)} if speakers > 1 else {},
    }
    model.with_name(model.name + ".json").write_text(json.dumps(config))
    return str(model)


def test_distinct_voices_per_speaker_are_stable(tmp_path) -> None:
    from engine.tts.piper_local import PiperSynthesizer

    a, b = _fake_voice(tmp_path, "a"), _fake_voice(tmp_path, "b")
    synth = PiperSynthesizer(SpeechOptions(per_speaker_voices=True, voices={"en": [a, b]}))
    picks = [synth.voice_for_speaker("en", s) for s in ("S1", "S2", "S3", "S1", "Alice")]
    assert picks == [a, b, a, a, b]
    assert synth.voice_for_speaker("en", None) is None
    off = PiperSynthesizer(SpeechOptions(per_speaker_voices=False, voices={"en": [a, b]}))
    assert off.voice_for_speaker("en", "S1") is None


def test_multi_speaker_voice_gives_each_speaker_its_own_speaker_id(tmp_path) -> None:
    from engine.tts.piper_local import PiperSynthesizer, speaker_index
    from engine.tts.voices import find_voice

    multi = _fake_voice(tmp_path, "multi", speakers=3)
    synth = PiperSynthesizer(SpeechOptions(per_speaker_voices=True, voices={"en": multi}))
    picks = [synth.voice_for_speaker("en", s) for s in ("S1", "S2", "S3", "S4")]
    assert picks == [f"{multi}#0", f"{multi}#1", f"{multi}#2", f"{multi}#0"]
    voice = find_voice(multi)
    assert speaker_index(voice, "2") == 2 and speaker_index(voice, "p1") == 1
    with pytest.raises(ConfigError, match="no speaker"):
        speaker_index(voice, "nobody")
    with pytest.raises(ConfigError, match="0..2"):
        speaker_index(voice, "7")


def test_echo_guard_from_options() -> None:
    options = SpeechOptions(echo_guard="correlate", echo_tail_s=0.5, echo_threshold=0.7)
    guard = EchoGuard.from_options(options, PlaybackLog(RATE))
    assert (guard.policy, guard.tail_s, guard.threshold) == ("correlate", 0.5, 0.7)


def test_pactl_short_listing_is_parsed() -> None:
    from engine.audio.pulse import _from_short

    text = (
        "0\talsa_output.pci.analog-stereo.monitor\tmodule-alsa-card.c\ts16le 2ch 44100Hz\tIDLE\n"
        "1\talsa_input.pci.analog-stereo\tmodule-alsa-card.c\ts16le 2ch 48000Hz\tSUSPENDED\n"
    )
    monitor, mic = _from_short(text, "source")
    assert monitor.is_monitor and monitor.sample_rate == 44_100 and monitor.channels == 2
    assert not mic.is_monitor and mic.state == "suspended" and mic.index == 1


# ---------------------------------------------------------------- the pipeline's speech stage


class _FakeSynth:
    """Two 'sentences' of 0.5 s noise per text; records the calls."""

    backend_in_use = "local"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def warm_up(self, lang):
        pass

    def close(self):
        pass

    def synthesize(self, text, lang, voice=None):
        from engine.tts import SpeechChunk, split_sentences

        self.calls.append((text, lang, voice))
        for i, sentence in enumerate(split_sentences(text)):
            yield SpeechChunk(noise(0.5, i), RATE, sentence, i, "/v/en_US-x-medium.onnx")

    def voice_for_speaker(self, lang, speaker):
        return None


class _FakePlayer:
    """Plays instantly: 'start' when the first sentence arrives; segment 2 is skipped."""

    def __init__(self) -> None:
        self.log = PlaybackLog(RATE)
        self.on_event = None
        self.stopped = None
        self.error = None

    def play(self, segment_id, chunks, *, source_start, source_end=None):
        from engine.audio.player import PlaybackEvent

        for i, _ in enumerate(chunks):
            if i == 0:
                kind = "skipped" if segment_id == 2 else "start"
                self.on_event(PlaybackEvent(kind, segment_id, 1000.0 + segment_id))
        return i + 1

    def stop(self, *, drain=False, timeout=30.0):
        self.stopped = drain


def _final(seg: int, start: float, text: str, lang: str | None = "en"):
    from engine.events import Final, StageTimes

    return Final(seg, start, start + 1.0, text, lang, StageTimes(asr_done_at=1.0))


def test_speech_stage_writes_the_timeline_and_reports_each_segment(tmp_path) -> None:
    from engine.events import StageTimes, Translation
    from engine.tts.stage import SpeechStage

    events = []
    synth = _FakeSynth()
    stage = SpeechStage(
        SpeechOptions(),
        emit=events.append,
        speech_output=tmp_path / "s.wav",
        lang="en",
        synthesizer=synth,
        warm_up=False,
    )
    stage.speak(_final(0, 0.5, "Hello there. How are you?"))
    translation = Translation(
        1, 3.0, 4.0, "Hola.", "es", "Hi.", "en", None, "m", {}, StageTimes(translation_done_at=2.0)
    )
    stage.speak(_final(1, 3.0, "Hola.", "es"), translation)
    stage.speak(_final(2, 5.0, "   "))  # nothing to say
    stage.drain(total_duration=6.0)
    assert [c[:2] for c in synth.calls] == [("Hello there. How are you?", "en"), ("Hi.", "en")]
    assert [(e.segment_id, e.text, e.skipped) for e in events] == [
        (0, "Hello there. How are you?", False),
        (1, "Hi.", False),
    ]
    assert events[0].voice == "en_US-x-medium" and events[0].duration == pytest.approx(1.0)
    assert events[1].times.translation_done_at == 2.0
    for e in events:
        assert e.times.synthesis_done_at >= e.times.synthesis_start_at
        assert e.times.playback_start_at is None
    audio, rate = sf.read(tmp_path / "s.wav", dtype="float32")
    assert rate == 22_050 and len(audio) == 6 * rate  # padded to the source length
    voiced = np.abs(audio) > 0.01
    assert not voiced[: int(0.45 * rate)].any() and voiced[int(0.55 * rate)]
    assert voiced[int(3.05 * rate)] and not voiced[int(4.1 * rate) :].any()
    assert stage.backlog == 0


def test_speech_stage_reports_playback_start_and_skips() -> None:
    from engine.tts.stage import SpeechStage

    events = []
    player = _FakePlayer()
    stage = SpeechStage(
        SpeechOptions(play=True, echo_guard="correlate"),
        emit=events.append,
        synthesizer=_FakeSynth(),
        player=player,
        warm_up=False,
    )
    assert stage.echo_guard.policy == "correlate" and stage.echo_guard.log is player.log
    stage.speak(_final(1, 0.0, "One."))
    stage.speak(_final(2, 2.0, "Two."))
    stage.drain()
    assert player.stopped is True
    assert [(e.segment_id, e.skipped, e.times.playback_start_at) for e in events] == [
        (1, False, 1001.0),
        (2, True, None),
    ]


def test_speech_stage_reports_a_lost_device_once_then_goes_on_without_it() -> None:
    from engine.errors import DeviceError
    from engine.tts.stage import SpeechStage

    events = []
    player = _FakePlayer()
    player.error = DeviceError("The audio output stopped unexpectedly (device removed?).")
    stage = SpeechStage(
        SpeechOptions(play=True),
        emit=events.append,
        synthesizer=_FakeSynth(),
        player=player,
        warm_up=False,
    )
    with pytest.raises(DeviceError, match="stopped unexpectedly"):
        stage.speak(_final(1, 0.0, "One."))
    stage.speak(_final(2, 2.0, "Two."))
    assert [(e.segment_id, e.skipped) for e in events] == [(2, False)]
