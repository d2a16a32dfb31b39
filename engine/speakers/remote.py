"""Client of the speaker-embedding service: POST {url}/extract_embedding with JSON
{"audio": [floats], "sample_rate": 16000} -> JSON list of floats.

The service must run the same Resemblyzer encoder (its embeddings are compared with local
profiles). Timeouts, retries and the circuit breaker follow `engine.remote.RemotePolicy`. On a
failure it uses `fallback` (the local encoder) while the circuit is open, then probes the
service again; `backend_in_use` says which: "remote" or "local (remote down)". Without a
fallback the failure is raised as RemoteServiceError.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from engine.errors import RemoteServiceError
from engine.remote import RemotePolicy, ServiceClient
from engine.speakers.base import SAMPLE_RATE, SpeakerEmbedder

log = logging.getLogger(__name__)

LOCAL_FALLBACK = "local (remote down)"


def _parse_embedding(response: Any) -> np.ndarray:
    vector = np.asarray(response.json(), dtype=np.float64)
    if vector.ndim != 1 or vector.size == 0 or not np.all(np.isfinite(vector)):
        raise ValueError("the answer is not a list of numbers")
    norm = float(np.linalg.norm(vector))
    if norm <= 0.0:
        raise ValueError("the embedding is all zeros")
    return (vector / norm).astype(np.float32)


class RemoteEmbedder:
    """`SpeakerEmbedder` over the HTTP service (see the module doc)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 3.0,
        retries: int = 1,
        retry_after_s: float = 30.0,
        fallback: SpeakerEmbedder | None = None,
        model_id: str | None = None,
        token: str | None = None,
        transport: Any = None,
    ) -> None:
        from engine.speakers.encoder import MODEL_ID

        self.url = url.rstrip("/") + "/extract_embedding"
        self.model_id = model_id or MODEL_ID
        self.fallback = fallback
        self.backend_in_use = "remote"
        policy = RemotePolicy(
            connect_timeout_s=min(2.0, timeout_s),
            read_timeout_s=timeout_s,
            retries=retries,
            breaker_reset_s=retry_after_s,
            token=token,
        )
        self.client = ServiceClient("speaker service", url, policy, transport=transport)

    def embed(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray | None:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if sample_rate != SAMPLE_RATE:
            from engine.speakers.audio import resample

            audio = resample(audio, sample_rate)
        if self.fallback is not None and not self.client.available:
            return self.fallback.embed(audio)
        payload = {"audio": audio.astype(float).tolist(), "sample_rate": SAMPLE_RATE}
        try:
            vector = self.client.call("/extract_embedding", payload, _parse_embedding)
        except RemoteServiceError as exc:
            if self.fallback is None:
                raise
            if self.backend_in_use == "remote":
                log.warning("%s; using the local speaker encoder", str(exc).rstrip("."))
            self.backend_in_use = LOCAL_FALLBACK
            return self.fallback.embed(audio)
        self.backend_in_use = "remote"
        return vector

    def close(self) -> None:
        self.client.close()
