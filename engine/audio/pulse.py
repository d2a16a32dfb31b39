"""PulseAudio / PipeWire-pulse devices, listed with `pactl` (Linux).

PortAudio (sounddevice) only sees the `pulse` and `default` ALSA devices, never the individual
PulseAudio sources and sinks. To offer them (microphones and `.monitor` sources, i.e. "what
the computer is playing") we list them with `pactl` and open the `pulse` device with the
PULSE_SOURCE / PULSE_SINK environment variables naming the one chosen (`use_source`,
`use_sink`). Listing never raises: without pactl or a server it returns an empty list.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)

PULSE_DEVICE = "pulse"  # the PortAudio/ALSA device that routes to PulseAudio


@dataclass(frozen=True)
class PulseDevice:
    """A PulseAudio source (capture) or sink (playback)."""

    name: str  # e.g. "alsa_input.pci-0000_00_1f.3.analog-stereo", "test_sink.monitor"
    description: str
    kind: str  # "source" | "sink"
    is_monitor: bool  # a sink's monitor: captures what that sink plays
    sample_rate: int | None = None
    channels: int | None = None
    state: str = ""
    index: int | None = None

    @property
    def label(self) -> str:
        """Human label for pickers."""
        desc = self.description or self.name
        return f"{desc} (system audio)" if self.is_monitor and "Monitor" not in desc else desc


def pactl_available() -> bool:
    return shutil.which("pactl") is not None


def _pactl(*args: str, timeout: float = 3.0) -> str | None:
    if not pactl_available():
        return None
    try:
        done = subprocess.run(
            ["pactl", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("pactl %s failed: %s", " ".join(args), exc)
        return None
    if done.returncode != 0:
        log.debug("pactl %s: %s", " ".join(args), done.stderr.strip())
        return None
    return done.stdout


_SPEC = re.compile(r"(?P<fmt>\S+)\s+(?P<ch>\d+)ch\s+(?P<rate>\d+)Hz")


def _parse_spec(spec: str) -> tuple[int | None, int | None]:
    match = _SPEC.search(spec or "")
    if not match:
        return None, None
    return int(match["rate"]), int(match["ch"])


def _from_json(text: str, kind: str) -> list[PulseDevice]:
    devices = []
    for entry in json.loads(text):
        rate, channels = _parse_spec(str(entry.get("sample_specification", "")))
        name = str(entry.get("name", ""))
        monitor_of = entry.get("monitor_of_sink")
        is_monitor = kind == "source" and (
            (monitor_of not in (None, "", "n/a")) or name.endswith(".monitor")
        )
        devices.append(
            PulseDevice(
                name=name,
                description=str(entry.get("description", "") or name),
                kind=kind,
                is_monitor=is_monitor,
                sample_rate=rate,
                channels=channels,
                state=str(entry.get("state", "")).lower(),
                index=entry.get("index"),
            )
        )
    return devices


def _from_short(text: str, kind: str) -> list[PulseDevice]:
    """`pactl list short sources|sinks`: index, name, driver, spec, state (tab separated)."""
    devices = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) < 2:
            continue
        rate, channels = _parse_spec(cols[3] if len(cols) > 3 else "")
        devices.append(
            PulseDevice(
                name=cols[1],
                description=cols[1],
                kind=kind,
                is_monitor=kind == "source" and cols[1].endswith(".monitor"),
                sample_rate=rate,
                channels=channels,
                state=cols[4].lower() if len(cols) > 4 else "",
                index=int(cols[0]) if cols[0].isdigit() else None,
            )
        )
    return devices


def _list(kind: str) -> list[PulseDevice]:
    plural = f"{kind}s"
    text = _pactl("--format=json", "list", plural)
    if text:
        try:
            return _from_json(text, kind)
        except (ValueError, TypeError, AttributeError):
            log.debug("unexpected pactl JSON; falling back to the short listing")
    text = _pactl("list", "short", plural)
    return _from_short(text, kind) if text else []


# the description of every source seen in this process: a source that is away now (unplugged)
# is still named as people know it ("Test_microphone", not "alsa_input.usb-…")
_descriptions: dict[str, str] = {}


def list_sources(include_monitors: bool = True) -> list[PulseDevice]:
    """Capture sources (microphones, and `.monitor` sources of every sink when asked)."""
    sources = _list("source")
    _descriptions.update((d.name, d.description) for d in sources if d.description)
    return [d for d in sources if include_monitors or not d.is_monitor]


def known_description(name: str) -> str | None:
    """The description source `name` had when last listed (None: never seen)."""
    return _descriptions.get(name)


def list_sinks() -> list[PulseDevice]:
    return _list("sink")


def server_info() -> str | None:
    """`pactl info` (None without pactl or a server)."""
    return _pactl("info")


def default_source() -> str | None:
    text = _pactl("get-default-source")
    return text.strip() or None if text else None


def default_sink() -> str | None:
    text = _pactl("get-default-sink")
    return text.strip() or None if text else None


def use_source(name: str | None) -> str:
    """Route the `pulse` device's capture of this process to source `name` (None = default).

    Returns the PortAudio device name to open. Affects streams opened after the call.
    """
    if name:
        os.environ["PULSE_SOURCE"] = name
    else:
        os.environ.pop("PULSE_SOURCE", None)
    return PULSE_DEVICE


def use_sink(name: str | None) -> str:
    """Route the `pulse` device's playback of this process to sink `name` (None = default)."""
    if name:
        os.environ["PULSE_SINK"] = name
    else:
        os.environ.pop("PULSE_SINK", None)
    return PULSE_DEVICE


