"""Live captions for streaming and video calls: a local caption page and a caption file.

`Captions` is an engine event consumer (pass it, or call it from, the pipeline's `on_event`):
it folds each event into a `CaptionBoard` and, when something visible changed, hands the new
state to

- the caption page: HTTP on 127.0.0.1 (standard library `ThreadingHTTPServer`, no extra
  packages), `/` the page, `/events` server-sent events, `/captions.json` the state,
  `/caption.txt` the current caption as text; OBS's browser source, vMix or any browser shows it;
- the caption file: plain text, atomically replaced (for tools that read one), written on its
  own thread with only the newest text pending.

Calling it never blocks on a browser or the disk and never raises: each browser has a bounded
queue of whole-board messages; when a slow one falls behind, its oldest message is dropped
(counted in `dropped`) — harmless, since every message carries the whole board. A browser that
stops reading for `write_timeout_s` is disconnected (it reconnects and gets the current state).
"""

from __future__ import annotations

import collections
import contextlib
import ipaddress
import json
import logging
import select
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine.captions.board import CaptionBoard, Show, caption_text
from engine.captions.page import render_page
from engine.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CaptionOptions:
    """Where live captions go. Both outputs are off by default.

    port: the caption page's port (None = no page, 0 = any free port); host: where it listens
        (loopback by default; then requests naming another Host are refused, which keeps web
        pages from reading the captions through DNS rebinding).
    file: the "current caption" text file (None = none); file_lines / file_show / file_speakers:
        what goes in it (see `caption_text`).
    keep_lines: lines kept for the page (its `lines` parameter picks the newest of these).
    client_queue / max_clients / write_timeout_s / heartbeat_s: per-browser limits.
    """

    port: int | None = None
    host: str = "127.0.0.1"
    file: Path | None = None
    file_lines: int = 2
    file_show: Show = "both"
    file_speakers: bool = True
    keep_lines: int = 8
    client_queue: int = 8
    max_clients: int = 16
    write_timeout_s: float = 5.0
    heartbeat_s: float = 15.0

    @property
    def enabled(self) -> bool:
        return self.port is not None or self.file is not None


class _Client:
    """One connected browser: its pending messages (bounded, oldest dropped first)."""

    def __init__(self, size: int) -> None:
        self.pending: collections.deque[bytes] = collections.deque(maxlen=size)
        self.dropped = 0
        self.gone = False


