"""Listing audio devices (sounddevice / PortAudio)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import DeviceError


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    index: int
    name: str
    channels: int
    default_samplerate: float
    is_default: bool
    hostapi: str = ""


def _query(kind: str) -> list[DeviceInfo]:
    try:
        import sounddevice as sd
    except OSError as exc:  # "PortAudio library not found"
        raise DeviceError(f"Audio system unavailable: {exc} (install libportaudio2)") from exc
    devices = sd.query_devices()
    apis = sd.query_hostapis()
    default = sd.default.device[0 if kind == "input" else 1]
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    return [
        DeviceInfo(
            i, d["name"], d[key], d["default_samplerate"], i == default, apis[d["hostapi"]]["name"]
        )
        for i, d in enumerate(devices)
        if d[key] > 0
    ]


def list_input_devices() -> list[DeviceInfo]:
    return _query("input")


def list_output_devices() -> list[DeviceInfo]:
    return _query("output")
