"""Reference HTTP service for speaker embeddings (DESIGN.md: POST /extract_embedding).

    POST /extract_embedding  {"audio": [floats], "sample_rate": 16000} -> [256 floats]
    GET  /health             {"status": "ok", "model": "resemblyzer-voice-encoder"}

`RemoteEmbedder` is its client. Requests above `max_request_bytes` (counted on the bytes
received) get 413, bad input 422 and a failing model 500, each with a readable `detail`; one
embedding is computed at a time (a few more wait, the rest get 503). Run with
`dragoman serve speaker` or `uvicorn --factory engine.speakers.service:create_app --port 5003`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from engine.services.web import Bounded, ServiceGuard, error_responses, new_app
from engine.speakers.base import SpeakerEmbedder

log = logging.getLogger(__name__)

DEFAULT_MAX_SECONDS = 120.0
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024


class EmbeddingRequest(BaseModel):
    audio: list[float] = Field(description="mono samples in [-1, 1]")
    sample_rate: int = Field(16_000, ge=8_000, le=96_000)


def create_app(
    embedder: SpeakerEmbedder | None = None,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    guard: ServiceGuard | None = None,
    max_waiting: int = 16,
) -> Any:
    """The FastAPI app (the local encoder is loaded on the first request unless given).

    guard: token / Host / body-size rules (default: loopback, no token, max_request_bytes).
    """
    from fastapi import HTTPException

    state: dict[str, SpeakerEmbedder] = {}
    if embedder is not None:
        state["embedder"] = embedder
    bounded = Bounded(workers=1, queue=max_waiting)
    guard = guard or ServiceGuard(max_request_bytes=max_request_bytes)

    def get_embedder() -> SpeakerEmbedder:
        if "embedder" not in state:
            from engine.speakers.encoder import load_voice_encoder

            state["embedder"] = load_voice_encoder()
        return state["embedder"]

    app = new_app(
        "Dragoman speaker embeddings",
        "Resemblyzer voice embeddings (256 floats, L2-normalised) of mono audio; limits: "
        f"{max_seconds:g} s of audio, {guard.max_request_bytes} bytes per request.",
        guard,
    )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model": get_embedder().model_id}

    @app.post(
        "/extract_embedding",
        response_model=list[float],
        responses=error_responses(401, 413, 422, 500, 503),
    )
    def extract_embedding(req: EmbeddingRequest) -> list[float]:
        samples = np.asarray(req.audio, dtype=np.float64)
        if samples.size == 0:
            raise HTTPException(422, "audio is empty")
        if samples.size > max_seconds * req.sample_rate:
            raise HTTPException(413, f"audio longer than {max_seconds:.0f} s")
        if not np.all(np.isfinite(samples)):
            raise HTTPException(422, "audio contains NaN or infinite samples")
        if float(np.max(np.abs(samples))) > 1.5:
            raise HTTPException(422, "audio samples must lie in [-1, 1]")
        audio = np.clip(samples, -1.0, 1.0).astype(np.float32)
        with bounded:
            try:
                embedding = get_embedder().embed(audio, req.sample_rate)
            except Exception as exc:
                log.exception("embedding failed")
                raise HTTPException(500, f"embedding failed ({type(exc).__name__})") from exc
        if embedding is None:
            raise HTTPException(422, "no voice found in the audio")
        return [float(x) for x in embedding]

    return app
