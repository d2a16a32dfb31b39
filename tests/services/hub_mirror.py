"""A small fake Hugging Face Hub on 127.0.0.1 for download tests (point HF_ENDPOINT at it).

It answers the way the Hub answers `huggingface_hub` (checked against huggingface_hub 2.4's
`get_hf_file_metadata` / `http_get`):

- `HEAD|GET /{owner}/{repo}/resolve/{revision}/{path}`
  - a large (LFS) file: 302 to a "CDN" URL on another host name (http://localhost:PORT/cdn/SHA),
    with `X-Repo-Commit`, `X-Linked-Etag` (the sha256), `X-Linked-Size` and the pointer's `ETag`;
  - a small (git) file: 200 with `ETag` = git blob sha1, `X-Repo-Commit`, `Content-Length`;
  - unknown repo: 401 + `X-Error-Code: RepositoryNotFound`; unknown revision: 404 +
    `RevisionNotFound`; unknown file: 404 + `EntryNotFound`.
- `GET /cdn/{sha256}`: the bytes, with `Accept-Ranges`, `Range` -> 206 + `Content-Range`,
  416 past the end.
- `GET /api/models/{owner}/{repo}/revision/{revision}`: `{"id", "sha", "siblings"}`.

Test hooks: `drop_after(path, n)` cuts the connection after n body bytes (once by default);
`add_file(..., corrupt=True)` serves bytes that differ from the advertised sha256; `requests`
records every request (method, path, Range header).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

LFS_THRESHOLD = 10_000  # bytes; the real Hub's rule is by pattern/size, this is enough here


@dataclass
class FakeFile:
    content: bytes
    lfs: bool
    corrupt: bool = False

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @cached_property
    def git_sha1(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.content) + self.content).hexdigest()

    @property
    def served(self) -> bytes:
        if not self.corrupt:
            return self.content
        body = bytearray(self.content)
        body[len(body) // 2] ^= 0xFF
        return bytes(body)


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    range: str | None
    host: str | None


@dataclass
class _Drop:
    after: int
    times: int


@dataclass
class HubMirror:
    """Start with `with HubMirror() as hub:` (or start()/stop()); `hub.endpoint` is the URL."""

    commit: str = "0123456789abcdef0123456789abcdef01234567"
    repos: dict[str, dict[str, FakeFile]] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    _drops: dict[str, _Drop] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ setup

    def add_file(
        self,
        repo: str,
        path: str,
        content: bytes,
        *,
        lfs: bool | None = None,
        corrupt: bool = False,
    ) -> FakeFile:
        fake = FakeFile(content, len(content) >= LFS_THRESHOLD if lfs is None else lfs, corrupt)
        self.repos.setdefault(repo, {})[path] = fake
        return fake

    def drop_after(self, repo: str, path: str, nbytes: int, times: int = 1) -> None:
        """Cut the connection after `nbytes` body bytes of this file, `times` times."""
        self._drops[self.repos[repo][path].sha256] = _Drop(nbytes, times)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the mirror first"
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubMirror:
        mirror = self

        class Handler(_Handler):
            hub = mirror

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="hub-mirror", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubMirror:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ used by the handler

    def _record(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append(
                RequestRecord(
                    handler.command,
                    handler.path,
                    handler.headers.get("Range"),
                    handler.headers.get("Host"),
                )
            )

    def _take_drop(self, sha: str) -> int | None:
        with self._lock:
            drop = self._drops.get(sha)
            if drop is None or drop.times <= 0:
                return None
            drop.times -= 1
            return drop.after

    def _by_sha(self, sha: str) -> FakeFile | None:
        for files in self.repos.values():
            for fake in files.values():
                if fake.sha256 == sha:
                    return fake
        return None


_RESOLVE = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_API = re.compile(r"^/api/models/([^/]+/[^/]+)/revision/([^/]+)$")
_CDN = re.compile(r"^/cdn/([0-9a-f]{64})$")


class _Handler(BaseHTTPRequestHandler):
    hub: HubMirror
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._handle(body=True)

    # ------------------------------------------------------------------ routing

    def _handle(self, body: bool) -> None:
        self.hub._record(self)
        path = urlsplit(self.path).path
        if m := _CDN.match(path):
            fake = self.hub._by_sha(m.group(1))
            if fake is None:
                return self._error(404, "EntryNotFound", "no such object")
            return self._serve_bytes(fake, body, {"ETag": f'"{fake.sha256}"'})
        if m := _API.match(path):
            repo, revision = m.group(1), unquote(m.group(2))
            if repo not in self.hub.repos:
                return self._error(401, "RepositoryNotFound", "Repository not found")
            if revision not in ("main", self.hub.commit):
                return self._error(404, "RevisionNotFound", "Invalid rev id")
            payload = json.dumps(
                {
                    "id": repo,
                    "sha": self.hub.commit,
                    "siblings": [{"rfilename": p} for p in self.hub.repos[repo]],
                }
            )
            return self._send(200, payload.encode(), body, {"Content-Type": "application/json"})
        if m := _RESOLVE.match(path):
            repo, revision, file = m.group(1), unquote(m.group(2)), unquote(m.group(3))
            files = self.hub.repos.get(repo)
            if files is None:
                return self._error(401, "RepositoryNotFound", "Repository not found")
            if revision not in ("main", self.hub.commit):
                return self._error(404, "RevisionNotFound", "Invalid rev id")
            fake = files.get(file)
            if fake is None:
                return self._error(
                    404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": self.hub.commit}
                )
            common = {"X-Repo-Commit": self.hub.commit}
            if fake.lfs:
                pointer = (
                    f"version https://git-lfs.github.com/spec/v1\noid sha256:{fake.sha256}"
                    f"\nsize {len(fake.content)}\n"
                ).encode()
                headers = {
                    **common,
                    "Location": f"http://localhost:{self.hub.port}/cdn/{fake.sha256}",
                    "X-Linked-Etag": f'"{fake.sha256}"',
                    "X-Linked-Size": str(len(fake.content)),
                    "ETag": f'"{hashlib.sha1(pointer).hexdigest()}"',
                }
                return self._send(302, b"", body, headers)
            return self._serve_bytes(fake, body, {**common, "ETag": f'"{fake.git_sha1}"'})
        return self._error(404, None, "not found")

    # ------------------------------------------------------------------ responses

    def _serve_bytes(self, fake: FakeFile, body: bool, headers: dict[str, str]) -> None:
        data = fake.served
        size = len(data)
        start, end, status = 0, size - 1, 200
        extra = {**headers, "Accept-Ranges": "bytes"}
        if (rng := self.headers.get("Range")) is not None:
            m = re.match(r"bytes=(\d+)-(\d*)$", rng.strip())
            if m is None:
                return self._error(400, None, "bad range")
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size:
                return self._send(416, b"", body, {**extra, "Content-Range": f"bytes */{size}"})
            status = 206
            extra["Content-Range"] = f"bytes {start}-{end}/{size}"
        chunk = data[start : end + 1]
        drop = self.hub._take_drop(fake.sha256) if body else None
        if drop is None:
            return self._send(status, chunk, body, extra)
        # Announce the whole length, send part of it, then cut the connection.
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(chunk)))
        self.end_headers()
        self.wfile.write(chunk[:drop])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, payload: bytes, body: bool, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body and payload:
            self.wfile.write(payload)

    def _error(
        self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps({"error": message}).encode()
        extra = {"Content-Type": "application/json", **(headers or {})}
        if code:
            extra["X-Error-Code"] = code
            extra["X-Error-Message"] = message
        self._send(status, payload, body=self.command != "HEAD", headers=extra)


def resolve_url(endpoint: str, repo: str, revision: str, path: str) -> str:
    """The Hub URL of a file (what huggingface_hub's hf_hub_url builds)."""
    return f"{endpoint}/{repo}/resolve/{quote(revision, safe='')}/{quote(path)}"
