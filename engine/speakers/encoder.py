"""Resemblyzer's voice encoder without torch: numpy preprocessing, ONNX Runtime network.

The network is `resemblyzer.VoiceEncoder` 0.1.4: a 3-layer LSTM (40 -> 256 hidden) over 1.6 s
partial utterances of mel frames, the last layer's final hidden state through linear + ReLU,
L2-normalised; an utterance embedding is the re-normalised mean of its partials
(`embed_utterance`, 1.3 partials per second, so neighbours overlap by about half). The weights
are Resemblyzer's `pretrained.pt` converted once by `tools/make_resemblyzer_golden.py` to
`resources/speaker/voice_encoder.onnx` (Apache-2.0, see resources/speaker/README.md), run
on ONNX Runtime with an explicit thread budget.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from engine import paths
from engine.errors import ModelError
from engine.models.packaged import sha256_file
from engine.speakers.audio import (
    HOP_LENGTH,
    SAMPLE_RATE,
    preprocess_wav,
    wav_to_mel_spectrogram,
)

log = logging.getLogger(__name__)

MODEL_ID = "resemblyzer-voice-encoder"
MODEL_SHA256 = "ebae0b2814e40dd3116f4088836b72181da940d1b2854922bc1df66d8cef17db"
PARTIALS_N_FRAMES = 160  # 1.6 s
EMBEDDING_SIZE = 256
MIN_VOICED_S = 0.25  # less voiced audio than this after trimming: no embedding


def default_model_path() -> Path:
    return paths.resources_dir() / "speaker" / "voice_encoder.onnx"


def compute_partial_slices(
    n_samples: int, rate: float = 1.3, min_coverage: float = 0.75
) -> list[slice]:
    """Mel-frame slices of the partial utterances (resemblyzer's `compute_partial_slices`)."""
    if not 0 < min_coverage <= 1:
        raise ValueError("min_coverage must be in (0, 1]")
    n_frames = int(np.ceil((n_samples + 1) / HOP_LENGTH))
    frame_step = int(np.round((SAMPLE_RATE / rate) / HOP_LENGTH))
    if not 0 < frame_step <= PARTIALS_N_FRAMES:
        raise ValueError(f"rate {rate} is outside the range the partials allow")
    steps = max(1, n_frames - PARTIALS_N_FRAMES + frame_step + 1)
    slices = [slice(i, i + PARTIALS_N_FRAMES) for i in range(0, steps, frame_step)]
    last = slices[-1]
    coverage = (n_samples - last.start * HOP_LENGTH) / (PARTIALS_N_FRAMES * HOP_LENGTH)
    if coverage < min_coverage and len(slices) > 1:
        slices = slices[:-1]
    return slices


class VoiceEncoder:
    """Torch-free Resemblyzer voice encoder on ONNX Runtime. Thread-safe.

    cpu_threads is the ONNX Runtime intra-op budget (one thread is ~5x faster than numpy's
    multi-threaded BLAS on this small LSTM when the machine is busy).
    """

    model_id = MODEL_ID

    def __init__(self, model_path: Path | None = None, *, cpu_threads: int = 1) -> None:
        path = Path(model_path) if model_path else default_model_path()
        if not path.is_file():
            raise ModelError(
                f"Speaker model not found at {path}: reinstall Dragoman (resources/speaker) or "
                "regenerate it with tools/make_resemblyzer_golden.py."
            )
        if model_path is None and sha256_file(path) != MODEL_SHA256:
            raise ModelError(
                f"Speaker model {path} fails its checksum (corrupt or replaced): reinstall "
                "Dragoman or regenerate it with tools/make_resemblyzer_golden.py."
            )
        from engine.ort_session import create_session

        self._session = create_session(path, threads=cpu_threads, what="speaker model")
        self.path = path

    def forward(self, mels: np.ndarray) -> np.ndarray:
        """(batch, frames, 40) mel partials -> (batch, 256) L2-normed embeddings."""
        raw = self._session.run(None, {"mels": np.ascontiguousarray(mels, dtype=np.float32)})[0]
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return (raw / np.maximum(norms, 1e-12)).astype(np.float32)

    def embed_utterance(
        self,
        wav: np.ndarray,
        *,
        rate: float = 1.3,
        min_coverage: float = 0.75,
        return_partials: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Embedding of an already preprocessed 16 kHz waveform (resemblyzer's
        `embed_utterance`): the re-normalised mean of the partial embeddings."""
        wav = np.asarray(wav, dtype=np.float32)
        slices = compute_partial_slices(len(wav), rate, min_coverage)
        needed = slices[-1].stop * HOP_LENGTH
        if needed >= len(wav):
            wav = np.pad(wav, (0, needed - len(wav)))
        mel = wav_to_mel_spectrogram(wav)
        mels = np.stack([mel[s] for s in slices])
        partials = self.forward(mels)
        raw = partials.mean(axis=0)
        embed = (raw / max(float(np.linalg.norm(raw)), 1e-12)).astype(np.float32)
        return (embed, partials) if return_partials else embed

    def embed(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray | None:
        """Embedding of raw mono audio (any rate) after resemblyzer's preprocessing, or None
        when less than MIN_VOICED_S of voice is left after trimming silences."""
        wav = preprocess_wav(np.asarray(audio, dtype=np.float32).reshape(-1), sample_rate)
        if len(wav) < MIN_VOICED_S * SAMPLE_RATE:
            return None
        result = self.embed_utterance(wav)
        assert isinstance(result, np.ndarray)
        return result

    def warm_up(self) -> None:
        """Run once on a short synthetic signal so the first real segment is not slower."""
        t = np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
        self.embed_utterance(0.1 * np.sin(2 * np.pi * 220.0 * t).astype(np.float32))


@functools.cache
def load_voice_encoder(model_path: Path | None = None, cpu_threads: int = 1) -> VoiceEncoder:
    """The encoder loaded once per process (and warmed up)."""
    encoder = VoiceEncoder(model_path, cpu_threads=cpu_threads)
    encoder.warm_up()
    log.info("speaker encoder loaded from %s", encoder.path)
    return encoder
