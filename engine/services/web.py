"""What every Dragoman HTTP service shares: the guard middleware (bearer token, Host check,
request-size limit on the bytes actually read), JSON error bodies, clean-text validation, and
`/docs` served offline from the Swagger UI assets of the `swagger-ui-py` package.

The rules live inside the app (an ASGI middleware installed by `new_app`), so the same app
keeps them wherever it runs: `dragoman serve`, plain uvicorn, or a Ray Serve deployment.
"""

from __future__ import annotations

import hmac
import importlib.util
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

log = logging.getLogger(__name__)

TOKEN_ENV = "DRAGOMAN_SERVICE_TOKEN"
OPEN_PATHS = ("/health", "/openapi.json", "/docs")  # no token needed (schema and liveness)
KEY_IN_BODY_PATHS = ("/translate",)  # LibreTranslate's api_key field also carries the token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class ServiceGuard:
    """Access rules of one service.

    token: bearer token every API request must carry (None = no authentication; only
        acceptable on loopback, which `dragoman serve` enforces).
    loopback_only_hosts: answer 421 to a Host header naming anything but an IP literal or
        localhost (a web page that rebinds its own DNS name to 127.0.0.1 cannot reach the
        service). On for services bound to loopback.
    max_request_bytes: bodies larger than this get 413, counted on the bytes received (a
        chunked upload cannot slip past a missing Content-Length).
    """

    token: str | None = None
    loopback_only_hosts: bool = True
    max_request_bytes: int = 1024 * 1024


