"""Listening sockets for the services (shared by `dragoman serve` and `dragoman serve ray`)."""

from __future__ import annotations

import ipaddress
import socket
import sys

from engine.errors import ConfigError


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; ConfigError saying why not (busy port, bad host)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"Cannot listen on '{host}': unknown address ({exc.strerror}).") from exc
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if sys.platform != "win32":  # on Windows SO_REUSEADDR would allow stealing a busy port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        hint = " (another service already uses it? choose one with --port)" if port else ""
        raise ConfigError(f"Cannot listen on {host}:{port}: {reason}{hint}.") from exc
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    """True when every address `host` names is loopback ('127.1', 'localhost', '::1')."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses
    )
