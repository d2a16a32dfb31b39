"""Reference HTTP service for Piper speech (DESIGN.md: POST /tts, the seed's POST /synthesize).

    POST /tts              {"text", "voice": id | null, "lang": "en"} -> audio/wav
    POST /synthesize       {"text", "language": "en", "voice": id | null,
                            "speaker_wav": base64 WAV | null} -> audio/wav
    POST /v1/audio/speech  OpenAI's {"model", "input", "voice", "response_format", "speed"}
    GET  /health           {"status": "ok", "voices": [...]}

Every answer says in `X-Voice` which voice spoke. `/synthesize` is the seed's YourTTS-style
endpoint served by Piper: Piper cannot clone a voice, so a `speaker_wav` is checked (it must be
a readable WAV) but the language's voice speaks, and `X-Voice-Cloned: false` says so.

Voices are ids of the model store (`piper-de_DE-thorsten-medium`, `#2` for one speaker of a
multi-speaker voice) or the packaged English voice, never paths: an id has no dots, slashes or
tildes, and resolves only inside the model store. Text is synthesised sentence by sentence
(long run-on sentences cut at word boundaries) into a 16-bit buffer, so memory grows with the
audio, not with the model's working set on one huge input; one synthesis runs at a time, a few
more wait, the rest get 503. Errors: 400 unknown voice or language, 413 text or body over the
limits, 422 malformed request, 500 the model failed, all as `{"detail": "..."}`.
Run with `dragoman serve tts` (5005) or `dragoman serve synthesize` (5004).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, WithJsonSchema
from starlette.responses import Response

from engine.config import SpeechOptions
from engine.errors import ConfigError, DragomanError, ModelError
from engine.sentences import split_sentences
from engine.services.web import (
    Bounded,
    CleanText,
    ServiceGuard,
    error_responses,
    new_app,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 5_000
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024  # room for a speaker reference WAV (base64)
MAX_PIECE_CHARS = 300  # longer sentences are cut at word boundaries before synthesis

VOICE_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}(#[A-Za-z0-9_-]{1,40})?$"


def _check_voice_id(value: str) -> str:
    if not re.fullmatch(VOICE_ID, value):
        raise ValueError(
            "voice must be a voice id (letters, digits, '-', '_', optional '#speaker'), not a path"
        )
    return value


VoiceId = Annotated[
    str,
    AfterValidator(_check_voice_id),
    WithJsonSchema({"type": "string", "pattern": VOICE_ID}),
]
LangCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")]
# OpenAI's voice names: the language's default voice answers them.
OPENAI_VOICES = frozenset(
    [
        "alloy",
        "ash",
        "ballad",
        "coral",
        "echo",
        "fable",
        "nova",
        "onyx",
        "sage",
        "shimmer",
        "verse",
        "marin",
        "cedar",
    ]
)


class TtsRequest(BaseModel):
    text: CleanText = Field(description="text to speak (several sentences allowed)")
    voice: VoiceId | None = Field(None, description="voice id (model store); null = lang's voice")
    lang: LangCode = Field("en", description="language of the text, used when voice is null")


class SynthesizeRequest(BaseModel):
    """The seed's YourTTS-style request."""

    text: CleanText = Field(description="text to speak")
    language: LangCode = Field("en", description="language of the text")
    voice: VoiceId | None = Field(None, description="voice id; null = the language's voice")
    speaker_wav: str | None = Field(
        None,
        description="base64 WAV of the speaker to imitate; Piper cannot clone voices, so it is "
        "only checked, and X-Voice-Cloned says false",
    )


class SpeechRequest(BaseModel):
    """OpenAI's `POST /v1/audio/speech`."""

    model: str = Field(description="any name (tts-1, piper, ...): Piper answers")
    input: CleanText = Field(description="text to speak")
    voice: VoiceId = Field(description="an OpenAI voice name (the language's voice) or a voice id")
    response_format: Literal["wav", "pcm", "flac", "mp3", "opus", "aac"] = Field(
        "wav", description="wav, flac or pcm (16-bit mono little-endian); no mp3/opus/aac"
    )
    speed: float = Field(1.0, ge=0.25, le=4.0)
    instructions: str | None = Field(None, description="ignored")
    language: LangCode = Field("en", description="Dragoman extension: language of the input")


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def wav_header(data_bytes: int, sample_rate: int) -> bytes:
    """The 44-byte header of a 16-bit mono PCM WAV holding `data_bytes` of samples."""
    import struct

    return b"RIFF" + struct.pack(
        "<I4s4sIHHIIHH4sI",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        sample_rate,
        sample_rate * 2,
        2,
        16,
        b"data",
        data_bytes,
    )


