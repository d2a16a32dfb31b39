"""Audio decoding, resampling, the capture queue and the audio history ring."""

import numpy as np
import pytest
import soundfile as sf

from engine.audio.history import AudioHistory
from engine.audio.io import load_audio
from engine.audio.sources import ArraySource, CaptureQueue
from engine.errors import InputError


def tone(freq: float, rate: int, seconds: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate", "channels"),
    [
        ("WAV", "PCM_16", 44100, 2),
        ("FLAC", "PCM_16", 22050, 1),
        ("OGG", "VORBIS", 48000, 2),
        ("MP3", "MPEG_LAYER_III", 44100, 1),
        ("WAV", "FLOAT", 11025, 3),
    ],
)
def test_any_format_rate_and_channels_become_16k_mono(tmp_path, fmt, subtype, rate, channels):
    path = tmp_path / f"tone.{fmt.lower()}"
    sf.write(path, tone(440, rate, 1.5, channels), rate, format=fmt, subtype=subtype)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 24000) < 1200  # mp3 adds encoder padding
    spectrum = np.abs(np.fft.rfft(audio[2000:18000]))
    peak_hz = np.argmax(spectrum) * 16000 / 16000
    assert abs(peak_hz - 440) < 5


def test_resampling_is_band_limited(tmp_path):
    """A 9 kHz tone at 44.1 kHz must not alias to 7 kHz in the 16 kHz output (a proper
    resampler filters it); a 5 kHz tone passes."""
    path = tmp_path / "hi.wav"
    sf.write(path, tone(5000, 44100, 1.0) + tone(9000, 44100, 1.0), 44100)
    audio = load_audio(path)
    spectrum = np.abs(np.fft.rfft(audio))
    freqs = np.fft.rfftfreq(len(audio), 1 / 16000)
    alias = spectrum[(freqs > 6500) & (freqs < 7500)].max()  # 9 kHz would alias to 7 kHz
    passed = spectrum[(freqs > 4900) & (freqs < 5100)].max()
    assert alias < 0.01 * passed


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), (b"hello world" * 50, "Cannot read"), (b"", "empty")],
)
def test_bad_files_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "input.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_audio(path)


def test_truncated_and_empty_wav(tmp_path):
    full = tmp_path / "full.wav"
    sf.write(full, tone(300, 16000, 2.0), 16000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[:20000])
    with pytest.raises(InputError, match="truncated"):
        load_audio(cut)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(InputError, match="empty"):
        load_audio(empty)


def test_capture_queue_drops_oldest_and_counts():
    q = CaptureQueue(max_blocks=3)
    for i in range(5):
        q.put(np.full(4, i, dtype=np.float32), float(i))
    assert q.dropped == 2
    got = [q.get(timeout=0.01)[1] for _ in range(3)]
    assert got == [2.0, 3.0, 4.0]
    assert q.get(timeout=0.01) is None


def test_audio_history_keeps_the_latest_samples():
    h = AudioHistory(seconds=1.0, sample_rate=10)
    for start in range(0, 25, 5):
        h.append(np.arange(start, start + 5, dtype=np.float32))
    assert h.total == 25 and h.oldest == 15
    assert h.slice(12, 20).tolist() == list(range(15, 20))
    assert h.slice(20, 30).tolist() == list(range(20, 25))


def test_array_source_blocks_cover_the_audio_in_order():
    audio = np.arange(16000, dtype=np.float32)
    blocks = list(ArraySource(audio, block_ms=32).blocks())
    assert np.array_equal(np.concatenate([b.samples for b in blocks]), audio)
    assert [b.start for b in blocks[:2]] == [0.0, 0.032]
