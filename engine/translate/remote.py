"""Client of the HTTP translation service (`POST {url}/v1/translate`).

Request: `{"texts": [...], "source_lang": "de", "target_lang": "en"}`.
Answer: `{"translations": [{"text": ..., "quality_metrics": {...}, "model": ...}, ...]}`
(an item may also be a plain string), or for one text `{"text": ..., "quality_metrics": ...}`.
Timeouts, retries and the circuit breaker follow `engine.remote.RemotePolicy`; every failure is
a RemoteServiceError (ServiceDown or ServiceRefused) naming the service.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from engine.config import TranslationOptions
from engine.errors import DragomanError, RemoteServiceError
from engine.remote import RemotePolicy, ServiceClient, ServiceRefused
from engine.translate import languages as lang_table
from engine.translate.base import TranslationResult, TranslationTimings, Translator

log = logging.getLogger(__name__)

LOCAL_FALLBACK = "local (remote down)"
NO_FALLBACK = "none (remote down)"


class RemoteTranslator:
    """`Translator` that asks the translation service. transport: for tests (httpx)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 1,
        transport: httpx.BaseTransport | None = None,
        token: str | None = None,
        policy: RemotePolicy | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.name = f"remote:{self.url}"
        self.timeout_s = timeout_s
        policy = policy or RemotePolicy(
            connect_timeout_s=min(2.0, timeout_s),
            read_timeout_s=timeout_s,
            retries=retries,
            token=token,
        )
        self.client = ServiceClient("translation service", self.url, policy, transport=transport)

    @classmethod
    def from_options(cls, options: TranslationOptions) -> RemoteTranslator:
        return cls(
            options.remote_url,
            timeout_s=options.remote_timeout_s,
            token=options.remote_token or None,
        )

    def close(self) -> None:
        self.client.close()

    def translate(
        self, texts: Sequence[str], source_lang: str, target_lang: str
    ) -> list[TranslationResult]:
        src = lang_table.app_code(source_lang)
        tgt = lang_table.app_code(target_lang)
        if not texts:
            return []
        start = time.perf_counter()
        payload = {"texts": list(texts), "source_lang": src, "target_lang": tgt}
        data = self.client.call("/v1/translate", payload, _json_object)
        items = self._items(data, len(texts))
        timings = TranslationTimings(decode_s=time.perf_counter() - start, batch_size=len(texts))
        results = []
        for item in items:
            text: object = None
            metrics: object = {}
            model = str(data.get("model") or self.name)
            if isinstance(item, str):
                text = item
            elif isinstance(item, dict):
                text = item.get("text", item.get("translation"))
                metrics = item.get("quality_metrics") or {}
                model = str(item.get("model") or model)
            if not isinstance(text, str) or not isinstance(metrics, dict):
                raise RemoteServiceError(
                    f"The translation service at {self.url} answered an unexpected item: "
                    f"{str(item)[:200]}"
                )
            results.append(
                TranslationResult(
                    text=text,
                    source_lang=src,
                    target_lang=tgt,
                    model=model,
                    quality_metrics={
                        k: float(v) for k, v in metrics.items() if isinstance(v, int | float)
                    },
                    timings=timings,
                )
            )
        return results

    def _items(self, data: dict[str, Any], expected: int) -> list[Any]:
        items = data.get("translations", data.get("results"))
        if items is None and expected == 1 and ("text" in data or "translation" in data):
            items = [data]
        if not isinstance(items, list) or len(items) != expected:
            count = len(items) if isinstance(items, list) else "no"
            raise RemoteServiceError(
                f"The translation service at {self.url} answered {count} translations for "
                f"{expected} texts."
            )
        return items


def _json_object(response: httpx.Response) -> dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


class FailoverTranslator:
    """The service first; when it fails, the local model (made on first need by `local`, which
    returns None when no local model is installed or named). While the service's circuit is
    open the local model translates without asking it. Without a local model the failure is
    raised (the pipeline keeps the original text and reports it).

    backend_in_use: "remote", "local (remote down)" or "none (remote down)".
    """

    def __init__(self, remote: RemoteTranslator, local: Callable[[], Translator | None]) -> None:
        self.remote = remote
        self._make_local = local
        self._local: Translator | None = None
        self._local_made = False
        self._lock = threading.Lock()
        self.backend_in_use = "remote"
        self.name = remote.name  # the model that translated last
        self.last_error: str | None = None

    def close(self) -> None:
        self.remote.close()

    def local(self) -> Translator | None:
        with self._lock:
            if not self._local_made:
                self._local_made = True
                try:
                    self._local = self._make_local()
                except DragomanError as exc:
                    log.warning("no local translation fallback: %s", exc)
                    self._local = None
            return self._local

    def translate(
        self, texts: Sequence[str], source_lang: str, target_lang: str
    ) -> list[TranslationResult]:
        error: RemoteServiceError | None = None
        if self.remote.client.available:
            try:
                results = self.remote.translate(texts, source_lang, target_lang)
            except RemoteServiceError as exc:
                error = exc
                self.last_error = str(exc)
            else:
                self.backend_in_use, self.name = "remote", self.remote.name
                return results
        local = self.local()
        if local is None:
            self.backend_in_use = NO_FALLBACK
            if error is None:
                error = RemoteServiceError(
                    f"The translation service at {self.remote.url} is down (retrying later)"
                )
            raise RemoteServiceError(
                f"{str(error).rstrip('.')}. No local translation model is installed: the "
                "original text is kept."
            ) from error
        if self.backend_in_use != LOCAL_FALLBACK and not isinstance(error, ServiceRefused):
            log.warning(
                "%s; translating with the local model %s", str(error).rstrip("."), local.name
            )
        self.backend_in_use, self.name = LOCAL_FALLBACK, local.name
        return local.translate(texts, source_lang, target_lang)
