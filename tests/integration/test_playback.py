"""The speech player and the echo guard on a real audio device (a private PulseAudio null sink).

What the player sends to the sink is recorded from the sink's monitor, independently of the
app (parecord), or captured in-process the way the app captures a microphone (sounddevice on
the `pulse` device, whose default source is the monitor: our own voice comes straight back).
"""

from __future__ import annotations

import os
import threading
import time
from itertools import groupby
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio import pulse as pulse_devices
from engine.audio.echo import EchoGuard
from engine.audio.player import SpeechItem, SpeechPlayer
from engine.config import SpeechOptions
from engine.errors import DeviceError
from tests.audio_env import MonitorCapture, band_energies, pulse_available, pulse_server, tone

pytestmark = [pytest.mark.audio]

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
FREQS = [440.0, 880.0, 1320.0]
TONE_RATE = 22_050


def heard_sequence(path: Path) -> list[tuple[tuple[int, ...], int]]:
    """Runs of (which tones sound together, number of 20 ms frames)."""
    audio, rate = sf.read(path, dtype="float32")
    energies = band_energies(audio, rate, FREQS)
    active = energies > 0.2 * energies.max()
    frames = [tuple(int(i) for i in np.nonzero(row)[0]) for row in active]
    # Silence is left out before grouping, so an output dropout on a loaded machine (the rest
    # of the tone comes late) does not count as a new utterance.
    return [(key, len(list(run))) for key, run in groupby(f for f in frames if f)]


def tone_item(seg: int, start: float, freq: float, seconds: float = 0.6) -> SpeechItem:
    return SpeechItem(
        seg,
        start,
        tone(freq, seconds, TONE_RATE),
        TONE_RATE,
        f"tone {freq:g}",
        0,
        True,
        start + seconds,
    )


class EventLog(list):
    """Playback events as they arrive (from the player's dispatcher thread), with a wait."""

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()

    def append(self, event) -> None:
        with self._cond:
            super().append(event)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 5.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self), timeout), list(self)


def play_and_record(pulse, tmp_path: Path, items: list[SpeechItem], **player_kw):
    recording = tmp_path / "monitor.wav"
    recorder = pulse.start_recording(recording)
    pulse.wait_recorded(recording, 0.2)
    events = EventLog()
    player = SpeechPlayer(
        SpeechOptions(**player_kw.pop("options", {})), on_event=events.append, **player_kw
    )
    for it in items:  # queued before the stream starts, deliberately out of order
        player.enqueue(it)
    player.start()
    try:
        assert player.wait_idle(timeout=20.0)
    finally:
        player.stop()
    pulse.wait_recorded(recording, 0.4)  # the tail of the last tone reached the file
    pulse.stop_recording(recorder)
    return recording, events, player


def test_three_utterances_are_heard_in_order_without_overlap(pulse, tmp_path) -> None:
    items = [tone_item(2, 2.0, FREQS[2]), tone_item(0, 0.0, FREQS[0]), tone_item(1, 1.0, FREQS[1])]
    recording, events, player = play_and_record(pulse, tmp_path, items)

    runs = heard_sequence(recording)
    assert [key for key, _ in runs] == [(0,), (1,), (2,)], runs  # in order, never two at once
    for _, frames in runs:
        assert 25 <= frames <= 32  # each 0.6 s tone heard whole (30 frames of 20 ms)

    kinds = [(e.kind, e.segment_id) for e in events]
    assert kinds == [("start", 0), ("end", 0), ("start", 1), ("end", 1), ("start", 2), ("end", 2)]
    stamps = [e.at for e in events]
    assert stamps == sorted(stamps)
    for start, end in zip(events[::2], events[1::2], strict=True):
        assert end.at > start.at
    assert player.backlog == 0 and not player.is_speaking


