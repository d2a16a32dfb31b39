"""Reference HTTP service for speaker embeddings (DESIGN.md: POST /extract_embedding).

    POST /extract_embedding  {"audio": [floats], "sample_rate": 16000} -> [256 floats]
    GET  /health             {"status": "ok", "model": "resemblyzer-voice-encoder"}

`RemoteEmbedder` is its client. Bound to 127.0.0.1 by whoever serves it; requests above
`max_request_bytes` get 413, bad input 422 with a readable `detail`. Run with e.g.
`uvicorn --factory engine.speakers.service:create_app --port 5003`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from engine.services import limit_request_size
from engine.speakers.base import SpeakerEmbedder

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
) -> Any:
    """The FastAPI app (the local encoder is loaded on the first request unless given)."""
    try:
        from fastapi import FastAPI, HTTPException
    except ImportError as exc:  # pragma: no cover - fastapi is a runtime dependency
        from engine.errors import ConfigError

        raise ConfigError("The speaker service needs FastAPI: run `pip install fastapi`.") from exc

    state: dict[str, SpeakerEmbedder] = {}
    if embedder is not None:
        state["embedder"] = embedder

    def get_embedder() -> SpeakerEmbedder:
        if "embedder" not in state:
            from engine.speakers.encoder import load_voice_encoder

            state["embedder"] = load_voice_encoder()
        return state["embedder"]

    app = FastAPI(
        title="Dragoman speaker embeddings",
        description="Resemblyzer voice embeddings (256 floats, L2-normalised) of mono audio.",
        version="1",
    )

    limit_request_size(app, max_request_bytes)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model": get_embedder().model_id}

    @app.post("/extract_embedding", response_model=list[float])
    def extract_embedding(req: EmbeddingRequest) -> list[float]:
        audio = np.asarray(req.audio, dtype=np.float32)
        if audio.size == 0:
            raise HTTPException(422, "audio is empty")
        if audio.size > max_seconds * req.sample_rate:
            raise HTTPException(413, f"audio longer than {max_seconds:.0f} s")
        if not np.all(np.isfinite(audio)):
            raise HTTPException(422, "audio contains NaN or infinite samples")
        embedding = get_embedder().embed(audio, req.sample_rate)
        if embedding is None:
            raise HTTPException(422, "no voice found in the audio")
        return [float(x) for x in embedding]

    return app
