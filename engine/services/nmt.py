"""Reference HTTP translation service (DESIGN.md: POST /v1/translate on port 5008).

    POST /v1/translate  {"texts": ["...", ...], "source_lang": "de", "target_lang": "en"}
                     or {"text": "...", "source_lang": "de", "target_lang": "en"}
        -> {"translations": [{"text", "quality_metrics", "model"}, ...], "model",
            "source_lang", "target_lang", "timings": {...}}
           (a single-text request also gets "text" and "quality_metrics" at the top level,
           like the seed's NmtTranslateResponse)
    GET  /health        {"status": "ok", "model", "backend", "languages": [...]}

`engine.translate.remote.RemoteTranslator` is its client. The translator is loaded (and warmed
up) once, when the app is created, and called under a lock: one translation at a time, in
arrival order; `timings.queue_s` says how long a request waited for the ones before it.
Errors answer `{"detail": "<sentence>"}`: 400 unsupported language pair, 413 too many texts or
characters (or a body over `max_request_bytes`), 422 malformed or empty request, 500 when the
model fails. Blank items inside a batch come back as empty translations (as in-process).
Run with `dragoman serve nmt` (binds 127.0.0.1:5008), or
`uvicorn --factory engine.services.nmt:create_app` for the default model.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from engine.config import TranslationOptions
from engine.errors import ConfigError, DragomanError
from engine.services import limit_request_size
from engine.translate import TranslationResult, Translator, create_translator
from engine.translate import languages as lang_table

log = logging.getLogger(__name__)

DEFAULT_MAX_TEXTS = 64
DEFAULT_MAX_CHARS = 10_000
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024


class TranslateRequest(BaseModel):
    """Either `texts` (a batch) or `text` (one sentence), with the language pair."""

    texts: list[str] | None = Field(None, description="sentences to translate, in order")
    text: str | None = Field(None, description="one sentence (instead of texts)")
    source_lang: str = Field(
        description="source language: Whisper/M2M100/NLLB code", examples=["de"]
    )
    target_lang: str = Field(description="target language code", examples=["en"])


class TranslationItem(BaseModel):
    text: str
    quality_metrics: dict[str, float] = Field(
        description="mean_token_logprob (closer to 0 = more confident), length_ratio, ..."
    )
    model: str


class TranslateResponse(BaseModel):
    translations: list[TranslationItem]
    model: str
    source_lang: str = Field(description="the app's code of the source language")
    target_lang: str
    timings: dict[str, float] = Field(
        description="seconds: tokenize_s, encode_s, decode_s, total_s (model), queue_s "
        "(waiting for earlier requests), request_s (whole request); batch_size"
    )
    text: str | None = Field(None, description="single-text requests: the translation")
    quality_metrics: dict[str, float] | None = Field(
        None, description="single-text requests: its quality metrics"
    )


def _item(result: TranslationResult) -> TranslationItem:
    return TranslationItem(
        text=result.text, quality_metrics=dict(result.quality_metrics), model=result.model
    )


def _languages(translator: Any) -> list[str]:
    """App codes of the model's languages (empty when the translator does not say)."""
    tokenizer = getattr(translator, "tokenizer", None)
    codes = getattr(tokenizer, "lang_to_id", None) or {}
    found = set()
    for code in codes:
        try:
            found.add(lang_table.app_code(code))
        except ConfigError:
            continue
    return sorted(found)


def load_translator(options: TranslationOptions, model_dir: Path | str | None = None) -> Translator:
    """The local translator the service serves, loaded and warmed up. Raises DragomanError."""
    if options.backend not in ("m2m100", "nllb"):
        raise ConfigError(
            f"The translation service serves a local model (m2m100 or nllb), not "
            f"'{options.backend}'."
        )
    translator = create_translator(options, Path(model_dir) if model_dir is not None else None)
    warm_up = getattr(translator, "warm_up", None)
    if callable(warm_up):
        warm_up()
    return translator


