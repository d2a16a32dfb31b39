"""Speaker identification per final segment: embedder (local or remote) + clustering."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from engine.config import SpeakerOptions
from engine.errors import ConfigError, RemoteServiceError
from engine.speakers.base import SAMPLE_RATE, SpeakerEmbedder, SpeakerIdentifier, SpeakerMatch
from engine.speakers.clustering import SpeakerClusterer
from engine.speakers.profiles import SpeakerProfiles

log = logging.getLogger(__name__)


class RemoteEmbedder:
    """Embeddings from an HTTP service: POST {url}/extract_embedding with JSON
    {"audio": [floats], "sample_rate": 16000} -> JSON list of floats.

    The service must run the same Resemblyzer encoder (its embeddings are compared with local
    profiles). On a failure (after `retries` extra tries) it falls back to `fallback` and stays
    there for `retry_after_s` before trying the service again; `backend_in_use` says which.
    Without a fallback the failure is raised as RemoteServiceError.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 3.0,
        retries: int = 1,
        retry_after_s: float = 30.0,
        fallback: SpeakerEmbedder | None = None,
        model_id: str | None = None,
    ) -> None:
        import httpx

        from engine.speakers.encoder import MODEL_ID

        self.url = url.rstrip("/") + "/extract_embedding"
        self.model_id = model_id or MODEL_ID
        self.retries = max(0, retries)
        self.retry_after_s = retry_after_s
        self.fallback = fallback
        self._client = httpx.Client(timeout=timeout_s)
        self._httpx = httpx
        self._down_until = 0.0
        self.backend_in_use = "remote"

    def _request(self, audio: np.ndarray) -> np.ndarray:
        payload = {"audio": audio.astype(float).tolist(), "sample_rate": SAMPLE_RATE}
        last: Exception | None = None
        for _ in range(self.retries + 1):
            try:
                response = self._client.post(self.url, json=payload)
                response.raise_for_status()
                data = response.json()
                vector = np.asarray(data, dtype=np.float64)
                if vector.ndim != 1 or vector.size == 0 or not np.all(np.isfinite(vector)):
                    raise ValueError("the answer is not a list of numbers")
                norm = float(np.linalg.norm(vector))
                if norm <= 0.0:
                    raise ValueError("the embedding is all zeros")
                return (vector / norm).astype(np.float32)
            except (self._httpx.HTTPError, ValueError, TypeError) as exc:
                last = exc
        raise RemoteServiceError(f"Speaker service {self.url} failed: {last}")

    def embed(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray | None:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if sample_rate != SAMPLE_RATE:
            from engine.speakers.audio import resample

            audio = resample(audio, sample_rate)
        if self.fallback is not None and time.monotonic() < self._down_until:
            return self.fallback.embed(audio)
        try:
            vector = self._request(audio)
        except RemoteServiceError as exc:
            if self.fallback is None:
                raise
            if self.backend_in_use == "remote":
                log.warning("%s; using the local speaker encoder", exc)
            self.backend_in_use = "local (remote failed)"
            self._down_until = time.monotonic() + self.retry_after_s
            return self.fallback.embed(audio)
        self.backend_in_use = "remote"
        return vector

    def close(self) -> None:
        self._client.close()


class EmbeddingSpeakerIdentifier:
    """`SpeakerIdentifier` over any embedder: enrolled profiles first, then online clustering.

    Thread-safe: `identify` runs on the pipeline's worker, `rename` may come from the UI.
    Enrolled profiles are read once, when the identifier is made (i.e. per run/session).
    """

    def __init__(
        self,
        options: SpeakerOptions | None = None,
        *,
        embedder: SpeakerEmbedder | None = None,
        profiles: SpeakerProfiles | None = None,
    ) -> None:
        self.options = options or SpeakerOptions()
        if embedder is None:
            from engine.speakers.encoder import load_voice_encoder

            embedder = load_voice_encoder(cpu_threads=self.options.cpu_threads)
        self.embedder = embedder
        self.profiles = profiles if profiles is not None else SpeakerProfiles()
        enrolled = self.profiles.embeddings(embedder.model_id)
        self._clusterer = SpeakerClusterer(self.options, enrolled)
        self._lock = threading.Lock()

    @property
    def backend_in_use(self) -> str:
        return getattr(self.embedder, "backend_in_use", "local")

    @property
    def labels(self) -> tuple[str, ...]:
        with self._lock:
            return self._clusterer.labels

    @property
    def enrolled_names(self) -> tuple[str, ...]:
        return self._clusterer.enrolled_names

    def identify(self, audio: np.ndarray, duration_s: float | None = None) -> SpeakerMatch:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if duration_s is None:
            duration_s = len(audio) / SAMPLE_RATE
        embedding = self.embedder.embed(audio, SAMPLE_RATE) if audio.size else None
        with self._lock:
            return self._clusterer.assign(embedding, duration_s)

    def rename(self, old_label: str, new_name: str) -> None:
        with self._lock:
            self._clusterer.rename(old_label, new_name)


def create_identifier(
    options: SpeakerOptions, profiles: SpeakerProfiles | None = None
) -> SpeakerIdentifier | None:
    """The identifier `options` ask for; None when speaker identification is off."""
    if options.mode == "off":
        return None
    if options.mode != "auto":
        raise ConfigError(f"Unknown speaker mode {options.mode!r}: use 'auto' or 'off'.")
    from engine.speakers.encoder import load_voice_encoder

    if options.backend == "local":
        embedder: SpeakerEmbedder = load_voice_encoder(cpu_threads=options.cpu_threads)
    elif options.backend == "remote":
        embedder = RemoteEmbedder(
            options.remote_url,
            timeout_s=options.remote_timeout_s,
            fallback=load_voice_encoder(cpu_threads=options.cpu_threads),
        )
    else:
        raise ConfigError(f"Unknown speaker backend {options.backend!r}: use 'local' or 'remote'.")
    return EmbeddingSpeakerIdentifier(options, embedder=embedder, profiles=profiles)
