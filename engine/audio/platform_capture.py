"""System audio (what the computer plays) on Linux, Windows and macOS, and one device list per
platform.

Microphones are opened through sounddevice (PortAudio, `MicrophoneSource`). PortAudio cannot
record what the computer plays on Windows (no WASAPI loopback) and needs `pactl` to find
PulseAudio monitors, so system audio goes through the `soundcard` library instead:

- Linux: PulseAudio/PipeWire monitor sources, through libpulse (no `pactl`);
- Windows: WASAPI loopback of each output device (Media Foundation / WASAPI in `soundcard`);
- macOS: the system has no loopback; a virtual loopback device such as BlackHole (routed from the
  output with a Multi-Output Device) is an ordinary input whose name says what it is, and is
  listed as "System audio". ScreenCaptureKit (macOS 13+) is the future route without a driver.

`SystemAudioSource` satisfies the engine's `FrameSource` protocol: the recording thread only
enqueues blocks into a bounded queue (drop-oldest, counted); resampling to 16 kHz mono happens on
the consumer side. The `soundcard` module is imported lazily and can be replaced by any object
with the same functions (`all_microphones`, `get_microphone`), which is how the listing and
choice logic are tested without sound hardware.

Tested here: Linux through libpulse on a real PulseAudio server; the Windows and macOS paths are
unit-tested against soundcard's API with scripted backends and are untested on real hardware.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from engine.audio.sources import AudioBlock, CaptureQueue, FrameSource, open_source
from engine.config import AudioOptions
from engine.errors import DeviceError

log = logging.getLogger(__name__)

Platform = Literal["linux", "win32", "darwin"]
SYSTEM_AUDIO = "System audio"
# Virtual devices that carry what the computer plays (macOS has no loopback of its own;
# "Stereo Mix" is the Realtek driver's loopback input on Windows).
LOOPBACK_NAMES = ("blackhole", "soundflower", "loopback audio", "vb-cable", "stereo mix")
CAPTURE_RATE = 48_000


@dataclass(frozen=True, slots=True)
class CaptureDevice:
    """A device that records what the computer plays.

    id: what `soundcard.get_microphone` accepts; label: the name shown to people ("System audio
    (Speakers)"); loopback: recorded through the platform's loopback (False: a virtual device
    such as BlackHole)."""

    id: str
    name: str
    label: str
    loopback: bool


def current_platform() -> Platform:
    if sys.platform.startswith("win"):
        return "win32"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"


def is_virtual_loopback(name: str) -> bool:
    """A BlackHole-style input that carries the computer's own output."""
    lowered = name.lower()
    return any(word in lowered for word in LOOPBACK_NAMES)


def system_audio_label(name: str) -> str:
    return f"{SYSTEM_AUDIO} ({name})"


def load_backend() -> Any:
    """The `soundcard` module, or DeviceError saying why system audio cannot be recorded."""
    try:
        import soundcard
    except ImportError as exc:
        raise DeviceError(
            "System audio capture needs the soundcard package: pip install soundcard"
        ) from exc
    except OSError as exc:  # the system library is missing (libpulse on Linux)
        raise DeviceError(
            f"System audio capture is unavailable: {exc} (install libpulse0)"
        ) from exc
    except Exception as exc:  # soundcard connects at import: no server answered
        why = str(exc) or "no PulseAudio or PipeWire server answered"
        raise DeviceError(f"System audio capture is unavailable: {why}") from exc
    return soundcard


def list_system_audio(backend: Any, platform: Platform | None = None) -> list[CaptureDevice]:
    """Every source of the computer's own sound, each once: loopbacks of the outputs (Linux
    monitors, Windows WASAPI loopback) and BlackHole-style virtual inputs (all platforms)."""
    platform = platform or current_platform()
    found: dict[str, CaptureDevice] = {}
    try:
        microphones = backend.all_microphones(include_loopback=platform != "darwin")
    except DeviceError:
        raise
    except Exception as exc:
        raise DeviceError(f"Cannot list system audio devices: {exc}") from exc
    for mic in microphones:
        name = str(mic.name)
        loopback = bool(getattr(mic, "isloopback", False))
        if loopback:
            shown = name.removeprefix("Monitor of ")
        elif is_virtual_loopback(name):
            shown = name
        else:
            continue
        found.setdefault(
            str(mic.id), CaptureDevice(str(mic.id), name, system_audio_label(shown), loopback)
        )
    return list(found.values())


