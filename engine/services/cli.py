"""`dragoman serve {nmt,tts,synthesize,speaker} [--host 127.0.0.1] [--port N] [--token T]`.

Binding anything but loopback needs a bearer token (`--token` or $DRAGOMAN_SERVICE_TOKEN): the
service refuses to start without one. With a token every API request must carry it.

The port is bound before the model loads (a busy port fails at once), the model is loaded and
warmed up before the first request, and SIGINT / SIGTERM stop the server gracefully (requests in
flight finish) with exit status 0. `--port 0` picks a free port; the line printed on stdout says
which. Errors are raised as DragomanError; the main CLI prints them as one line and exits 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from engine.config import SpeechOptions, TranslationOptions
from engine.errors import ConfigError
from engine.services.net import bind, is_loopback
from engine.services.web import TOKEN_ENV, ServiceGuard, check_token

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORTS = {"nmt": 5008, "tts": 5005, "synthesize": 5004, "speaker": 5003}
ENDPOINTS = {
    "nmt": "POST /v1/translate, POST /translate",
    "tts": "POST /tts, POST /synthesize, POST /v1/audio/speech",
    "synthesize": "POST /synthesize, POST /tts, POST /v1/audio/speech",
    "speaker": "POST /extract_embedding",
}
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `serve` command to the main parser's subparsers."""
    parser = subparsers.add_parser(
        "serve",
        help="run a reference HTTP service (translation, speech, speaker embeddings)",
        description="Serve one stage over HTTP/JSON so another machine or process can use it. "
        "Binds 127.0.0.1 by default; any other address needs a bearer token (--token). The "
        "OpenAPI schema is at /openapi.json and interactive docs at /docs.",
    )
    sub = parser.add_subparsers(dest="service", metavar="SERVICE", required=True)

    p = sub.add_parser("nmt", help="translation: POST /v1/translate (port 5008)")
    _add_common(p, "nmt")
    p.add_argument("--translator", choices=["m2m100", "nllb"], default="m2m100")
    p.add_argument(
        "--model",
        metavar="ID|PATH",
        help="catalogue id or ONNX export directory (default: the translator's default model)",
    )
    p.add_argument(
        "--beam-size", type=int, default=TranslationOptions.beam_size, help="1 = greedy (default)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=TranslationOptions.cpu_threads,
        help="onnxruntime intra-op threads",
    )
    p.add_argument(
        "--download", action="store_true", help="download a missing catalogue model first"
    )
    p.add_argument("--max-texts", type=int, default=None, help="texts per request (default 64)")
    p.add_argument(
        "--max-chars", type=int, default=None, help="characters per request (default 10000)"
    )
    p.set_defaults(func=cmd_serve_nmt)

    for name, help_text in (
        ("tts", "Piper speech: POST /tts -> WAV (port 5005)"),
        ("synthesize", "the seed's POST /synthesize (Piper) -> WAV (port 5004)"),
    ):
        p = sub.add_parser(name, help=help_text)
        _add_common(p, name)
        p.add_argument(
            "--voice",
            metavar="ID|PATH",
            help="voice used when a request names none (default: the language's voice)",
        )
        p.add_argument("--threads", type=int, default=SpeechOptions.cpu_threads)
        p.add_argument("--max-chars", type=int, default=None, help="characters per request")
        p.set_defaults(func=cmd_serve_tts)

    p = sub.add_parser("speaker", help="speaker embeddings: POST /extract_embedding (port 5003)")
    _add_common(p, "speaker")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    p.set_defaults(func=cmd_serve_speaker)

    from engine.services.ray_serve import add_parser as add_ray_parser

    add_ray_parser(sub)  # `serve ray`: all three on Ray Serve, with replicas
    return parser


def _add_common(parser: argparse.ArgumentParser, service: str) -> None:
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORTS[service],
        help=f"port (default {DEFAULT_PORTS[service]}; 0 = any free port)",
    )
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, default="info", help="server log level (default info)"
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"bearer token clients must send (default ${TOKEN_ENV}); required unless the "
        "address is loopback",
    )


def cmd_serve_nmt(args: argparse.Namespace) -> int:
    from engine.services import nmt

    options = TranslationOptions(
        backend=args.translator,
        model=args.model,
        beam_size=args.beam_size,
        cpu_threads=args.threads,
    )
    _check_positive(args.beam_size, "--beam-size")
    _check_positive(args.threads, "--threads")
    limits = {
        "max_texts": _limit(args.max_texts, "--max-texts", nmt.DEFAULT_MAX_TEXTS),
        "max_chars": _limit(args.max_chars, "--max-chars", nmt.DEFAULT_MAX_CHARS),
    }

    def make_app(guard: ServiceGuard) -> Any:
        from engine.translate import DEFAULT_MODELS, resolve_model_dir

        model_dir = resolve_model_dir(args.model or DEFAULT_MODELS[args.translator], args.download)
        return nmt.create_app(
            options,
            Path(model_dir),
            max_texts=limits["max_texts"],
            max_chars=limits["max_chars"],
            guard=guard,
        )

    return serve("nmt", make_app, args)