class Captions:
    """Serves the caption page and writes the caption file from engine events.

    `start()` opens them (ConfigError when the port cannot be used); `close()` ends both (the
    caption file keeps its last text). Thread-safe: call it from any engine thread."""

    def __init__(self, options: CaptionOptions) -> None:
        self.options = options
        self._board = CaptionBoard(options.keep_lines)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._clients: list[_Client] = []
        self._snapshot: dict[str, Any] = self._board.snapshot()
        self._message = _sse_message(self._snapshot)
        self._closed = False
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._file_text: str | None = None  # newest text not yet written to the file
        self._file_errors = 0
        self.dropped = 0  # messages dropped for slow browsers, all clients together
        self.refused = 0  # connections refused (too many clients, foreign Host)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Captions:
        opts = self.options
        if opts.port is not None:
            self._server = _open_server(self, opts.host, opts.port)
            thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name="dragoman-caption-page",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        if opts.file is not None:
            self._file_text = ""  # start empty: yesterday's caption is not today's
            thread = threading.Thread(
                target=self._write_file_loop, name="dragoman-caption-file", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    @property
    def port(self) -> int | None:
        """The page's port (the one chosen when the options said 0); None without a page."""
        if self._server is None:
            return None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str | None:
        """The caption page's address, for people (None without a page)."""
        if self._server is None:
            return None
        host = self.options.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def close(self) -> None:
        """Stop serving (browsers see the page go offline) and write the last caption text."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=self.options.write_timeout_s + 1)

    def __enter__(self) -> Captions:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ events in
    def __call__(self, event: Any) -> None:
        """Take one engine event. Never blocks on I/O and never raises."""
        try:
            with self._lock:
                if self._closed or not self._board.apply(event):
                    return
                self._snapshot = self._board.snapshot()
                self._message = _sse_message(self._snapshot)
                for client in self._clients:
                    if len(client.pending) == client.pending.maxlen:
                        client.dropped += 1
                        self.dropped += 1
                    client.pending.append(self._message)
                if self.options.file is not None:
                    self._file_text = self._text(self._board)
                self._changed.notify_all()
        except Exception:  # a caption display must never take the engine down
            log.exception("caption update failed")

    def snapshot(self) -> dict[str, Any]:
        """The board as the page receives it."""
        with self._lock:
            return self._snapshot

    def caption_text(self) -> str:
        """The current caption as the file has it (newest lines)."""
        with self._lock:
            return self._text(self._board)

    def _text(self, board: CaptionBoard) -> str:
        opts = self.options
        return caption_text(
            board.lines, count=opts.file_lines, show=opts.file_show, speakers=opts.file_speakers
        )

    # ------------------------------------------------------------------ the caption file
    def _write_file_loop(self) -> None:
        from engine.subtitles import atomic_write_text

        path = self.options.file
        assert path is not None
        while True:
            with self._lock:
                while self._file_text is None and not self._closed:
                    self._changed.wait()
                text, self._file_text = self._file_text, None
                closing = self._closed
            if text is not None:
                try:
                    atomic_write_text(path, text)
                except OSError as exc:
                    self._file_errors += 1
                    if self._file_errors == 1:  # once, not once per partial
                        log.error("cannot write the caption file %s: %s", path, exc)
            if closing:
                return

    # ------------------------------------------------------------------ browsers
    def _connect(self) -> _Client | None:
        with self._lock:
            if self._closed or len(self._clients) >= self.options.max_clients:
                self.refused += 1
                return None
            client = _Client(self.options.client_queue)
            client.pending.append(self._message)  # the current state first
            self._clients.append(client)
            return client

    def _refuse(self) -> None:
        with self._lock:
            self.refused += 1

    def _disconnect(self, client: _Client) -> None:
        with self._lock:
            client.gone = True
            with contextlib.suppress(ValueError):
                self._clients.remove(client)

    def _next_message(self, client: _Client, timeout: float) -> bytes | None:
        """The client's next message; b"" when none came within `timeout`; None when the page
        closes."""
        with self._lock:
            if not client.pending and not self._closed:
                self._changed.wait(timeout)
            if self._closed:
                return None
            return client.pending.popleft() if client.pending else b""

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)


def _sse_message(snapshot: dict[str, Any]) -> bytes:
    data = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))
    return f"id: {snapshot['seq']}\ndata: {data}\n\n".encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    captions: Captions
    loopback_only: bool


def _open_server(captions: Captions, host: str, port: int) -> _Server:
    if not 0 <= port <= 65535:
        raise ConfigError(f"The caption page's port must be between 0 and 65535, not {port}.")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(_Server):
        address_family = family

    try:
        server = Server((host, port), _Handler)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = " (choose another port, or 0 for any free one)" if port else ""
        raise ConfigError(
            f"Cannot open the caption page on {host}:{port}: {reason}{hint}."
        ) from exc
    server.captions = captions
    server.loopback_only = _is_loopback(host)
    return server


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


_LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
_PEER_CHECK_S = 1.0  # how soon a stream notices, while idle, that its browser left


def _peer_closed(sock: socket.socket) -> bool:
    """True when the browser closed its end (readable, and reading would give end of file)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "DragomanCaptions"
    timeout = 10  # seconds to send a request: a silent connection does not hold a thread

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        log.debug("caption page: " + format, *args)

    def do_HEAD(self) -> None:  # noqa: N802 (stdlib name)
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:  # noqa: N802 (stdlib name)
        captions = self.server.captions
        if self.server.loopback_only and not self._host_is_local():
            captions._refuse()
            self._send(403, b"Forbidden: the caption page answers only local addresses.\n")
            return
        path = urlsplit(self.path).path
        if path == "/":
            body = render_page(captions.snapshot())
            self._send(200, body, "text/html; charset=utf-8", head=head)
        elif path == "/captions.json":
            body = json.dumps(captions.snapshot(), ensure_ascii=False).encode()
            self._send(200, body, "application/json", head=head)
        elif path == "/caption.txt":
            self._send(
                200, captions.caption_text().encode(), "text/plain; charset=utf-8", head=head
            )
        elif path == "/events":
            self._stream(captions, head=head)
        else:
            self._send(404, b"Not found: the caption page is at /\n")

    def _host_is_local(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        port = str(self.server.server_address[1])
        return any(host in (name, f"{name}:{port}") for name in _LOCAL_NAMES)

    def _send(
        self, status: int, body: bytes, kind: str = "text/plain; charset=utf-8", head: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _stream(self, captions: Captions, head: bool) -> None:
        client = None if head else captions._connect()
        if client is None and not head:
            self._send(503, b"Too many caption page clients.\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        if client is None:
            return
        self.connection.settimeout(captions.options.write_timeout_s)
        heartbeat = captions.options.heartbeat_s
        try:
            self.wfile.write(b"retry: 1000\n\n")
            idle_since = time.monotonic()
            while True:
                message = captions._next_message(client, min(_PEER_CHECK_S, heartbeat))
                if message is None:
                    return
                if message:
                    self.wfile.write(message)
                    idle_since = time.monotonic()
                elif _peer_closed(self.connection):
                    return  # the browser left while nothing was being said
                elif time.monotonic() - idle_since >= heartbeat:
                    self.wfile.write(b": keep-alive\n\n")
                    idle_since = time.monotonic()
        except OSError:  # the browser went away or stopped reading: it reconnects if alive
            return
        finally:
            captions._disconnect(client)
