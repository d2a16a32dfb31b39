"""Reference HTTP services (FastAPI) and `dragoman serve`.

- NMT: engine.services.nmt (POST /v1/translate, port 5008);
- speech (Piper): engine.tts.service (POST /tts, port 5005);
- speaker embeddings: engine.speakers.service (POST /extract_embedding, port 5003).

`engine.services.cli.register` adds `dragoman serve {nmt,tts,speaker}`. Services bind to
127.0.0.1 unless told otherwise; they have no authentication.
"""

from typing import Any


def limit_request_size(app: Any, max_request_bytes: int) -> None:
    """Answer 413 to any request whose declared body is larger than `max_request_bytes`
    (checked before the body is read)."""
    from fastapi import Request
    from fastapi.responses import JSONResponse

    @app.middleware("http")
    async def limit_size(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_request_bytes:
            return JSONResponse(
                status_code=413,
                content={"detail": f"request body larger than {max_request_bytes} bytes"},
            )
        return await call_next(request)