def pieces(text: str, limit: int = MAX_PIECE_CHARS) -> Iterator[str]:
    """Sentences of `text`, each cut at word boundaries (or hard) to at most `limit` chars."""
    for sentence in split_sentences(text):
        while len(sentence) > limit:
            cut = max(sentence.rfind(sep, 0, limit) for sep in (", ", "; ", " "))
            cut = cut if cut > limit // 3 else limit
            yield sentence[:cut].strip()
            sentence = sentence[cut:].strip()
        if sentence:
            yield sentence


def store_voice(voice_id: str) -> str:
    """A voice id -> the reference PiperSynthesizer takes (absolute .onnx path, '#speaker').

    Looks only in the model store and the packaged English voice. Raises ConfigError with a
    message that names no server path."""
    from engine import paths
    from engine.models import packaged
    from engine.tts.voices import PACKAGED_EN_ID, read_voice_file, split_ref

    base, speaker = split_ref(voice_id)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", base):
        raise ConfigError(f"voice must be a voice id, not {voice_id!r}")
    name = base.removeprefix("piper-")
    store = paths.models_dir()
    model: Path | None = None
    for directory in (store / base, store / f"piper-{name}"):
        if model is None and directory.is_dir():
            exact = directory / f"{name}.onnx"
            found = sorted(directory.glob("*.onnx"))
            model = exact if exact.is_file() else (found[0] if found else None)
    if model is None and name == PACKAGED_EN_ID:
        model = packaged.piper_joe_voice()
    if model is None:
        raise ConfigError(f"unknown voice {voice_id!r} (GET /health lists the voices)")
    try:
        read_voice_file(model)
    except ModelError as exc:
        raise ConfigError(f"voice {voice_id!r} is not usable (its config is missing)") from exc
    return str(model) + (f"#{speaker}" if speaker is not None else "")


