"""Listing audio devices (sounddevice / PortAudio)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
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
    found = [
        DeviceInfo(
            i, d["name"], d[key], d["default_samplerate"], i == default, apis[d["hostapi"]]["name"]
        )
        for i, d in enumerate(devices)
        if d[key] > 0
    ]
    return one_entry_per_device(found, sys.platform)


def list_input_devices() -> list[DeviceInfo]:
    return _query("input")


def list_output_devices() -> list[DeviceInfo]:
    return _query("output")


# PortAudio lists each physical device once per host API; keep the first API present.
PREFERRED_HOST_APIS: dict[str, tuple[str, ...]] = {
    "win32": ("Windows WASAPI", "MME", "Windows DirectSound", "Windows WDM-KS"),
    "darwin": ("Core Audio",),
}


def one_entry_per_device(devices: Sequence[DeviceInfo], platform: str) -> list[DeviceInfo]:
    """PortAudio lists a Windows device once per host API (MME, DirectSound, WASAPI, WDM-KS):
    keep the devices of the first preferred API present (WASAPI), so each appears once."""
    preferred = PREFERRED_HOST_APIS.get(platform)
    if not preferred:
        return list(devices)
    present = {d.hostapi for d in devices}
    for api in preferred:
        if api in present:
            chosen = [d for d in devices if d.hostapi == api]
            return _keep_default(chosen, devices)
    return list(devices)


def _keep_default(chosen: list[DeviceInfo], devices: Sequence[DeviceInfo]) -> list[DeviceInfo]:
    """The default device is often an MME entry, whose name PortAudio cuts at 31 characters:
    mark the kept entry whose name it begins."""
    default = next((d for d in devices if d.is_default), None)
    if default is None or any(d.is_default for d in chosen):
        return chosen
    match = next((d for d in chosen if d.name.startswith(default.name)), None)
    return [
        DeviceInfo(d.index, d.name, d.channels, d.default_samplerate, True, d.hostapi)
        if d is match
        else d
        for d in chosen
    ]