def test_speech_arriving_after_later_speech_is_skipped_not_played(pulse, tmp_path) -> None:
    recording = tmp_path / "monitor.wav"
    recorder = pulse.start_recording(recording)
    events = EventLog()
    with SpeechPlayer(on_event=events.append) as player:
        player.enqueue(tone_item(5, 10.0, FREQS[1], 1.0))
        events.wait_for(lambda seen: any(e.kind == "start" for e in seen))
        assert not player.enqueue(tone_item(4, 8.0, FREQS[0]))  # older than what is playing
        assert player.wait_idle(10.0)
    pulse.wait_recorded(recording, 0.3)
    pulse.stop_recording(recorder)
    assert [key for key, _ in heard_sequence(recording)] == [(1,)]
    skipped = [e for e in events if e.kind == "skipped"]
    assert [(e.segment_id, e.reason) for e in skipped] == [(4, "late")]


def test_stale_speech_is_skipped_when_far_behind_the_source(pulse, tmp_path) -> None:
    items = [tone_item(i, float(i), FREQS[i]) for i in range(3)]
    recording, events, player = play_and_record(
        pulse, tmp_path, items, options={"max_lag_s": 4.0}, source_clock=lambda: 60.0
    )
    assert [key for key, _ in heard_sequence(recording)] == [(2,)]  # caught up to the newest
    assert [(e.kind, e.segment_id, e.reason) for e in events] == [
        ("skipped", 0, "stale"),
        ("skipped", 1, "stale"),
        ("start", 2, ""),
        ("end", 2, ""),
    ]
    assert player.skipped == 2


def test_a_named_pulse_sink_plays_and_a_missing_device_is_a_clear_error(pulse, tmp_path) -> None:
    items = [tone_item(0, 0.0, FREQS[1], 0.4)]
    recording, events, _ = play_and_record(pulse, tmp_path, items, device=f"pulse:{pulse.sink}")
    assert [key for key, _ in heard_sequence(recording)] == [(1,)]
    assert os.environ.pop("PULSE_SINK") == pulse.sink
    # The device listing the GUI's pickers use sees the sink and its monitor source.
    assert pulse_devices.default_source() == pulse.monitor
    assert pulse_devices.default_sink() == pulse.sink
    monitor = next(d for d in pulse_devices.list_sources() if d.name == pulse.monitor)
    assert monitor.is_monitor and monitor.sample_rate == pulse.rate and monitor.channels == 1
    assert pulse.monitor not in [d.name for d in pulse_devices.list_sources(False)]
    assert [d.name for d in pulse_devices.list_sinks()] == [pulse.sink]
    with pytest.raises(DeviceError, match="no-such-speaker"):
        SpeechPlayer(device="no-such-speaker").start()


# ------------------------------------------------------------------ echo guard


def speech_segments(audio: np.ndarray) -> list[tuple[int, int]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=0.5, min_speech_duration_ms=250, min_silence_duration_ms=400, speech_pad_ms=100
    )
    return [(s["start"], s["end"]) for s in get_speech_timestamps(audio, options)]


