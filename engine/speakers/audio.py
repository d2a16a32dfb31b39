"""Resemblyzer's audio preprocessing, reproduced without torch or librosa.

Mirrors `resemblyzer/audio.py` (0.1.4) step by step: resample to 16 kHz (soxr "HQ", the
`librosa.resample` default, with librosa's length fix), normalise the volume to -30 dBFS (only
ever louder), shorten silences longer than ~0.2 s using WebRTC's VAD (mode 3, 30 ms windows,
moving average over 8 windows, dilation of 6 windows), then a 40-band mel power spectrogram
(25 ms Hann window, 10 ms hop, centred, zero padding, Slaney mel scale and normalisation).
The golden tests compare every step's result with the real package.
"""

from __future__ import annotations

import functools

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.errors import ModelError

MEL_WINDOW_LENGTH_MS = 25
MEL_WINDOW_STEP_MS = 10
MEL_N_CHANNELS = 40
N_FFT = SAMPLE_RATE * MEL_WINDOW_LENGTH_MS // 1000  # 400
HOP_LENGTH = SAMPLE_RATE * MEL_WINDOW_STEP_MS // 1000  # 160
VAD_WINDOW_LENGTH_MS = 30
VAD_MOVING_AVERAGE_WIDTH = 8
VAD_MAX_SILENCE_LENGTH = 6
AUDIO_NORM_TARGET_DBFS = -30.0
INT16_MAX = (2**15) - 1


def resample(wav: np.ndarray, source_sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """`librosa.resample(wav, orig_sr, target_sr)` with its default soxr "HQ" and length fix."""
    wav = np.asarray(wav, dtype=np.float32)
    if source_sr == target_sr:
        return wav
    import soxr

    n_samples = int(np.ceil(wav.shape[-1] * float(target_sr) / source_sr))
    out = soxr.resample(wav, source_sr, target_sr, quality="HQ")
    out = out[:n_samples] if len(out) >= n_samples else np.pad(out, (0, n_samples - len(out)))
    return np.asarray(out, dtype=np.float32)


def normalize_volume(wav: np.ndarray, target_dbfs: float = AUDIO_NORM_TARGET_DBFS) -> np.ndarray:
    """Scale to `target_dbfs` RMS, but only ever louder (resemblyzer's `increase_only=True`)."""
    rms = np.sqrt(np.mean((wav * INT16_MAX) ** 2))
    if not np.isfinite(rms) or rms <= 0.0:
        return wav  # digital silence: nothing to scale (resemblyzer would produce NaNs)
    wave_dbfs = 20 * np.log10(rms / INT16_MAX)
    change = target_dbfs - wave_dbfs
    if change < 0:
        return wav
    return wav * (10 ** (change / 20))


@functools.cache
def _webrtcvad():  # type: ignore[no-untyped-def]
    try:
        import webrtcvad
    except ImportError as exc:
        raise ModelError(
            "Speaker identification needs the WebRTC voice activity detector: "
            "run `pip install webrtcvad-wheels`."
        ) from exc
    return webrtcvad


def _moving_average(array: np.ndarray, width: int) -> np.ndarray:
    padded = np.concatenate((np.zeros((width - 1) // 2), array, np.zeros(width // 2)))
    ret = np.cumsum(padded, dtype=float)
    ret[width:] = ret[width:] - ret[:-width]
    return ret[width - 1 :] / width


def _binary_dilation(mask: np.ndarray, size: int) -> np.ndarray:
    """`scipy.ndimage.binary_dilation(mask, np.ones(size))` for odd `size` (border = False)."""
    half = size // 2
    padded = np.concatenate((np.zeros(half, bool), mask.astype(bool), np.zeros(half, bool)))
    counts = np.convolve(padded.astype(np.int32), np.ones(size, np.int32), mode="valid")
    return counts > 0


def trim_long_silences(wav: np.ndarray) -> np.ndarray:
    """Keep voiced regions (WebRTC VAD) so that no silence lasts longer than ~0.2 s."""
    vad_module = _webrtcvad()
    window = VAD_WINDOW_LENGTH_MS * SAMPLE_RATE // 1000
    wav = wav[: len(wav) - (len(wav) % window)]
    if len(wav) == 0:
        return wav
    pcm = np.round(wav * INT16_MAX).astype(np.int16).astype("<i2").tobytes()
    vad = vad_module.Vad(3)
    flags = np.array(
        [
            vad.is_speech(pcm[start * 2 : (start + window) * 2], sample_rate=SAMPLE_RATE)
            for start in range(0, len(wav), window)
        ]
    )
    mask = np.round(_moving_average(flags, VAD_MOVING_AVERAGE_WIDTH)).astype(bool)
    mask = _binary_dilation(mask, VAD_MAX_SILENCE_LENGTH + 1)
    return wav[np.repeat(mask, window)]


def preprocess_wav(wav: np.ndarray, source_sr: int = SAMPLE_RATE) -> np.ndarray:
    """resemblyzer's `preprocess_wav`: 16 kHz, volume normalised, long silences trimmed."""
    wav = resample(np.asarray(wav, dtype=np.float32), source_sr)
    wav = normalize_volume(wav)
    return trim_long_silences(wav)


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False)."""
    f_sp = 200.0 / 3
    mels = freq / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_t = freq >= min_log_hz
    mels = np.where(
        log_t, min_log_mel + np.log(np.maximum(freq, 1e-10) / min_log_hz) / logstep, mels
    )
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_t = mels >= min_log_mel
    return np.where(log_t, min_log_hz * np.exp(logstep * (mels - min_log_mel)), freqs)


@functools.cache
def mel_basis(
    sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = MEL_N_CHANNELS
) -> np.ndarray:
    """`librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)`: Slaney scale, Slaney norm."""
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(sr / 2.0)), n_mels + 2)
    )
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


@functools.cache
def _hann(n: int) -> np.ndarray:
    """Periodic Hann window (scipy.signal.get_window('hann', n, fftbins=True))."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def wav_to_mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """(n_frames, 40) float32 mel power spectrogram, n_frames = 1 + len(wav) // 160."""
    wav = np.asarray(wav, dtype=np.float32)
    padded = np.pad(wav, (N_FFT // 2, N_FFT // 2), mode="constant")
    n_frames = 1 + (len(padded) - N_FFT) // HOP_LENGTH
    frames = np.lib.stride_tricks.as_strided(
        padded,
        shape=(n_frames, N_FFT),
        strides=(padded.strides[0] * HOP_LENGTH, padded.strides[0]),
        writeable=False,
    )
    spectrum = np.fft.rfft(frames * _hann(N_FFT), axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    return (power @ mel_basis().T).astype(np.float32)
