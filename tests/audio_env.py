"""A private PulseAudio server with a null sink: a real playback and capture device for tests.

Follows ../shared/TESTING-AUDIO-GUI.md: the daemon runs with private PULSE_* paths (never the
user's server or ~/.config/pulse), `-n` (no default.pa, so the idle sink is never suspended),
a null sink whose `.monitor` source is the default source, and a keep-alive stream into the
sink (without one the monitor delivers audio in ~2 s lumps and cuts heads off).

Usage in a test module::

    from tests.audio_env import pulse_available, pulse_server

    @pytest.fixture(scope="module")
    def pulse(tmp_path_factory):
        if not pulse_available():
            pytest.skip("needs pulseaudio, pactl, pacat and PortAudio")
        with pulse_server(tmp_path_factory.mktemp("pulse")) as server:
            yield server

While the server runs, this process's environment points at it (PULSE_RUNTIME_PATH etc.), and
PortAudio is re-initialised so sounddevice sees the `pulse` device. Devices: play to
`server.sink` (the default sink), capture from `server.monitor` (the default source).

`room_and_speakers` and `Microphone` set up an unplugged microphone (issue 12, defect 5).
"""

from __future__ import annotations

import contextlib
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_ENV_KEYS = (
    "PULSE_RUNTIME_PATH",
    "PULSE_STATE_PATH",
    "PULSE_COOKIE",
    "PULSE_SERVER",
    "PULSE_SINK",
    "PULSE_SOURCE",
)


def pulse_available() -> bool:
    """pulseaudio + pactl + pacat + parecord on PATH and the PortAudio library installed."""
    tools = all(shutil.which(t) for t in ("pulseaudio", "pactl", "pacat", "parecord"))
    return tools and ctypes.util.find_library("portaudio") is not None


def refresh_portaudio() -> None:
    """Make an already imported sounddevice re-scan devices (it scans once, at import)."""
    sd = sys.modules.get("sounddevice")
    if sd is None:
        return
    try:
        sd._terminate()
        sd._initialize()
    except Exception:  # an old/new sounddevice without these private helpers
        pass