class ErrorBody(BaseModel):
    """Every error answer: one readable sentence."""

    detail: str = Field(description="what went wrong, in one sentence")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the error codes a route can answer."""
    meaning = {
        400: "the request cannot be served (unsupported language, unknown voice)",
        401: "missing or wrong bearer token",
        413: "request body, text or audio over the service's limits",
        421: "Host header is not this service's",
        422: "malformed request",
        500: "the model failed on a valid request",
        503: "too many requests waiting; retry later",
    }
    return {c: {"model": ErrorBody, "description": meaning[c]} for c in codes}


def printable(text: str) -> str:
    """`text` safe to put in a UTF-8 JSON body (lone surrogates escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text contains a lone surrogate (not valid Unicode)") from exc
    return value


# A string of real text: no NUL, no lone surrogates (they crash tokenisers and espeak).
CleanText = Annotated[str, AfterValidator(_check_text)]


async def _send_json(
    send: Send, status: int, detail: str, headers: list[Any] | None = None
) -> None:
    body = json.dumps({"detail": printable(detail)}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def host_is_local(host_header: str) -> bool:
    """True for 'localhost', '*.localhost' and IP literals (with or without a port)."""
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:port
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # IPv4 shorthands ('127.1') are addresses too; a DNS name is never all digits and dots
        return bool(host) and all(c.isdigit() or c == "." for c in host)
    return True


class GuardMiddleware:
    """ASGI middleware enforcing a `ServiceGuard` before the app sees the request."""

    def __init__(self, app: ASGIApp, guard: ServiceGuard) -> None:
        self.app = app
        self.guard = guard
        self._token = guard.token.encode("utf-8") if guard.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        if self.guard.loopback_only_hosts:
            host = headers.get("host", b"").decode("latin-1")
            if not host_is_local(host):
                await _send_json(send, 421, "this service answers only to localhost addresses")
                return
        path = str(scope.get("path", ""))
        authorized = self._token is None or _is_open(path) or self._header_ok(headers)
        if not authorized and path not in KEY_IN_BODY_PATHS:
            await self._unauthorized(send)
            return
        limit = self.guard.max_request_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, f"request body larger than {limit} bytes")
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            if not authorized:
                await self._unauthorized(send)
                return
            await self.app(scope, receive, send)
            return
        # Read the body here, counting what arrives, whatever the headers claim.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_json(send, 413, f"request body larger than {limit} bytes")
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if not authorized and not self._body_key_ok(body, headers):
            await self._unauthorized(send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _matches(self, credential: bytes) -> bool:
        assert self._token is not None
        return hmac.compare_digest(credential, self._token)

    def _header_ok(self, headers: dict[str, bytes]) -> bool:
        scheme, _, credential = headers.get("authorization", b"").partition(b" ")
        return scheme.lower() == b"bearer" and self._matches(credential.strip())

    def _body_key_ok(self, body: bytes, headers: dict[str, bytes]) -> bool:
        """LibreTranslate clients send the key as `api_key` in the form or JSON body."""
        from urllib.parse import parse_qs

        kind = headers.get("content-type", b"").split(b";")[0].strip().lower()
        key: object = None
        try:
            if kind == b"application/x-www-form-urlencoded":
                keys = parse_qs(body.decode("utf-8")).get("api_key") or []
                key = keys[0] if keys else None
            else:
                data = json.loads(body)
                key = data.get("api_key") if isinstance(data, dict) else None
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(key, str) and self._matches(key.encode("utf-8", "replace"))

    async def _unauthorized(self, send: Send) -> None:
        await _send_json(
            send,
            401,
            "missing or wrong bearer token (send 'Authorization: Bearer <token>')",
            [(b"www-authenticate", b"Bearer")],
        )


def _is_open(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OPEN_PATHS)


def check_token(token: str | None) -> str | None:
    """A usable token or None; a blank one is a mistake, not 'no authentication'."""
    if token is None:
        return None
    from engine.errors import ConfigError

    token = token.strip()
    if not token:
        raise ConfigError("The service token is empty: give a non-empty token or none.")
    if any(ord(c) < 33 or ord(c) > 126 for c in token):
        raise ConfigError("The service token must be printable ASCII without spaces.")
    return token


def validation_problems(errors: Any) -> list[str]:
    """Pydantic errors as 'field: message' lines, without union branch names; a field that is
    optional-or-X reports only its X problem."""
    problems: list[str] = []
    for error in errors:
        kind = error.get("type")
        if kind == "json_invalid":
            problems.append(f"the body is not valid JSON ({error.get('msg')})")
            continue
        parts = [str(p) for p in error.get("loc", ()) if p != "body"]
        if kind == "none_required" and len(errors) > 1:
            continue  # the "or null" branch of an optional field
        parts = [p for p in parts if "[" not in p and p not in ("none", "str", "list[str]")]
        where = ".".join(parts)
        message = str(error.get("msg"))
        line = f"{where}: {message}" if where else message
        if line not in problems:
            problems.append(line)
    return problems


def swagger_assets() -> Path | None:
    """The directory of Swagger UI's static files shipped by swagger-ui-py (None if absent)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    static = Path(next(iter(spec.submodule_search_locations))) / "static"
    return static if (static / "swagger-ui-bundle.js").is_file() else None


def new_app(title: str, description: str, guard: ServiceGuard) -> Any:
    """A FastAPI app with offline docs, JSON errors and the guard middleware installed."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app = FastAPI(title=title, description=description, version="1", docs_url=None, redoc_url=None)
    assets = swagger_assets()

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if assets is None:  # still offline: a plain page pointing at the schema
            return HTMLResponse(
                f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{description}</p>"
                '<p>OpenAPI document: <a href="/openapi.json">/openapi.json</a> (install '
                "swagger-ui-py for the interactive page).</p>"
            )
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=title,
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )

    if assets is not None:
        from starlette.staticfiles import StaticFiles

        app.mount("/docs/assets", StaticFiles(directory=assets), name="docs-assets")

    @app.exception_handler(RequestValidationError)
    async def readable_validation_error(request: Request, exc: RequestValidationError) -> Any:
        problems = validation_problems(exc.errors())
        return JSONResponse(
            status_code=422,
            content={"detail": printable("invalid request: " + "; ".join(problems))},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        status, detail = exc.status_code, str(exc.detail)
        if status == 400 and detail == "There was an error parsing the body":  # FastAPI's own
            status, detail = 422, "invalid request: the body is not valid JSON"
        return JSONResponse(
            status_code=status,
            content={"detail": printable(detail)},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Any:
        log.error("request failed", exc_info=exc)
        return JSONResponse(
            status_code=500, content={"detail": f"internal error ({type(exc).__name__})"}
        )

    extra_schemas: list[type[BaseModel]] = []
    app.state.extra_schemas = extra_schemas  # models of routes that parse their own body

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app, guard, extra_schemas)
        return dict(app.openapi_schema)

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(GuardMiddleware, guard=guard)
    return app


def openapi_document(
    app: Any, guard: ServiceGuard, extra_schemas: list[type[BaseModel]]
) -> dict[str, Any]:
    """FastAPI's document plus the `extra_schemas` and, with a token, the bearer scheme on
    every operation that needs it (so /docs' Authorize button and generated clients send it)."""
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in extra_schemas:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in model_schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas[model.__name__] = model_schema
    if guard.token:
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        for path, operations in schema.get("paths", {}).items():
            if _is_open(path):
                continue
            for operation in operations.values():
                operation["security"] = [{"bearer": []}]
    return schema


class Bounded:
    """At most `workers` model calls at once and `queue` more waiting; the rest get 503.

    Model calls run in FastAPI's thread pool; this keeps parallel requests from
    oversubscribing the CPU (each model already has its own thread budget)."""

    def __init__(self, workers: int = 1, queue: int = 8) -> None:
        import threading

        self._run = threading.BoundedSemaphore(max(1, workers))
        self._admit = threading.BoundedSemaphore(max(1, workers) + max(0, queue))

    def __enter__(self) -> Bounded:
        from fastapi import HTTPException

        if not self._admit.acquire(blocking=False):
            raise HTTPException(503, "too many requests waiting; retry later", {"Retry-After": "1"})
        self._run.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._run.release()
        self._admit.release()
