"""Real misbehaving HTTP servers on 127.0.0.1 for failover tests: one that stalls, one that
answers garbage, one that answers HTTP 500, and a port where nothing listens (test helper)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    mode = "500"
    release: threading.Event

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.server.requests += 1  # type: ignore[attr-defined]
        if self.mode == "stall":
            self.release.wait(60)  # never answers while the test runs
            return
        if self.mode == "garbage":
            body = b"\x00\xffnot json, not audio\x01" * 10
            self.send_response(200)
            self.send_header("content-type", "application/json")
        else:
            body = b'{"detail": "translation failed: the model exploded"}'
            self.send_response(500)
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def fault_server(mode: str) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    """mode: 'stall', 'garbage' or '500'. Yields (base URL, server: .requests counts POSTs)."""
    release = threading.Event()
    handler = type("Handler", (_Handler,), {"mode": mode, "release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.requests = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def dead_url() -> str:
    """A local URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
