"""Decode audio files (WAV/FLAC/OGG/MP3, any rate and channel count) to 16 kHz mono float32.

soundfile (libsndfile) reads the formats; soxr (the SoX resampler) converts the rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from engine.audio import SAMPLE_RATE
from engine.errors import InputError


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Down-mix (mean of channels) and resample to 16 kHz float32."""
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1, dtype=np.float32)
    if sample_rate != SAMPLE_RATE and audio.size:
        audio = soxr.resample(audio, sample_rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return np.ascontiguousarray(audio)


def open_audio(path: str | Path) -> sf.SoundFile:
    """An open, checked audio file (the caller closes it).

    Raises InputError (one readable sentence) for a missing, unreadable, non-audio, empty or
    truncated file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"Input file not found: {path}")
    if path.is_dir():
        raise InputError(f"Input is a directory, not an audio file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"Audio file is empty (0 bytes): {path}")
    try:
        fh = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise InputError(f"Cannot read {path} as audio ({_reason(exc)})") from exc
    except OSError as exc:
        raise InputError(f"Cannot open {path}: {exc.strerror or exc}") from exc
    if fh.frames == 0:
        fh.close()
        raise InputError(f"Audio file is empty (no samples): {path}")
    declared = _wav_declared_data_bytes(path)
    if declared is not None:
        available = path.stat().st_size - declared[1]
        if declared[0] > available + 1:
            fh.close()
            raise InputError(
                f"Audio file is truncated: {path} declares {declared[0]} bytes of audio, "
                f"holds {max(available, 0)}"
            )
    return fh


def _reason(exc: Exception) -> str:
    return str(exc).split(":")[-1].strip() or type(exc).__name__


def stream_audio(path: str | Path, block_s: float = 1.0) -> Iterator[np.ndarray]:
    """The file as consecutive 16 kHz mono float32 chunks, decoded and resampled as it is read
    (memory stays flat however long the recording)."""
    with open_audio(path) as fh:
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


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(samples, dtype=np.float32), sample_rate, subtype="PCM_16")
