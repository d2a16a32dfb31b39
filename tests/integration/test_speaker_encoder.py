"""Parity of the torch-free Resemblyzer encoder with golden embeddings made by `resemblyzer`.

Golden file: tests/fixtures/resemblyzer/golden.npz, written by tools/make_resemblyzer_golden.py
with resemblyzer 0.1.4 + torch 2.13.0 (real clips from ../shared/data/speech and one espeak-ng
clip committed beside the golden file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.speakers.audio import mel_basis, preprocess_wav, wav_to_mel_spectrogram
from engine.speakers.encoder import compute_partial_slices, load_voice_encoder

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "resemblyzer"
SPEECH = REPO / ".." / "shared" / "data" / "speech"
GOLDEN = np.load(FIXTURES / "golden.npz")
CLIPS = sorted(SPEECH.glob("*.wav")) + [FIXTURES / "espeak_en.wav"]


def _clip_ids() -> list[str]:
    return [c.stem for c in CLIPS]


def test_every_golden_clip_is_present() -> None:
    golden_clips = {k.split("/")[0] for k in GOLDEN.files if k.endswith("/embed")}
    assert golden_clips == set(_clip_ids()), "regenerate the golden file or restore the clips"
    assert len(golden_clips) >= 9


def test_mel_filterbank_matches_librosa() -> None:
    np.testing.assert_allclose(mel_basis(), GOLDEN["mel_basis"], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", ["cards-001", "espeak_en"])
def test_mel_spectrogram_matches_resemblyzer(name: str) -> None:
    path = FIXTURES / "espeak_en.wav" if name == "espeak_en" else SPEECH / f"{name}.wav"
    wav, sr = sf.read(path, dtype="float32")
    mel = wav_to_mel_spectrogram(preprocess_wav(wav, sr))
    golden = GOLDEN[f"mel/{name}"]
    assert mel.shape == golden.shape
    assert np.abs(mel - golden).max() <= 1e-4 * np.abs(golden).max()


@pytest.mark.parametrize("path", CLIPS, ids=_clip_ids())
def test_embedding_matches_resemblyzer(path: Path) -> None:
    encoder = load_voice_encoder()
    wav, sr = sf.read(path, dtype="float32")
    pre = preprocess_wav(wav, sr)
    # Resampling, volume normalisation and WebRTC-VAD trimming keep exactly the same samples.
    assert len(pre) == int(GOLDEN[f"{path.stem}/pre_len"])
    embed, partials = encoder.embed_utterance(pre, return_partials=True)
    golden = GOLDEN[f"{path.stem}/embed"]
    assert partials.shape == GOLDEN[f"{path.stem}/partials"].shape
    assert embed.shape == (256,)
    assert abs(float(np.linalg.norm(embed)) - 1.0) < 1e-5
    assert float(embed @ golden) >= 0.9999
    # The one-call path used by the identifier gives the same embedding.
    assert float(encoder.embed(wav, sr) @ golden) >= 0.9999
    if f"{path.stem}/raw_embed" in GOLDEN.files:  # network alone, without preprocessing
        assert float(encoder.embed_utterance(wav) @ GOLDEN[f"{path.stem}/raw_embed"]) >= 0.9999


def test_different_people_are_less_similar_than_one_person() -> None:
    """The goldens themselves: the cards-* clips are one speaker, goforward/forever others."""
    e = {n: GOLDEN[f"{n}/embed"] for n in _clip_ids()}
    same = float(e["cards-002"] @ e["cards-005"])
    assert same > float(e["cards-002"] @ e["forever"])
    assert same > float(e["cards-002"] @ e["goforward"])


def test_partial_slices_follow_resemblyzer() -> None:
    # 1 s -> one partial; 3.2 s at 1.3 partials/s -> frame step 77, last partial dropped when
    # it covers < 75 %.
    assert compute_partial_slices(16_000) == [slice(0, 160)]
    slices = compute_partial_slices(51_840)
    assert [s.start for s in slices] == [0, 77, 154]
    assert all(s.stop - s.start == 160 for s in slices)


def test_silence_gives_no_embedding() -> None:
    encoder = load_voice_encoder()
    assert encoder.embed(np.zeros(32_000, np.float32)) is None
