"""Digital silence (engine.audio.silence): a denied microphone permission delivers exact zeros."""

from __future__ import annotations

import numpy as np

from engine.audio.silence import (
    NO_SIGNAL_MESSAGE,
    DigitalSilenceDetector,
    SilenceOptions,
    SilenceWatch,
)
from engine.audio.sources import ArraySource

SR = 16_000


def blocks(*parts: tuple[str, float]) -> list[np.ndarray]:
    """32 ms blocks: ("zeros", seconds) or ("noise", seconds) at a quiet room's level."""
    rng = np.random.default_rng(0)
    out = []
    for kind, seconds in parts:
        n = int(seconds * SR)
        audio = np.zeros(n, np.float32) if kind == "zeros" else rng.normal(0, 1e-4, n)
        out += [audio[i : i + 512].astype(np.float32) for i in range(0, n, 512)]
    return out


def reports(detector: DigitalSilenceDetector, chunks: list[np.ndarray]) -> list[float]:
    """The times (s) at which the detector reported."""
    at, seen = 0, []
    for chunk in chunks:
        at += len(chunk)
        if detector.feed(chunk):
            seen.append(round(at / SR, 2))
    return seen


def test_three_seconds_of_exact_zeros_is_reported_once():
    detector = DigitalSilenceDetector(SilenceOptions(seconds=3.0))
    assert reports(detector, blocks(("zeros", 10.0))) == [3.01]  # the block that reaches 3 s
    assert detector.silent


def test_a_quiet_room_is_never_digital_silence():
    detector = DigitalSilenceDetector()
    assert reports(detector, blocks(("noise", 10.0))) == []
    assert not detector.silent


def test_sound_resets_the_count_and_rearms_the_report():
    detector = DigitalSilenceDetector(SilenceOptions(seconds=2.0))
    chunks = blocks(("zeros", 1.5), ("noise", 0.5), ("zeros", 2.5), ("noise", 1.0), ("zeros", 2.2))
    assert reports(detector, chunks) == [4.02, 7.52]


def test_zeros_after_the_last_sound_in_a_block_count():
    detector = DigitalSilenceDetector(SilenceOptions(seconds=1.0))
    block = np.zeros(SR, np.float32)
    block[SR // 2 - 1] = 0.1  # sound mid-block: exactly half a second of zeros after it
    assert not detector.feed(block)
    assert detector.feed(np.zeros(SR // 2, np.float32))
    # one zero short of the limit is not silence yet
    detector = DigitalSilenceDetector(SilenceOptions(seconds=1.0))
    block[SR // 2 - 1], block[SR // 2] = 0.0, 0.1
    assert not detector.feed(block) and not detector.feed(np.zeros(SR // 2, np.float32))


def test_watch_tells_once_and_passes_every_block_on():
    audio = np.zeros(5 * SR, np.float32)
    told: list[str] = []
    watch = SilenceWatch(ArraySource(audio, realtime=False), told.append)
    got = list(watch.blocks())
    assert sum(len(b.samples) for b in got) == len(audio)
    assert told == [NO_SIGNAL_MESSAGE]
    assert NO_SIGNAL_MESSAGE == (
        "No signal from the microphone — check the system's microphone permission"
    )
    assert watch.realtime is False and watch.dropped_blocks == 0


def test_only_microphones_are_watched_for_a_denied_permission():
    from engine.audio.silence import is_microphone

    assert is_microphone("mic") and is_microphone("mic:USB Headset")
    assert is_microphone("pulse:alsa_input.usb-headset.analog-mono")
    # system audio is silent whenever nothing plays: never "check the permission"
    assert not is_microphone("pulse:alsa_output.pci-0000_00_1f.3.analog-stereo.monitor")
    assert not is_microphone("system") and not is_microphone("system:Speakers")
    assert not is_microphone("meeting.wav")