def choose_system_audio(
    backend: Any, wanted: str | None = None, platform: Platform | None = None
) -> CaptureDevice:
    """The system-audio device to record: `wanted` (id, or part of its name or label), else the
    loopback of the default output, else the first one found."""
    platform = platform or current_platform()
    devices = list_system_audio(backend, platform)
    if not devices:
        hint = (
            "install a loopback device such as BlackHole and route the output to it"
            if platform == "darwin"
            else "no output device to record from"
        )
        raise DeviceError(f"No system audio source found: {hint}")
    if wanted:
        lowered = wanted.lower()
        for device in devices:
            if device.id == wanted or lowered in device.name.lower():
                return device
            if lowered in device.label.lower():
                return device
        names = ", ".join(d.label for d in devices)
        raise DeviceError(f"No system audio source named {wanted!r} (found: {names})")
    default_name = _default_output_name(backend)
    if default_name:
        for device in devices:
            if device.loopback and default_name in device.name:
                return device
    return devices[0]


def _default_output_name(backend: Any) -> str | None:
    try:
        return str(backend.default_speaker().name)
    except Exception:  # no default output: any loopback will do
        return None


class SystemAudioSource:
    """Records what the computer plays (see the module docstring), as 16 kHz mono blocks."""

    realtime = True
    hears_room = True  # it records our own spoken translation when that plays on this output

    def __init__(
        self,
        wanted: str | None = None,
        options: AudioOptions | None = None,
        *,
        backend: Any = None,
        platform: Platform | None = None,
    ) -> None:
        self.options = options or AudioOptions()
        self._backend = backend if backend is not None else load_backend()
        self.device = choose_system_audio(self._backend, wanted, platform)
        self.name = self.device.label
        self.rate = CAPTURE_RATE
        self._frames = self.rate * self.options.block_ms // 1000
        self._queue = CaptureQueue(self.options.queue_blocks)
        self._stop = threading.Event()
        self._failed: BaseException | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._record, name="system-audio", daemon=True)
        self._thread.start()
        self._started.wait(timeout=10)
        if self._failed is not None:
            raise DeviceError(f"Cannot record {self.name}: {self._failed}") from self._failed

    @property
    def dropped_blocks(self) -> int:
        return self._queue.dropped

    def _record(self) -> None:
        """The recording thread: read blocks and enqueue them, nothing else."""
        try:
            mic = self._backend.get_microphone(self.device.id, include_loopback=True)
            with mic.recorder(samplerate=self.rate, channels=1, blocksize=self._frames) as rec:
                self._started.set()
                while not self._stop.is_set():
                    data = np.asarray(rec.record(numframes=self._frames), dtype=np.float32)
                    block = data[:, 0] if data.ndim == 2 else data
                    self._queue.put(block.copy(), time.monotonic())
        except Exception as exc:  # the device vanished, or never opened
            self._failed = exc
            log.debug("system audio recording ended", exc_info=True)
        finally:
            self._started.set()

    def blocks(self) -> Iterator[AudioBlock]:
        return self._queue.blocks(self.rate, self._stop, self._check_alive)

    def _check_alive(self) -> None:
        if self._failed is not None or not self._thread.is_alive():
            raise DeviceError(f"{self.name} stopped delivering audio ({self._failed or 'ended'})")

    def close(self) -> None:
        """Idempotent: stop the recording thread (it ends after its current block)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)


def open_input(
    spec: str, *, realtime: bool = False, options: AudioOptions | None = None
) -> FrameSource:
    """Like `engine.audio.sources.open_source`, plus `system` (the computer's own sound: the
    default output's loopback) and `system:NAME`."""
    if spec == "system" or spec.startswith("system:"):
        return SystemAudioSource(spec.removeprefix("system").removeprefix(":") or None, options)
    return open_source(spec, realtime=realtime, options=options)