def create_app(
    options: SpeechOptions | None = None,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    guard: ServiceGuard | None = None,
    synthesizer: Any = None,
    max_waiting: int = 16,
) -> Any:
    """The FastAPI app; voices load on first use and stay cached.

    synthesizer: a `Synthesizer` (default: local Piper with `options`).
    guard: token / Host / body-size rules (default: loopback, no token, max_request_bytes).
    """
    from fastapi import HTTPException

    from engine.tts.piper_local import PiperSynthesizer
    from engine.tts.stage import voice_name

    options = options or SpeechOptions()
    synth = synthesizer if synthesizer is not None else PiperSynthesizer(options)
    bounded = Bounded(workers=1, queue=max_waiting)
    guard = guard or ServiceGuard(max_request_bytes=max_request_bytes)
    app = new_app(
        "Dragoman speech (Piper)",
        "Text to speech with local Piper voices; answers WAV. One synthesis at a time; limits: "
        f"{max_chars} characters, {guard.max_request_bytes} bytes per request.",
        guard,
    )
    app.state.synthesizer = synth

    @app.get("/health")
    def health() -> dict[str, Any]:
        from engine import paths

        store = paths.models_dir()
        voices = (
            sorted(p.name for p in store.glob("piper-*") if p.is_dir()) if store.is_dir() else []
        )
        return {"status": "ok", "voices": voices or ["piper-en_US-joe-medium"]}

    def speak(
        text: str, lang: str, voice_id: str | None, speed: float = 1.0
    ) -> tuple[bytes, int, str]:
        """(16-bit PCM, rate, voice name). Raises HTTPException (4xx/5xx)."""
        text = text.strip()
        if not text:
            raise HTTPException(422, "text is empty")
        if len(text) > max_chars:
            raise HTTPException(413, f"text longer than {max_chars} characters")
        voice: str | None = None
        try:
            if voice_id is not None:
                voice = store_voice(voice_id)
            elif options.voice is None and options.voices.get(lang) is None:
                from engine.tts.voices import voices_for_lang

                voices_for_lang(options, lang)  # 400 now for a language without a voice
        except (ConfigError, ModelError) as exc:
            raise HTTPException(400, str(exc)) from exc  # messages without server paths
        engine = synth
        if speed != 1.0:
            engine = PiperSynthesizer(replace(options, length_scale=options.length_scale / speed))
        pcm = bytearray()
        rate = 0
        spoke = ""
        with bounded:
            try:
                for piece in pieces(text):
                    for chunk in engine.synthesize(piece, lang, voice):
                        if rate and chunk.sample_rate != rate:
                            raise DragomanError("the voice changed its sample rate")
                        rate = chunk.sample_rate
                        spoke = chunk.voice
                        samples = np.clip(chunk.samples, -1.0, 1.0) * 32767.0
                        pcm += samples.astype("<i2").tobytes()
            except HTTPException:
                raise
            except ConfigError as exc:  # e.g. an unknown '#speaker' of the voice
                raise HTTPException(400, str(exc)) from exc
            except Exception as exc:
                log.exception("synthesis failed")
                raise HTTPException(500, f"synthesis failed ({type(exc).__name__})") from exc
        if not pcm:
            raise HTTPException(422, "nothing to say in this text")
        return bytes(pcm), rate, voice_name(spoke)

    wav_answer: dict[int | str, dict[str, Any]] = {
        200: {"content": {"audio/wav": {}}, "description": "16-bit mono WAV"},
        **error_responses(400, 401, 413, 422, 500, 503),
    }

    @app.post("/tts", response_class=Response, responses=wav_answer)
    def tts(req: TtsRequest) -> Response:
        pcm, rate, voice = speak(req.text, req.lang, req.voice)
        return Response(
            content=wav_header(len(pcm), rate) + pcm,
            media_type="audio/wav",
            headers={"X-Voice": voice},
        )

    @app.post("/synthesize", response_class=Response, responses=wav_answer)
    def synthesize(req: SynthesizeRequest) -> Response:
        if req.speaker_wav is not None:
            check_reference(req.speaker_wav)
        pcm, rate, voice = speak(req.text, req.language, req.voice)
        return Response(
            content=wav_header(len(pcm), rate) + pcm,
            media_type="audio/wav",
            headers={"X-Voice": voice, "X-Voice-Cloned": "false"},
        )

    speech_answer: dict[int | str, dict[str, Any]] = {
        200: {
            "content": {"audio/wav": {}, "audio/flac": {}, "audio/pcm": {}},
            "description": "speech in the asked format",
        },
        **error_responses(400, 401, 413, 422, 500, 503),
    }

    @app.post("/v1/audio/speech", response_class=Response, responses=speech_answer)
    def openai_speech(req: SpeechRequest) -> Response:
        if req.response_format in ("mp3", "opus", "aac"):
            raise HTTPException(400, f"{req.response_format} is not available: ask for wav")
        voice_id = None if req.voice.lower() in OPENAI_VOICES else req.voice
        pcm, rate, voice = speak(req.input, req.language, voice_id, req.speed)
        headers = {"X-Voice": voice}
        if req.response_format == "pcm":
            return Response(content=pcm, media_type="audio/pcm", headers=headers)
        if req.response_format == "flac":
            samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32767.0
            import soundfile as sf

            buf = io.BytesIO()
            sf.write(buf, samples, rate, format="FLAC", subtype="PCM_16")
            return Response(content=buf.getvalue(), media_type="audio/flac", headers=headers)
        return Response(
            content=wav_header(len(pcm), rate) + pcm, media_type="audio/wav", headers=headers
        )

    return app


def check_reference(encoded: str) -> None:
    """A speaker reference must be base64 of a readable audio file (HTTPException 422)."""
    import soundfile as sf
    from fastapi import HTTPException

    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HTTPException(422, "speaker_wav is not base64") from exc
    try:
        info = sf.info(io.BytesIO(data))
    except Exception as exc:  # libsndfile raises several types for bad input
        raise HTTPException(422, "speaker_wav is not a readable WAV file") from exc
    if info.frames <= 0:
        raise HTTPException(422, "speaker_wav holds no audio")
