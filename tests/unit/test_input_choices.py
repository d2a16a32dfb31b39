"""The input picker's choices (app/devices.py is Qt-free): on Windows and macOS the computer's
own sound comes from `soundcard`, each device once; on Linux from the PulseAudio listing only."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from app import devices
from engine.audio import platform_capture


@dataclass
class _Mic:
    id: str
    name: str
    isloopback: bool


def _soundcard(*mics: _Mic) -> SimpleNamespace:
    """A scripted `soundcard` module: what its all_microphones() returns on Windows."""
    return SimpleNamespace(all_microphones=lambda include_loopback=False: list(mics))


def test_windows_loopbacks_become_system_audio_choices(monkeypatch):
    backend = _soundcard(
        _Mic("{0.0.1}", "Headset Microphone (USB)", False),
        _Mic("{0.0.0}", "Speakers (Realtek)", True),
        _Mic("{0.0.0}", "Speakers (Realtek)", True),  # listed twice by two host APIs
    )
    monkeypatch.setattr(devices, "_pulse_devices", lambda kind: [])
    monkeypatch.setattr(devices, "_portaudio", lambda kind: [])
    monkeypatch.setattr(devices.sys, "platform", "win32")
    monkeypatch.setattr(platform_capture, "load_backend", lambda: backend)
    monkeypatch.setattr(platform_capture, "current_platform", lambda: "win32")
    choices = devices.input_choices()
    system = [c for c in choices if c.value and c.value.startswith("system:")]
    assert [(c.label, c.value) for c in system] == [
        ("System audio: Speakers (Realtek)", "system:Speakers (Realtek)")
    ]
    assert (
        devices.describe_input("system:Speakers (Realtek)") == "system audio (Speakers (Realtek))"
    )


def test_linux_lists_system_audio_from_pulseaudio_only(monkeypatch):
    """soundcard is never asked on Linux: libpulse aborts the process without a sound server."""
    monitor = SimpleNamespace(name="sink.monitor", description="Monitor of Sink", is_monitor=True)
    monkeypatch.setattr(devices.sys, "platform", "linux")
    monkeypatch.setattr(devices, "_pulse_devices", lambda kind: [monitor])
    monkeypatch.setattr(devices, "_portaudio", lambda kind: [])
    monkeypatch.setattr(
        devices, "_system_audio", lambda: (_ for _ in ()).throw(AssertionError("not asked"))
    )
    values = [c.value for c in devices.input_choices()]
    assert values == ["mic", "pulse:sink.monitor"]


def test_no_soundcard_means_no_system_audio_choice_and_no_error(monkeypatch):
    def unavailable():
        raise platform_capture.DeviceError("System audio capture is unavailable")

    monkeypatch.setattr(devices, "_pulse_devices", lambda kind: [])
    monkeypatch.setattr(devices, "_portaudio", lambda kind: [])
    monkeypatch.setattr(devices.sys, "platform", "darwin")
    monkeypatch.setattr(platform_capture, "load_backend", unavailable)
    assert [c.value for c in devices.input_choices()] == ["mic"]
