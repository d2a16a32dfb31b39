"""Reference HTTP service for Piper speech (DESIGN.md: POST /tts).

    POST /tts     {"text": "...", "voice": "piper-en_US-joe-medium" | null, "lang": "en"}
                  -> audio/wav (16-bit PCM mono at the voice's rate)
    GET  /health  {"status": "ok", "voices": [...]}

`engine.tts.remote.RemoteSynthesizer` is its client. Voices are model-store ids or the packaged
English voice, never file paths (a client must not make the server open arbitrary files).
Text above `max_chars` gets 413; empty text, a path or an unknown voice 422 with a readable
`detail`. Run with e.g. `uvicorn --factory engine.tts.service:create_app --port 5005`.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from engine.config import SpeechOptions
from engine.errors import DragomanError

DEFAULT_MAX_CHARS = 5_000


class TtsRequest(BaseModel):
    text: str = Field(description="text to speak (several sentences allowed)")
    voice: str | None = Field(None, description="voice id (model store); null = lang's voice")
    lang: str = Field("en", description="language of the text, used when voice is null")


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def create_app(options: SpeechOptions | None = None, *, max_chars: int = DEFAULT_MAX_CHARS) -> Any:
    """The FastAPI app; voices load on first use and stay cached."""
    try:
        from fastapi import FastAPI, HTTPException
        from fastapi.responses import Response
    except ImportError as exc:  # pragma: no cover - fastapi is a runtime dependency
        from engine.errors import ConfigError

        raise ConfigError("The speech service needs FastAPI: run `pip install fastapi`.") from exc
    from engine.tts.piper_local import PiperSynthesizer

    synth = PiperSynthesizer(options or SpeechOptions())
    app = FastAPI(
        title="Dragoman speech (Piper)",
        description="Text to speech with local Piper voices; answers WAV bytes.",
        version="1",
    )

    @app.get("/health")
    def health() -> dict[str, Any]:
        from engine import paths

        store = paths.models_dir()
        voices = (
            sorted(p.name for p in store.glob("piper-*") if p.is_dir()) if store.is_dir() else []
        )
        return {"status": "ok", "voices": voices or ["piper-en_US-joe-medium"]}

    @app.post("/tts", response_class=Response, responses={200: {"content": {"audio/wav": {}}}})
    def tts(req: TtsRequest) -> Response:
        text = req.text.strip()
        if not text:
            raise HTTPException(422, "text is empty")
        if len(text) > max_chars:
            raise HTTPException(413, f"text longer than {max_chars} characters")
        voice = req.voice
        if voice is not None and ("/" in voice or "\\" in voice or ".." in voice):
            raise HTTPException(422, "voice must be a voice id, not a path")
        try:
            chunks = list(synth.synthesize(text, req.lang, voice))
        except DragomanError as exc:
            raise HTTPException(422, str(exc)) from exc
        if not chunks:
            raise HTTPException(422, "nothing to say in this text")
        rate = chunks[0].sample_rate
        audio = np.concatenate([c.samples for c in chunks])
        return Response(content=wav_bytes(audio, rate), media_type="audio/wav")

    return app