@pytest.mark.slow
def test_echo_guard_ignores_our_own_voice_but_not_a_person(pulse) -> None:
    from engine.tts import create_synthesizer

    synth = create_synthesizer(SpeechOptions())
    synth.warm_up("en")
    lines = [
        "Good morning everybody.",
        "The train leaves at nine o'clock.",
        "Thank you for listening.",
    ]
    with MonitorCapture() as capture:
        time.sleep(0.5)
        with SpeechPlayer() as player:
            for i, line in enumerate(lines):  # synthesised while the previous line plays
                player.play(
                    i, synth.synthesize(line, "en"), source_start=3.0 * i, source_end=3.0 * i + 2.0
                )
            assert player.wait_idle(30.0)
            time.sleep(1.0)
            # A person speaking through the same device while Dragoman is silent.
            pulse.play_file(SHARED / "data" / "speech" / "goforward.wav")
            time.sleep(0.8)
    spoken = [(e.at, e.kind) for e in player.events]
    assert [k for _, k in spoken] == ["start", "end"] * 3

    stamps = np.array([t for t, _ in capture.blocks])
    raw = np.concatenate([b for _, b in capture.blocks])
    rate = capture.rate

    def at(sample: int) -> float:  # monotonic time of a capture sample
        block = min(sample // 512, len(stamps) - 1)
        return float(stamps[block] + (sample - block * 512) / rate)

    person_from = player.events[-1].at + 0.5
    raw_segments = speech_segments(raw)
    echo = [s for s in raw_segments if at(s[1]) < person_from]
    person = [s for s in raw_segments if at(s[0]) >= person_from]
    assert len(echo) >= 3 and len(person) >= 1, raw_segments  # the capture really heard both

    # mute-capture: frames heard while we speak (+ tail) become silence before the VAD.
    mute = EchoGuard(player.log, "mute-capture", tail_s=0.3)
    filtered = np.concatenate([mute.filter_frame(b, t) for t, b in capture.blocks])
    kept = speech_segments(filtered)
    assert kept, "the person's speech must survive"
    assert all(at(start) >= person_from for start, _ in kept), kept  # no echo segment left
    assert mute.muted_frames > 0

    # correlate: whole echo segments are recognised as our voice; the person's is not.
    corr = EchoGuard(player.log, "correlate", threshold=0.5)
    for start, end in echo:
        assert corr.should_drop_segment(raw[start:end], at(start), at(end)), corr.last_similarity
    for start, end in person:
        assert not corr.should_drop_segment(raw[start:end], at(start), at(end)), (
            corr.last_similarity
        )
    assert corr.dropped_segments == len(echo)


@pytest.mark.slow
def test_speech_stage_speaks_finals_in_order_and_reports_speech_timing(pulse, tmp_path) -> None:
    from engine.events import Final, StageTimes
    from engine.tts.stage import SpeechStage

    lines = ["First line.", "Here is the second line.", "And this is the third one."]
    events = []
    recording = tmp_path / "monitor.wav"
    recorder = pulse.start_recording(recording)
    stage = SpeechStage(
        SpeechOptions(play=True), emit=events.append, speech_output=tmp_path / "speech.wav"
    )
    for i, text in enumerate(lines):
        stage.speak(Final(i, 2.0 * i, 2.0 * i + 1.5, text, "en", StageTimes()))
    stage.drain()
    pulse.wait_recorded(recording, 0.3)
    pulse.stop_recording(recorder)

    assert [(e.segment_id, e.text, e.skipped) for e in events] == [
        (i, text, False) for i, text in enumerate(lines)
    ]
    assert all(e.voice == "en_US-joe-medium" and e.lang == "en" for e in events)
    starts = [e.times.playback_start_at for e in events]
    assert starts == sorted(starts)
    for e in events:
        assert e.times.synthesis_start_at < e.times.playback_start_at
        assert e.times.synthesis_done_at >= e.times.synthesis_start_at
    assert stage.echo_guard.policy == "mute-capture" and len(stage.echo_guard.log.items()) == 3
    audio, rate = sf.read(recording, dtype="float32")
    frame = rate // 50
    loud = np.abs(audio[: len(audio) // frame * frame].reshape(-1, frame)).max(axis=1) > 0.05
    assert loud.sum() / 50 > 0.6 * sum(e.duration for e in events)  # the speech was heard
    speech, speech_rate = sf.read(tmp_path / "speech.wav", dtype="float32")
    assert len(speech) / speech_rate >= 4.0 + events[-1].duration - 0.05


def test_losing_the_output_device_mid_speech_is_reported(tmp_path) -> None:
    if not pulse_available():
        pytest.fail("needs pulseaudio, pactl, pacat, parecord and libportaudio2 (see .ci/run)")
    with pulse_server(tmp_path / "own-server") as server:
        events = EventLog()
        player = SpeechPlayer(on_event=events.append)
        player.start()
        try:
            player.enqueue(tone_item(0, 0.0, FREQS[0], 5.0))
            events.wait_for(lambda seen: len(seen) >= 1)
            server.daemon.kill()  # the sound server (the device) disappears mid-utterance
            server.daemon.wait()
            assert not player.wait_idle(timeout=5.0)  # gives up at once instead of hanging
            assert isinstance(player.error, DeviceError)
            assert "stopped unexpectedly" in str(player.error)
            events.wait_for(lambda seen: len(seen) >= 2)  # from the dispatcher thread
            assert [e.kind for e in events] == ["start", "error"]
        finally:
            player.stop()
