"""One Dragoman per user: a second launch hands its request to the first and exits.

The first instance holds a lock file in the config directory for its whole life (QLockFile: a
crashed instance's stale lock is taken over) and listens on a local socket (QLocalServer) whose
name is derived from that directory, so separate homes (DRAGOMAN_HOME, tests) never meet. A
later launch that cannot take the lock connects, sends one JSON line (`Request`), and exits 0;
the first instance raises its window and does what was asked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from engine import paths

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0  # a first instance that is still starting gets this long to listen


@dataclass(frozen=True, slots=True)
class Request:
    """What a second launch asks of the running instance."""

    source: str | None = None  # an input spec or an absolute file path to use
    start: bool = False  # start interpreting

    def to_line(self) -> bytes:
        return (json.dumps(asdict(self)) + "\n").encode()

    @classmethod
    def from_line(cls, data: bytes) -> Request:
        try:
            raw = json.loads(data.decode("utf-8", "replace") or "{}")
        except ValueError:
            return cls()
        if not isinstance(raw, dict):
            return cls()
        source = raw.get("source")
        return cls(source if isinstance(source, str) else None, bool(raw.get("start")))


def server_name(config_dir: Path | None = None) -> str:
    folder = str((config_dir or paths.config_dir()).resolve())
    return "dragoman-" + hashlib.sha1(folder.encode()).hexdigest()[:16]


class SingleInstance(QObject):
    """`acquire()` is True in the first instance (which then emits `requested`)."""

    requested = Signal(object)  # Request

    def __init__(self, config_dir: Path | None = None) -> None:
        super().__init__()
        folder = config_dir or paths.config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.name = server_name(folder)
        self._lock = QLockFile(str(folder / "instance.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """Become the instance (True), or find another one running (False)."""
        if not self._lock.tryLock(0):
            return False
        QLocalServer.removeServer(self.name)  # a socket file left by a crash
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("cannot listen for other launches: %s", server.errorString())
            return True
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def send(self, request: Request, timeout_s: float = CONNECT_TIMEOUT_S) -> bool:
        """Hand `request` to the running instance; False when none answered in time."""
        deadline = time.monotonic() + timeout_s
        while True:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(500):
                socket.write(request.to_line())
                ok = socket.waitForBytesWritten(2000)
                socket.disconnectFromServer()
                return ok
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)  # the first instance holds the lock but is not listening yet

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()

    def _accept(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            self._read(socket)  # the line may have arrived with the connection

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        data = bytes(socket.readLine().data())
        request = Request.from_line(data)
        log.info("another launch asked: %s", request)
        self.requested.emit(request)