@dataclass
class PulseServer:
    runtime: Path
    sink: str
    rate: int
    env: dict[str, str]
    daemon: subprocess.Popen
    keepalive: subprocess.Popen | None = None
    _recorders: list[subprocess.Popen] = field(default_factory=list)
    _players: list[subprocess.Popen] = field(default_factory=list)

    @property
    def monitor(self) -> str:
        return f"{self.sink}.monitor"

    def pactl(self, *args: str) -> str:
        return pactl(*args, env=self.env)

    def play_in_background(self, sink: str, samples: np.ndarray) -> subprocess.Popen:
        """paplay `samples` (float, at the server's rate) into `sink` without waiting; stopped
        with the server."""
        path = write_wav(self.runtime / f"{sink}-{len(self._players)}.wav", samples, self.rate)
        proc = subprocess.Popen(
            ["paplay", "-d", sink, str(path)], env=self.env, stderr=subprocess.DEVNULL
        )
        self._players.append(proc)
        return proc

    def start_recording(self, path: Path, *, source: str | None = None) -> subprocess.Popen:
        """parecord the monitor (or `source`) into a WAV at the sink rate, mono."""
        proc = subprocess.Popen(
            [
                "parecord",
                "--latency-msec=20",
                "-d",
                source or self.monitor,
                f"--rate={self.rate}",
                "--channels=1",
                "--format=s16le",
                "--file-format=wav",
                str(path),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._recorders.append(proc)
        return proc

    def wait_recorded(self, path: Path, seconds: float, timeout: float = 10.0) -> None:
        """Block until the recording at `path` holds `seconds` more audio than now (the
        recorder really runs, and what was played before this call has reached the file)."""
        bytes_per_s = self.rate * 2  # s16le mono
        start = path.stat().st_size if path.exists() else 44
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size - start >= seconds * bytes_per_s:
                return
            time.sleep(0.01)
        raise AssertionError(f"the recorder wrote under {seconds} s to {path} in {timeout} s")

    def stop_recording(self, proc: subprocess.Popen) -> None:
        """SIGTERM leaves a valid WAV behind."""
        _terminate(proc)
        if proc in self._recorders:
            self._recorders.remove(proc)

    def play_file(self, path: Path) -> None:
        """paplay a file into the sink (blocks until done)."""
        subprocess.run(["paplay", "-d", self.sink, str(path)], env=self.env, timeout=60, check=True)


def pactl(*args: str, env: dict[str, str] | None = None) -> str:
    """Runs pactl on the server of `env` (default: this process's environment); its output."""
    done = subprocess.run(
        ["pactl", *args], env=env, capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """A 16-bit mono WAV of float `samples` (-1..1)."""
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


def noise_floor(seconds: float, rate: int) -> np.ndarray:
    """A microphone's noise floor (exact zeros would rightly be reported as "no signal")."""
    return np.random.default_rng(0).normal(0, 0.001, int(seconds * rate))


class Microphone:
    """A microphone that can be unplugged: a `module-remap-source` named `name` of the `master`
    sink's monitor, on the server of `env` (default: this process's environment)."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        name: str = "test_mic",
        master: str = "room",
        description: str = "Test_microphone",
    ) -> None:
        self.env = env
        self.name, self.master, self.description = name, master, description
        self.module: str | None = None

    def plug(self) -> None:
        self.module = pactl(
            "load-module",
            "module-remap-source",
            f"source_name={self.name}",
            f"master={self.master}.monitor",
            f"source_properties=device.description={self.description}",
            env=self.env,
        ).strip()

    def unplug(self) -> None:
        if self.module is not None:
            pactl("unload-module", self.module, env=self.env)
            self.module = None


def _terminate(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@contextlib.contextmanager
def pulse_server(
    run_dir: Path,
    *,
    sink: str = "test_sink",
    rate: int = 48_000,
    keepalive: bool = True,
    settle_s: float = 1.5,
) -> Iterator[PulseServer]:
    """Start a private PulseAudio daemon with a null sink; stop it and restore env on exit."""
    run_dir = Path(run_dir)
    runtime = run_dir / "pulse"
    runtime.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    env = dict(os.environ)
    env.pop("PULSE_SERVER", None)
    env.update(
        PULSE_RUNTIME_PATH=str(runtime),
        PULSE_STATE_PATH=str(runtime / "state"),
        PULSE_COOKIE=str(runtime / "cookie"),
    )
    daemon = subprocess.Popen(
        [
            "pulseaudio",
            "--daemonize=no",
            "-n",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--log-target=stderr",
            "--log-level=error",
            "--load=module-native-protocol-unix",
            f"--load=module-null-sink sink_name={sink} rate={rate} channels=1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = PulseServer(runtime, sink, rate, env, daemon)
    try:
        deadline = time.monotonic() + 15.0
        while True:
            probe = subprocess.run(["pactl", "info"], env=env, capture_output=True, timeout=5)
            if probe.returncode == 0:
                break
            if daemon.poll() is not None or time.monotonic() > deadline:
                err = daemon.stderr.read().decode(errors="replace") if daemon.stderr else ""
                raise RuntimeError(f"PulseAudio did not start: {err.strip()[-500:]}")
            time.sleep(0.1)
        server.pactl("set-default-sink", sink)
        server.pactl("set-default-source", f"{sink}.monitor")
        if keepalive:
            server.keepalive = subprocess.Popen(
                [
                    "pacat",
                    "-p",
                    "--raw",
                    "--format=s16le",
                    f"--rate={rate}",
                    "--channels=1",
                    "--latency-msec=20",
                    "-d",
                    sink,
                    "/dev/zero",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        # Seen here: output streams opened within ~1 s of the server start stall for ~1.7 s
        # before their first real callback; let the server settle first.
        time.sleep(settle_s)
        for key in ("PULSE_RUNTIME_PATH", "PULSE_STATE_PATH", "PULSE_COOKIE"):
            os.environ[key] = env[key]
        for key in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE"):
            os.environ.pop(key, None)
        refresh_portaudio()
        yield server
    finally:
        for proc in [*server._players, *server._recorders]:
            _terminate(proc)
        if server.keepalive is not None:
            _terminate(server.keepalive)
        _terminate(daemon)
        if daemon.stderr:
            daemon.stderr.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        refresh_portaudio()


@contextlib.contextmanager
def room_and_speakers(run_dir: Path) -> Iterator[PulseServer]:
    """A server whose sink "room" is where a microphone hears (see Microphone), and a second null
    sink "speakers" (as the app's spoken translation would play) whose monitor is the default
    source: where PulseAudio moves a capture stream whose source vanishes."""
    with pulse_server(run_dir, sink="room") as server:
        server.pactl(
            "load-module",
            "module-null-sink",
            "sink_name=speakers",
            "rate=48000",
            "sink_properties=device.description=Speakers",
        )
        server.pactl("set-default-source", "speakers.monitor")
        yield server


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """A sine tone with 5 ms fades (no clicks), float32."""
    t = np.arange(int(seconds * rate)) / rate
    out = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    fade = min(len(out) // 2, int(0.005 * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def band_energies(
    audio: np.ndarray, rate: int, freqs: list[float], frame_s: float = 0.02
) -> np.ndarray:
    """Per frame (rows), the spectral magnitude near each of `freqs` (columns)."""
    n = int(frame_s * rate)
    frames = len(audio) // n
    if frames == 0:
        return np.zeros((0, len(freqs)))
    windows = audio[: frames * n].reshape(frames, n) * np.hanning(n)
    spectrum = np.abs(np.fft.rfft(windows, axis=1))
    bins = np.fft.rfftfreq(n, 1.0 / rate)
    cols = []
    for f in freqs:
        near = np.abs(bins - f) <= max(30.0, rate / n)
        cols.append(spectrum[:, near].max(axis=1))
    return np.stack(cols, axis=1)


class MonitorCapture:
    """Captures the default source (the sink's monitor) at 16 kHz like the app's microphone
    input, stamping each block with the monotonic time of its first sample."""

    def __init__(self, rate: int = 16_000, block: int = 512, latency: float = 0.1) -> None:
        import sounddevice as sd

        self.rate = rate
        self.blocks: list[tuple[float, np.ndarray]] = []
        self._lock = threading.Lock()
        self.stream = sd.InputStream(
            samplerate=rate,
            channels=1,
            dtype="float32",
            blocksize=block,
            device="pulse",
            latency=latency,
            callback=self._callback,
        )

    def _callback(self, indata, frames, time_info, status) -> None:
        now = time.monotonic()
        age = time_info.currentTime - time_info.inputBufferAdcTime
        if not 0.0 <= age < 2.0 or time_info.currentTime <= 0:
            age = frames / self.rate + self.stream.latency
        with self._lock:
            self.blocks.append((now - age, indata[:, 0].copy()))

    def first_loud_after(self, t0: float, level: float = 0.05) -> float | None:
        """Monotonic time of the first sample louder than `level` at or after t0."""
        with self._lock:
            blocks = [b for b in self.blocks if b[0] + len(b[1]) / self.rate >= t0]
        for stamp, block in blocks:
            loud = np.nonzero(np.abs(block) > level)[0]
            if len(loud):
                at = stamp + loud[0] / self.rate
                if at >= t0:
                    return at
        return None

    def __enter__(self) -> MonitorCapture:
        self.stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.stop()
        self.stream.close()