# ---------------------------------------------------------------- our own capture streams
TAG_PROPERTY = "dragoman.capture"  # set on our capture stream through PULSE_PROP


@dataclass(frozen=True)
class SourceOutput:
    """A capture stream as the server sees it: `index` (the source-output) records `source`
    (a source index); `tag` is our TAG_PROPERTY when the stream is one of ours."""

    index: int
    source: int
    tag: str | None


def _outputs_from_json(text: str) -> list[SourceOutput]:
    outputs = []
    for entry in json.loads(text):
        props = entry.get("properties") or {}
        tag = props.get(TAG_PROPERTY)
        outputs.append(
            SourceOutput(int(entry["index"]), int(entry["source"]), str(tag) if tag else None)
        )
    return outputs


_OUTPUT_SOURCE = re.compile(r"^\s+Source: (\d+)", re.M)
_OUTPUT_TAG = re.compile(r"^\s+" + re.escape(TAG_PROPERTY) + r' = "(.*)"', re.M)


def _outputs_from_text(text: str) -> list[SourceOutput]:
    """`pactl list source-outputs` (long text form, for a pactl without --format=json)."""
    outputs = []
    for chunk in re.split(r"^Source Output #", text, flags=re.M)[1:]:
        index = chunk.split("\n", 1)[0].strip()
        source = _OUTPUT_SOURCE.search(chunk)
        tag = _OUTPUT_TAG.search(chunk)
        if index.isdigit() and source:
            outputs.append(SourceOutput(int(index), int(source[1]), tag[1] if tag else None))
    return outputs


def list_source_outputs() -> list[SourceOutput]:
    """Every capture stream on the server (empty without pactl or a server)."""
    text = _pactl("--format=json", "list", "source-outputs")
    if text:
        try:
            return _outputs_from_json(text)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.debug("unexpected pactl JSON; falling back to the text listing")
    text = _pactl("list", "source-outputs")
    return _outputs_from_text(text) if text else []


def move_source_output(index: int, source: str) -> bool:
    """Move capture stream `index` to source `source`; False when the server refused."""
    return _pactl("move-source-output", str(index), source) is not None


def tagged_environment(source: str | None, tag: str) -> dict[str, str]:
    """The PULSE_* variables that make a `pulse` stream opened now record `source` (None: the
    default) and carry TAG_PROPERTY=tag, so that we can find it on the server later. The
    user's own PULSE_PROP is kept."""
    env = {
        "PULSE_PROP": " ".join(
            p for p in (os.environ.get("PULSE_PROP", ""), f"{TAG_PROPERTY}={tag}") if p
        )
    }
    if source:
        env["PULSE_SOURCE"] = source
    return env
