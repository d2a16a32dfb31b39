"""Choices for the input and output pickers (Qt-free; never raises).

Inputs: the default microphone, every PortAudio capture device, and on Linux every PulseAudio /
PipeWire source including `.monitor` sources ("system audio"); on Windows and macOS the
computer's own sound as `soundcard` finds it (WASAPI loopback, BlackHole). Outputs likewise.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FILE_CHOICE = "__choose_file__"
_HIDDEN_PA_NAMES = {"pulse", "default", "pipewire", "sysdefault", "dmix", "dsnoop"}


@dataclass(frozen=True)
class Choice:
    label: str
    value: str | None  # input spec / output device; None = system default output


def _pulse_devices(kind: str) -> list:
    if not sys.platform.startswith("linux"):
        return []
    try:
        from engine.audio import pulse

        return pulse.list_sources() if kind == "source" else pulse.list_sinks()
    except Exception:  # listing is best effort
        log.debug("listing PulseAudio %ss failed", kind, exc_info=True)
        return []


def _portaudio(kind: str) -> list:
    try:
        from engine.audio import devices

        return devices.list_input_devices() if kind == "input" else devices.list_output_devices()
    except Exception:
        log.debug("listing PortAudio %s devices failed", kind, exc_info=True)
        return []


def _system_audio() -> list:
    """The computer's own sound through `soundcard` (WASAPI loopback on Windows, BlackHole-style
    devices on macOS, monitors through libpulse where `pactl` is missing)."""
    try:
        from engine.audio import platform_capture

        return platform_capture.list_system_audio(platform_capture.load_backend())
    except Exception:  # listing is best effort
        log.debug("listing system audio devices failed", exc_info=True)
        return []


def input_choices(recent_files: list[str] | None = None) -> list[Choice]:
    choices = [Choice("Default microphone", "mic")]
    pulse_sources = _pulse_devices("source")
    for dev in _portaudio("input"):
        if pulse_sources and dev.name.lower() in _HIDDEN_PA_NAMES:
            continue  # the PulseAudio sources below are the precise version of these
        choices.append(Choice(f"Microphone: {dev.name}", f"mic:{dev.name}"))
    mics = [d for d in pulse_sources if not d.is_monitor]
    monitors = [d for d in pulse_sources if d.is_monitor]
    for dev in mics:
        choices.append(Choice(f"Microphone: {dev.description or dev.name}", f"pulse:{dev.name}"))
    for dev in monitors:
        desc = (dev.description or dev.name).removeprefix("Monitor of ")
        choices.append(Choice(f"System audio: {desc}", f"pulse:{dev.name}"))
    # Windows and macOS: the computer's own sound as soundcard finds it. Not on Linux, where
    # the PulseAudio listing above has it, and libpulse aborts the process when no sound
    # server answers.
    if not sys.platform.startswith("linux"):
        for device in _system_audio():
            shown = device.label.removeprefix("System audio (").removesuffix(")")
            choices.append(Choice(f"System audio: {shown}", f"system:{device.name}"))
    for path in recent_files or []:
        choices.append(Choice(f"File: {Path(path).name}", path))
    return choices


def output_choices() -> list[Choice]:
    choices = [Choice("Default output", None)]
    sinks = _pulse_devices("sink")
    for dev in _portaudio("output"):
        if sinks and dev.name.lower() in _HIDDEN_PA_NAMES:
            continue
        choices.append(Choice(dev.name, dev.name))
    for dev in sinks:
        choices.append(Choice(dev.description or dev.name, f"pulse:{dev.name}"))
    return choices


def describe_input(spec: str) -> str:
    """Short human description of an input spec (for the placeholder and the status)."""
    if spec == "mic":
        return "the default microphone"
    if spec.startswith("mic:"):
        return spec.removeprefix("mic:")
    if spec.startswith("pulse:"):
        name = spec.removeprefix("pulse:")
        return (
            f"system audio ({name.removesuffix('.monitor')})" if name.endswith(".monitor") else name
        )
    if spec == "system":
        return "system audio"
    if spec.startswith("system:"):
        return f"system audio ({spec.removeprefix('system:').removeprefix('Monitor of ')})"
    return Path(spec).name