def cmd_serve_tts(args: argparse.Namespace) -> int:
    from engine.tts import service

    _check_positive(args.threads, "--threads")
    max_chars = _limit(args.max_chars, "--max-chars", service.DEFAULT_MAX_CHARS)
    options = SpeechOptions(voice=args.voice, cpu_threads=args.threads)

    def make_app(guard: ServiceGuard) -> Any:
        from engine.errors import ModelError
        from engine.tts.piper_local import PiperSynthesizer, load_voice
        from engine.tts.voices import find_voice, split_ref

        if args.voice:  # a bad --voice fails now, not on the first request
            load_voice(find_voice(split_ref(args.voice)[0]), options.cpu_threads)
        else:
            try:
                PiperSynthesizer(options).warm_up("en")
            except ModelError as exc:
                log.warning("no English voice to preload (%s); voices load on first use", exc)
        return service.create_app(options, max_chars=max_chars, guard=guard)

    return serve(args.service, make_app, args)


def cmd_serve_speaker(args: argparse.Namespace) -> int:
    _check_positive(args.threads, "--threads")

    def make_app(guard: ServiceGuard) -> Any:
        from engine.speakers.encoder import load_voice_encoder
        from engine.speakers.service import create_app

        return create_app(load_voice_encoder(cpu_threads=args.threads), guard=guard)

    return serve("speaker", make_app, args)


def _check_positive(value: int, flag: str) -> None:
    if value < 1:
        raise ConfigError(f"{flag} must be at least 1, not {value}.")


def _limit(value: int | None, flag: str, default: int) -> int:
    if value is None:
        return default
    _check_positive(value, flag)
    return value


def service_guard(args: argparse.Namespace, max_request_bytes: int) -> ServiceGuard:
    """The token / Host rules for this bind; ConfigError when a token is needed and missing."""
    token = check_token(args.token if args.token is not None else os.environ.get(TOKEN_ENV))
    loopback = is_loopback(args.host)
    if not loopback and token is None:
        raise ConfigError(
            f"Listening on {args.host} (not loopback) needs a token: pass --token or set "
            f"{TOKEN_ENV}, and give clients the same token."
        )
    return ServiceGuard(
        token=token, loopback_only_hosts=loopback, max_request_bytes=max_request_bytes
    )


def serve(name: str, make_app: Callable[[ServiceGuard], Any], args: argparse.Namespace) -> int:
    """Bind, build the app (loads the model), run uvicorn until SIGINT/SIGTERM. Returns 0."""
    try:  # the `serve` extra: the desktop app and `dragoman run` need neither
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise ConfigError(
            '`dragoman serve` needs FastAPI and uvicorn: run `pip install "dragoman[serve]"`.'
        ) from exc

    limits = {"nmt": 1024 * 1024, "speaker": 32 * 1024 * 1024}
    guard = service_guard(args, limits.get(name, 4 * 1024 * 1024))
    sock = bind(args.host, args.port)
    try:
        app = make_app(guard)
        port = sock.getsockname()[1]
        host = args.host if ":" not in args.host else f"[{args.host}]"
        config = uvicorn.Config(
            app,
            log_level=args.log_level,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
        server = uvicorn.Server(config)
        auth = "bearer token required" if guard.token else "no token"
        print(
            f"dragoman {name} service on http://{host}:{port} ({ENDPOINTS[name]}; {auth}; "
            "Ctrl-C to stop)",
            flush=True,
        )
        stop_signal = _run_until_signal(server, sock)
    finally:
        sock.close()
    why = f" ({signal.Signals(stop_signal).name})" if stop_signal else ""
    print(f"dragoman {name} service stopped{why}", file=sys.stderr, flush=True)
    return 0


def _run_until_signal(server: Any, sock: socket.socket) -> int | None:
    """server.run on `sock`; uvicorn re-raises the signal that stopped it after shutting down,
    so a quiet handler stands in for the default ones meanwhile (SIGTERM would otherwise kill
    the process, SIGINT raise KeyboardInterrupt): a signal-stopped server exits with status 0.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        server.run(sockets=[sock])
        return None

    def quiet(sig: int, frame: FrameType | None) -> None:
        received.append(sig)

    handled = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):  # Windows console Ctrl-Break
        handled.append(signal.SIGBREAK)
    previous = {sig: signal.signal(sig, quiet) for sig in handled}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return received[0] if received else None
