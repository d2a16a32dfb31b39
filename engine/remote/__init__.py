"""The HTTP client policy every remote stage shares: connect and read timeouts, a small retry
budget with backoff, a circuit breaker, and the bearer token.

A stalled or dead service must not cost every final its full timeout: after
`breaker_failures` failures in a row the circuit opens and calls fail at once (the stage uses
its fallback) for `breaker_reset_s`; then one probe request decides whether it closes again.
Only failures that say the service is unwell count (no connection, timeout, 5xx, nonsense);
a 4xx means the service is up and refused this request, and is never retried.

`ServiceClient.call(path, payload, parse)` returns what `parse` makes of a 200 answer, or
raises `RemoteServiceError` whose message says which of these happened, in one sentence.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.errors import RemoteServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")
TOKEN_ENV = "DRAGOMAN_REMOTE_TOKEN"


@dataclass(frozen=True)
class RemotePolicy:
    """How a client treats its service.

    connect_timeout_s: to open the TCP connection (a dead host fails fast).
    read_timeout_s: to get the answer (a stalled service is given up after this).
    retries: extra attempts after a refused connection or a 502/503/504, with
        `backoff_s` doubling between them; a read timeout is not retried (the service is
        stalled: asking again doubles the wait).
    breaker_failures: failures in a row that open the circuit; breaker_reset_s: how long it
        stays open before one probe request.
    token: bearer token sent as `Authorization: Bearer <token>` (None = none).
    """

    connect_timeout_s: float = 2.0
    read_timeout_s: float = 5.0
    retries: int = 1
    backoff_s: float = 0.2
    breaker_failures: int = 2
    breaker_reset_s: float = 30.0
    token: str | None = None


class ServiceDown(RemoteServiceError):
    """The service is unwell (no connection, timeout, 5xx, nonsense) or its circuit is open."""


class ServiceRefused(RemoteServiceError):
    """The service is up but refused this request (4xx): retrying or failing over won't help
    unless the request changes (wrong token, unsupported language, ...)."""


class CircuitBreaker:
    """closed -> (N failures in a row) -> open -> (reset_s later) half-open: one probe."""

    def __init__(
        self, failures: int, reset_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures_to_open = max(1, failures)
        self.reset_s = reset_s
        self.clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if self.clock() - self._opened_at >= self.reset_s:
                return "half-open"
            return "open"

    def allow(self) -> bool:
        """May a request go out now? In half-open state only one (the probe) may."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self.clock() - self._opened_at < self.reset_s or self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def failure(self) -> bool:
        """Record a failure; True when this one opened (or re-opened) the circuit."""
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.failures_to_open:
                self._opened_at = self.clock()
                self._probing = False
                return True
            return False


class ServiceClient:
    """One service (`name` for messages, `base_url`) under a `RemotePolicy`.

    transport: an httpx transport (tests); clock / sleep: injectable for the breaker and
    backoff. Thread-safe (httpx.Client is)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        policy: RemotePolicy | None = None,
        *,
        transport: Any = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - httpx is a runtime dependency
            raise RemoteServiceError(
                f"The remote {name} needs httpx: `pip install httpx`."
            ) from exc
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RemotePolicy()
        self.breaker = CircuitBreaker(
            self.policy.breaker_failures, self.policy.breaker_reset_s, clock
        )
        self._sleep = sleep
        self._httpx = httpx
        headers = {"Authorization": f"Bearer {self.policy.token}"} if self.policy.token else {}
        timeout = httpx.Timeout(
            self.policy.read_timeout_s,
            connect=self.policy.connect_timeout_s,
            pool=self.policy.connect_timeout_s,
        )
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def close(self) -> None:
        self._client.close()

    @property
    def available(self) -> bool:
        """False while the circuit is open (calls would fail at once)."""
        return self.breaker.state != "open"

    def call(self, path: str, payload: dict[str, Any], parse: Callable[[Any], T]) -> T:
        """POST `payload` as JSON to `path`; `parse(response)` of the 200 answer.

        parse raises ValueError / TypeError / KeyError on nonsense (counted as a failure).
        Raises ServiceDown or ServiceRefused."""
        url = self.base_url + path
        if not self.breaker.allow():
            raise ServiceDown(
                f"The {self.name} at {self.base_url} failed repeatedly; not asking it again "
                f"for up to {self.policy.breaker_reset_s:g} s."
            )
        attempts = 1 + max(0, self.policy.retries)
        delay = self.policy.backoff_s
        for attempt in range(attempts):
            retry = attempt + 1 < attempts
            try:
                response = self._client.post(url, json=payload)
            except self._httpx.TimeoutException as exc:
                connect = isinstance(exc, self._httpx.ConnectTimeout | self._httpx.PoolTimeout)
                if connect and retry:
                    self._sleep(delay)
                    delay *= 2
                    continue
                limit = self.policy.connect_timeout_s if connect else self.policy.read_timeout_s
                what = "accept a connection" if connect else "answer"
                raise self._down(f"did not {what} within {limit:g} s") from exc
            except self._httpx.HTTPError as exc:  # refused, reset, DNS, protocol garbage
                if retry and isinstance(exc, self._httpx.ConnectError):
                    self._sleep(delay)
                    delay *= 2
                    continue
                reason = str(exc) or type(exc).__name__
                raise self._down(f"is not reachable ({reason})") from exc
            status = response.status_code
            if status in (502, 503, 504) and retry:
                self._sleep(delay)
                delay *= 2
                continue
            if status >= 500:
                raise self._down(f"failed with HTTP {status}: {_detail(response)}")
            if status != 200:
                self.breaker.success()  # it is up: it answered
                hint = " (check the remote token)" if status in (401, 403) else ""
                raise ServiceRefused(
                    f"The {self.name} at {self.base_url} refused the request "
                    f"(HTTP {status}: {_detail(response)}){hint}."
                )
            try:
                result = parse(response)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise self._down(f"answered nonsense ({str(exc)[:120]})") from exc
            self.breaker.success()
            return result
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _down(self, what: str) -> ServiceDown:
        opened = self.breaker.failure()
        if opened:  # the stage using this client says what it does instead
            log.info("%s at %s %s; circuit open", self.name, self.base_url, what)
        return ServiceDown(f"The {self.name} at {self.base_url} {what}.")


def _detail(response: Any) -> str:
    """The service's one-line `detail`, else the start of its body."""
    try:
        data = response.json()
        if isinstance(data, dict) and isinstance(data.get("detail"), str):
            return str(data["detail"])[:200]
    except ValueError:
        pass
    return " ".join(response.text.split())[:200] or "no body"
