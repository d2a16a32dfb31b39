"""Every file users drop in: real speech encoded into M4A, MP4 (AAC), WebM (Opus), MKV, Opus and
AAC with PyAV decodes (streaming, PyAV + soxr) to the same words as the WAV; damaged files are
reported (truncated MP4 and MP3, NaN samples) and a FIFO is read, not called empty."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from engine.audio.io import AUDIO_EXTENSIONS, load_audio, open_audio, stream_audio
from engine.audio.sources import FileSource
from engine.errors import InputError
from tests.cli_env import run_cli

# (suffix, container format, codec, codec sample rate)
FORMATS = [
    (".m4a", "mp4", "aac", 44100),
    (".mp4", "mp4", "aac", 48000),
    (".webm", "webm", "libopus", 48000),
    (".mkv", "matroska", "aac", 22050),
    (".opus", "ogg", "libopus", 48000),
    (".aac", "adts", "aac", 32000),
    (".mp3", "mp3", "libmp3lame", 44100),
]


def encode(samples: np.ndarray, rate: int, path: Path, fmt: str, codec: str, out_rate: int):
    """Encode mono float32 samples with PyAV (FFmpeg) into `path`, stereo to exercise the
    down-mix."""
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=out_rate, layout="stereo")
        ctx = stream.codec_context
        resampler = av.AudioResampler(
            format=ctx.format.name, layout="stereo", rate=out_rate, frame_size=ctx.frame_size
        )
        frame = av.AudioFrame.from_ndarray(samples[None, :].astype(np.float32), "flt", "mono")
        frame.sample_rate = rate
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(chunk):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.fixture(scope="module")
def speech(speech_dir: Path) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(speech_dir / "goforward.wav", dtype="float32")
    return samples, rate


@pytest.mark.parametrize(("suffix", "fmt", "codec", "out_rate"), FORMATS)
def test_container_gives_the_same_words_as_the_wav(
    tmp_path, speech, speech_dir, whisper_base, suffix, fmt, codec, out_rate
) -> None:
    samples, rate = speech
    path = tmp_path / f"speech{suffix}"
    encode(samples, rate, path, fmt, codec, out_rate)
    assert suffix in AUDIO_EXTENSIONS
    with open_audio(path) as fh:
        assert abs(fh.frames / fh.samplerate - len(samples) / rate) < 0.2
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / 16000 - len(samples) / rate) < 0.2
    blocks = list(stream_audio(path, block_s=0.25))  # streamed in small blocks: same samples
    assert len(blocks) > 4 and abs(sum(map(len, blocks)) - len(audio)) <= 64
    wav_text = whisper_base.transcribe(load_audio(speech_dir / "goforward.wav")).text
    assert whisper_base.transcribe(audio).text == wav_text
    assert "forward" in wav_text.lower()


def test_truncated_mp4_is_one_clear_error_and_exit_2(tmp_path, speech) -> None:
    samples, rate = speech
    whole = tmp_path / "whole.mp4"
    encode(np.tile(samples, 3), rate, whole, "mp4", "aac", 44100)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(InputError, match=r"Cannot read .*cut\.mp4 as audio .*end is missing"):
        FileSource(cut)
    proc = run_cli("run", cut, "--speakers", "off", timeout=120)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "cut.mp4" in line]
    assert len(errors) == 1 and "end is missing" in errors[0], proc.stderr


def test_truncated_mp3_reports_the_damage(tmp_path, speech) -> None:
    samples, rate = speech
    whole = tmp_path / "whole.mp3"
    encode(samples, rate, whole, "mp3", "libmp3lame", 44100)
    load_audio(whole)  # the whole file is fine
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    with pytest.raises(InputError, match=r"truncated: .*cut\.mp3 declares \d+ bytes.*holds"):
        load_audio(cut)


def test_nan_samples_are_replaced_by_silence_and_reported(tmp_path, speech, caplog) -> None:
    samples, rate = speech
    bad = samples.copy()
    bad[rate : rate + 3] = np.nan
    bad[rate + 100] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, bad, rate, subtype="FLOAT")
    audio = load_audio(path)
    assert np.isfinite(audio).all()
    assert "4 non-finite samples" in caplog.text and "nan.wav" in caplog.text


def test_a_fifo_is_read_not_called_empty(tmp_path, speech, speech_dir) -> None:
    fifo = tmp_path / "live.fifo"
    os.mkfifo(fifo)
    payload = (speech_dir / "goforward.wav").read_bytes()

    def writer() -> None:
        with fifo.open("wb") as fh:
            fh.write(payload)

    thread = threading.Thread(target=writer)
    thread.start()
    source = FileSource(fifo)  # checking it must not consume it
    audio = np.concatenate(list(source._chunks()))
    thread.join(timeout=10)
    expected = load_audio(speech_dir / "goforward.wav")
    assert abs(len(audio) - len(expected)) <= 64
