"""Decode audio files to 16 kHz mono float32, streaming (memory flat on hour-long files).

- WAV/FLAC/OGG/MP3: soundfile (libsndfile);
- everything libsndfile does not read (M4A/MP4/AAC, MKV, WebM, Opus, MOV, WMA...) and pipes or
  FIFOs: PyAV (FFmpeg, installed with faster-whisper), decoded frame by frame.
soxr (the SoX resampler) converts the rate in both cases.

Damage is reported, never passed over: a WAV or MP3 (LAME/Xing header) shorter than its header
declares, or a container that decodes to less than the duration it declares, is an InputError
naming the file and what is missing; non-finite samples (NaN/inf in float files) are replaced by
silence and counted in a warning, instead of silently poisoning the utterance around them.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from engine.audio import SAMPLE_RATE
from engine.errors import InputError

log = logging.getLogger(__name__)

SOUNDFILE_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3")
PYAV_EXTENSIONS = (".m4a", ".mp4", ".aac", ".mkv", ".webm", ".opus", ".mov", ".wma", ".m4b")
# what a file dialog should offer: everything here decodes (tests cover each family)
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS + PYAV_EXTENSIONS


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Down-mix (mean of channels) and resample to 16 kHz float32."""
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1, dtype=np.float32)
    if sample_rate != SAMPLE_RATE and audio.size:
        audio = soxr.resample(audio, sample_rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return np.ascontiguousarray(audio)


def _is_pipe(path: Path) -> bool:
    try:
        return stat.S_ISFIFO(path.stat().st_mode) or stat.S_ISCHR(path.stat().st_mode)
    except OSError:
        return False


class AvAudioFile:
    """What open_audio returns for a file PyAV decodes: frames (declared; 0 when unknown, e.g.
    a pipe), samplerate and channels of its first audio track. Nothing is decoded yet."""

    def __init__(self, path: Path, frames: int, samplerate: int, channels: int) -> None:
        self.name = str(path)
        self.frames = frames
        self.samplerate = samplerate
        self.channels = channels

    def close(self) -> None:
        """Nothing to release: decoding opens the file again (stream_audio)."""

    def __enter__(self) -> AvAudioFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _av() -> Any:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - installed with faster-whisper
        raise InputError(
            "Reading this audio format needs PyAV (pip install av; faster-whisper installs it)."
        ) from exc
    return av


def _av_error(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".")
    text = text.split("] ", 1)[-1] if text.startswith("[Errno") else text
    return text.split(":")[0] if ": '" in text else text


def _open_container(path: Path) -> tuple[Any, Any]:
    """An open PyAV container and its first audio stream (InputError when there is none)."""
    av = _av()
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        hint = ""
        if path.suffix.lower() in (".mp4", ".m4a", ".mov", ".m4b", ".3gp"):
            hint = "; an MP4 whose end is missing (an unfinished recording or download) looks so"
        raise InputError(f"Cannot read {path} as audio ({_av_error(exc)}{hint})") from exc
    stream = next((s for s in container.streams if s.type == "audio"), None)
    if stream is None:
        container.close()
        raise InputError(f"{path} has no audio track")
    return container, stream


def _declared_seconds(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return None


def open_audio(path: str | Path) -> sf.SoundFile | AvAudioFile:
    """An open, checked audio file (the caller closes it): `frames`, `samplerate`, `channels`.

    Raises InputError (one readable sentence) for a missing, unreadable, non-audio, empty or
    truncated file. A pipe or FIFO is not read here (it can be read only once): its frames
    are 0 (unknown) and stream_audio decodes it.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"Input file not found: {path}")
    if path.is_dir():
        raise InputError(f"Input is a directory, not an audio file: {path}")
    if _is_pipe(path):
        return AvAudioFile(path, 0, SAMPLE_RATE, 1)
    if path.stat().st_size == 0:
        raise InputError(f"Audio file is empty (0 bytes): {path}")
    try:
        fh = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return _open_with_pyav(path)
    except OSError as exc:
        raise InputError(f"Cannot open {path}: {exc.strerror or exc}") from exc
    if fh.frames == 0:
        fh.close()
        raise InputError(f"Audio file is empty (no samples): {path}")
    declared = _wav_declared_data_bytes(path) or _mp3_declared_bytes(path)
    if declared is not None:
        available = path.stat().st_size - declared[1]
        if declared[0] > available + 1:
            fh.close()
            raise InputError(
                f"Audio file is truncated: {path} declares {declared[0]} bytes of audio, "
                f"holds {max(available, 0)} (its end is missing)"
            )
    return fh


def _open_with_pyav(path: Path) -> AvAudioFile:
    container, stream = _open_container(path)
    try:
        rate = int(stream.rate or stream.codec_context.sample_rate or 0)
        channels = int(stream.channels or 1)
        seconds = _declared_seconds(container, stream)
    finally:
        container.close()
    if rate <= 0:
        raise InputError(f"Cannot read {path} as audio (its audio track has no sample rate)")
    if seconds is not None and seconds <= 0:
        raise InputError(f"Audio file is empty (no samples): {path}")
    return AvAudioFile(path, int(round((seconds or 0.0) * rate)), rate, channels)


def _reason(exc: Exception) -> str:
    return str(exc).split(":")[-1].strip() or type(exc).__name__


class _Sanitiser:
    """Replaces NaN/inf samples by silence (clipping inf to full scale) and counts them."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.count = 0

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        finite = np.isfinite(chunk)
        if finite.all():
            return chunk
        self.count += int(chunk.size - np.count_nonzero(finite))
        return np.nan_to_num(chunk, nan=0.0, posinf=1.0, neginf=-1.0)

    def report(self) -> None:
        if self.count:
            log.warning(
                "%s holds %d non-finite samples (NaN or infinity); they were replaced by silence",
                self.path,
                self.count,
            )


def stream_audio(path: str | Path, block_s: float = 1.0) -> Iterator[np.ndarray]:
    """The file as consecutive 16 kHz mono float32 chunks, decoded and resampled as it is read
    (memory stays flat however long the recording)."""
    sanitise = _Sanitiser(path)
    handle = open_audio(path)
    if isinstance(handle, AvAudioFile):
        chunks = _stream_pyav(Path(path), block_s)
    else:
        chunks = _stream_soundfile(handle, Path(path), block_s)
    for chunk in chunks:
        yield sanitise(chunk)
    sanitise.report()


def _stream_soundfile(fh: sf.SoundFile, path: Path, block_s: float) -> Iterator[np.ndarray]:
    with fh:
        rate = fh.samplerate
        resampler = (
            soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
            if rate != SAMPLE_RATE
            else None
        )
        frames = max(int(rate * block_s), 1)
        while True:
            try:
                data = fh.read(frames, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise InputError(f"Cannot read {path} to the end ({_reason(exc)})") from exc
            last = len(data) < frames
            mono = np.ascontiguousarray(data.mean(axis=1, dtype=np.float32))
            chunk = resampler.resample_chunk(mono, last=last) if resampler else mono
            if len(chunk):
                yield chunk.astype(np.float32, copy=False)
            if last:
                return


def _stream_pyav(path: Path, block_s: float) -> Iterator[np.ndarray]:
    """Decode the first audio track frame by frame; blocks of about block_s seconds."""
    av = _av()
    container, stream = _open_container(path)
    to_float = av.AudioResampler(format="fltp")  # sample format only: rate and layout stay
    resampler: Any = None
    rate = 0
    decoded = 0
    pending: list[np.ndarray] = []
    pending_n = 0
    try:
        try:
            for frame in container.decode(stream):
                for converted in to_float.resample(frame):
                    planes = converted.to_ndarray()  # (channels, samples) float32
                    mono = np.ascontiguousarray(planes.mean(axis=0, dtype=np.float32))
                    if resampler is None:
                        rate = int(converted.sample_rate)
                        resampler = soxr.ResampleStream(
                            rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ"
                        )
                    decoded += len(mono)
                    pending.append(mono)
                    pending_n += len(mono)
                    if pending_n >= rate * block_s:
                        chunk = resampler.resample_chunk(np.concatenate(pending), last=False)
                        pending, pending_n = [], 0
                        if len(chunk):
                            yield chunk.astype(np.float32, copy=False)
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise InputError(f"Cannot read {path} to the end ({_av_error(exc)})") from exc
        if resampler is None:
            raise InputError(f"Audio file is empty (no samples): {path}")
        rest = np.concatenate(pending) if pending else np.zeros(0, dtype=np.float32)
        chunk = resampler.resample_chunk(rest, last=True)
        if len(chunk):
            yield chunk.astype(np.float32, copy=False)
        declared = _declared_seconds(container, stream)
        got = decoded / rate
        if declared is not None and got < declared - max(1.0, 0.02 * declared):
            raise InputError(
                f"Audio file is truncated: {path} declares {declared:.1f} s of audio, only "
                f"{got:.1f} s could be decoded (its end is missing)"
            )
    finally:
        container.close()


def load_audio(path: str | Path) -> np.ndarray:
    """The whole file as 16 kHz mono float32 in [-1, 1] (errors as `open_audio`)."""
    chunks = list(stream_audio(path, block_s=30.0))
    if not chunks:
        raise InputError(f"Audio file is empty (no samples): {path}")
    return np.concatenate(chunks)


def _wav_declared_data_bytes(path: Path) -> tuple[int, int] | None:
    """(declared size, offset) of a RIFF/WAVE file's data chunk; None for other formats.

    libsndfile silently shortens a truncated WAV, so a cut-off download would pass unnoticed.
    """
    with path.open("rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        while chunk := fh.read(8):
            if len(chunk) < 8:
                return None
            size = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                if size in (0, 0xFFFFFFFF):  # streamed WAV without a final size
                    return None
                return size, fh.tell()
            fh.seek(size + (size & 1), 1)
    return None


def _mp3_declared_bytes(path: Path) -> tuple[int, int] | None:
    """(declared audio bytes, offset of the first frame) from an MP3's Xing/Info header (LAME,
    FFmpeg and most encoders write one); None when the file is no MP3 or has none, in which
    case a cut-off end cannot be told from a short file."""
    with path.open("rb") as fh:
        head = fh.read(10)
        offset = 0
        if head[:3] == b"ID3" and len(head) == 10:
            size = 0
            for byte in head[6:10]:
                size = (size << 7) | (byte & 0x7F)
            offset = 10 + size + (10 if head[5] & 0x10 else 0)
        fh.seek(offset)
        frame = fh.read(200)
    if len(frame) < 4 or frame[0] != 0xFF or (frame[1] & 0xE0) != 0xE0:
        return None
    mpeg1 = bool(frame[1] & 0x08)
    if (frame[1] >> 1) & 0x03 != 1:  # not layer III
        return None
    mono = (frame[3] >> 6) == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag_at = 4 + side
    tag = frame[tag_at : tag_at + 4]
    if tag not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(frame[tag_at + 4 : tag_at + 8], "big")
    field = tag_at + 8 + (4 if flags & 0x1 else 0)
    if not flags & 0x2 or len(frame) < field + 4:
        return None
    return int.from_bytes(frame[field : field + 4], "big"), offset


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(samples, dtype=np.float32), sample_rate, subtype="PCM_16")