def create_app(
    options: TranslationOptions | None = None,
    model_dir: Path | str | None = None,
    translator: Translator | None = None,
    *,
    max_texts: int = DEFAULT_MAX_TEXTS,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
) -> Any:
    """The FastAPI app. Loads `translator` now unless given (options.backend/model, or
    model_dir: an ONNX export directory), so a bad model fails here, not on a request.

    max_texts: texts per request; max_chars: characters per request (all texts together).
    """
    try:
        from fastapi import FastAPI, HTTPException, Request
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import JSONResponse
    except ImportError as exc:  # pragma: no cover - fastapi is a runtime dependency
        raise ConfigError(
            "The translation service needs FastAPI: run `pip install fastapi`."
        ) from exc

    if translator is None:
        translator = load_translator(options or TranslationOptions(), model_dir)
    served: Translator = translator
    lock = threading.Lock()
    languages = _languages(served)
    backend = str(getattr(served, "kind", options.backend if options else "m2m100"))

    app = FastAPI(
        title="Dragoman translation",
        description="Machine translation (M2M100 / NLLB-200 on ONNX Runtime) with quality "
        "metrics. One request at a time; limits: "
        f"{max_texts} texts, {max_chars} characters, {max_request_bytes} bytes per request.",
        version="1",
    )

    limit_request_size(app, max_request_bytes)

    @app.exception_handler(RequestValidationError)
    async def readable_validation_error(request: Request, exc: RequestValidationError) -> Any:
        problems = []
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                problems.append(f"the body is not valid JSON ({error.get('msg')})")
                continue
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
        return JSONResponse(
            status_code=422,
            content={"detail": "invalid request: " + "; ".join(problems)},
        )

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": served.name,
            "backend": backend,
            "languages": languages,
        }

    @app.post(
        "/v1/translate",
        response_model=TranslateResponse,
        response_model_exclude_none=True,
        responses={
            400: {"description": "unsupported language pair"},
            413: {"description": "too many texts or characters"},
            422: {"description": "malformed or empty request"},
        },
    )
    def translate(req: TranslateRequest) -> TranslateResponse:
        started = time.perf_counter()
        if (req.text is None) == (req.texts is None):
            raise HTTPException(422, "give either 'text' (one sentence) or 'texts' (a list)")
        single = req.text is not None
        texts = [req.text] if req.text is not None else list(req.texts or [])
        if not texts:
            raise HTTPException(422, "'texts' is empty: nothing to translate")
        if len(texts) > max_texts:
            raise HTTPException(413, f"{len(texts)} texts in one request; at most {max_texts}")
        chars = sum(len(t) for t in texts)
        if chars > max_chars:
            raise HTTPException(413, f"{chars} characters in one request; at most {max_chars}")
        if not any(t.strip() for t in texts):
            raise HTTPException(422, "the text is empty: nothing to translate")
        pair = f"'{req.source_lang}' -> '{req.target_lang}'"
        try:
            check = getattr(served, "check_pair", None)
            if callable(check):
                check(req.source_lang, req.target_lang)
            source, target = (
                lang_table.app_code(req.source_lang),
                lang_table.app_code(req.target_lang),
            )
        except ConfigError as exc:
            raise HTTPException(400, f"unsupported language pair {pair}: {exc}") from exc
        with lock:
            queued = time.perf_counter() - started
            try:
                results = served.translate(texts, req.source_lang, req.target_lang)
            except ConfigError as exc:
                raise HTTPException(400, f"unsupported language pair {pair}: {exc}") from exc
            except DragomanError as exc:
                log.error("translation failed: %s", exc)
                raise HTTPException(500, f"translation failed: {exc}") from exc
            except Exception as exc:
                log.exception("translation failed")
                raise HTTPException(500, f"translation failed ({type(exc).__name__})") from exc
        if len(results) != len(texts):
            raise HTTPException(500, f"the model gave {len(results)} results for {len(texts)}")
        timings: dict[str, float] = dict(results[0].timings.as_dict()) if results else {}
        timings["queue_s"] = queued
        timings["request_s"] = time.perf_counter() - started
        items = [_item(r) for r in results]
        return TranslateResponse(
            translations=items,
            model=served.name,
            source_lang=source,
            target_lang=target,
            timings=timings,
            text=items[0].text if single else None,
            quality_metrics=items[0].quality_metrics if single else None,
        )

    return app
