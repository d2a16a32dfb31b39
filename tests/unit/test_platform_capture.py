"""System audio per platform (engine.audio.platform_capture) and one device list per platform
(engine.audio.devices), against scripted backends with soundcard's API."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from engine.audio.devices import DeviceInfo, one_entry_per_device
from engine.audio.platform_capture import (
    CAPTURE_RATE,
    SystemAudioSource,
    choose_system_audio,
    list_system_audio,
    open_input,
)
from engine.audio.sources import FileSource
from engine.errors import DeviceError


@dataclass
class Mic:
    """soundcard's _Microphone: id, name, isloopback, recorder()."""

    id: str
    name: str
    isloopback: bool = False
    signal: np.ndarray | None = None
    fail: Exception | None = None

    @contextlib.contextmanager
    def recorder(self, samplerate, channels=None, blocksize=None):
        if self.fail is not None:
            raise self.fail
        position = [0]
        assert samplerate == CAPTURE_RATE and channels == 1

        class Recorder:
            def record(self_, numframes):
                sig = self.signal if self.signal is not None else np.zeros(numframes)
                chunk = np.resize(np.roll(sig, -position[0]), numframes)
                position[0] += numframes
                return chunk.astype(np.float32).reshape(-1, 1)

        yield Recorder()


@dataclass
class Backend:
    """The few soundcard functions the capture code calls, recording how it called them."""

    mics: list[Mic]
    speaker: str | None = None
    calls: list[tuple] = field(default_factory=list)

    def all_microphones(self, include_loopback=False):
        self.calls.append(("all_microphones", include_loopback))
        return [m for m in self.mics if include_loopback or not m.isloopback]

    def get_microphone(self, id, include_loopback=False):
        return next(m for m in self.mics if m.id == id)

    def default_speaker(self):
        if self.speaker is None:
            raise RuntimeError("no default speaker")
        return type("Speaker", (), {"name": self.speaker})()


LINUX = Backend(
    [
        Mic("alsa_input.usb-mic", "USB Microphone"),
        Mic("alsa_output.hdmi.monitor", "Monitor of HDMI Audio", isloopback=True),
        Mic("alsa_output.analog.monitor", "Monitor of Built-in Audio", isloopback=True),
    ],
    speaker="Built-in Audio",
)
WINDOWS = Backend(
    [
        Mic("{mic}", "Microphone (Realtek Audio)"),
        Mic("{spk}", "Speakers (Realtek Audio)", isloopback=True),
        Mic("{hp}", "Headphones (USB Headset)", isloopback=True),
    ],
    speaker="Headphones (USB Headset)",
)
MACOS = Backend(
    [Mic("41", "MacBook Pro Microphone"), Mic("57", "BlackHole 2ch")],
    speaker="MacBook Pro Speakers",
)


def test_linux_lists_the_monitors_as_system_audio():
    devices = list_system_audio(LINUX, "linux")
    assert [d.label for d in devices] == [
        "System audio (HDMI Audio)",
        "System audio (Built-in Audio)",
    ]
    assert all(d.loopback for d in devices)
    assert choose_system_audio(LINUX, platform="linux").id == "alsa_output.analog.monitor"


def test_windows_records_the_default_outputs_wasapi_loopback():
    chosen = choose_system_audio(WINDOWS, platform="win32")
    assert chosen.id == "{hp}" and chosen.label == "System audio (Headphones (USB Headset))"
    assert choose_system_audio(WINDOWS, "speakers", platform="win32").id == "{spk}"
    with pytest.raises(DeviceError, match=r"No system audio source named 'hdmi' \(found: "):
        choose_system_audio(WINDOWS, "hdmi", platform="win32")


def test_macos_names_blackhole_system_audio_and_says_what_to_install_without_it():
    backend = Backend(list(MACOS.mics), MACOS.speaker)
    devices = list_system_audio(backend, "darwin")
    assert [(d.id, d.label, d.loopback) for d in devices] == [
        ("57", "System audio (BlackHole 2ch)", False)
    ]
    assert backend.calls == [("all_microphones", False)]  # no loopback API on macOS
    bare = Backend([Mic("41", "MacBook Pro Microphone")])
    with pytest.raises(DeviceError, match="install a loopback device such as BlackHole"):
        choose_system_audio(bare, platform="darwin")


def _infos(*rows):
    return [
        DeviceInfo(i, name, 2, 48000.0, default, api) for i, (name, api, default) in enumerate(rows)
    ]


def test_windows_lists_each_device_once():
    devices = _infos(
        ("Microsoft Sound Mapper - Input", "MME", False),
        ("Microphone (Realtek High Defini", "MME", True),
        ("Primary Sound Capture Driver", "Windows DirectSound", False),
        ("Microphone (Realtek High Definition Audio)", "Windows DirectSound", False),
        ("Microphone (Realtek High Definition Audio)", "Windows WASAPI", False),
        ("Headset (USB Audio)", "Windows WASAPI", False),
        ("Microphone (Realtek HD Audio Mic input)", "Windows WDM-KS", False),
    )
    kept = one_entry_per_device(devices, "win32")
    assert [(d.name, d.is_default) for d in kept] == [
        ("Microphone (Realtek High Definition Audio)", True),  # the MME default, found again
        ("Headset (USB Audio)", False),
    ]
    linux = _infos(("pulse", "ALSA", True), ("HDA Intel PCH: ALC (hw:0,0)", "ALSA", False))
    assert one_entry_per_device(linux, "linux") == linux
    mme_only = _infos(("Microphone", "MME", True))
    assert one_entry_per_device(mme_only, "win32") == mme_only


def test_system_audio_source_delivers_16k_blocks_of_what_plays():
    t = np.arange(CAPTURE_RATE) / CAPTURE_RATE
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    backend = Backend([Mic("out.monitor", "Monitor of Out", isloopback=True, signal=tone)], "Out")
    source = SystemAudioSource(backend=backend, platform="linux")
    assert source.name == "System audio (Out)" and source.hears_room
    got = []
    for block in source.blocks():
        got.append(block.samples)
        if sum(map(len, got)) >= 16_000:
            source.close()
    audio = np.concatenate(got)[4000:16_000]
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 16_000 / len(audio) - 440) < 5
    assert 0.3 < np.sqrt(np.mean(audio**2)) < 0.4  # 0.5 / sqrt(2)
    source.close()  # idempotent
    assert not any(t.name == "system-audio" for t in threading.enumerate())


def test_a_device_that_cannot_open_is_one_device_error():
    broken = Mic("x.monitor", "Monitor of X", isloopback=True, fail=RuntimeError("busy"))
    with pytest.raises(DeviceError, match=r"Cannot record System audio \(X\): busy"):
        SystemAudioSource(backend=Backend([broken]), platform="linux")


def test_open_input_routes_system_audio_and_everything_else(speech_dir, monkeypatch):
    import engine.audio.platform_capture as pc

    monkeypatch.setattr(pc, "load_backend", lambda: LINUX)
    source = open_input("system:hdmi")
    try:
        assert (
            isinstance(source, SystemAudioSource) and source.device.id == "alsa_output.hdmi.monitor"
        )
    finally:
        source.close()
    assert isinstance(open_input(str(speech_dir / "goforward.wav")), FileSource)
