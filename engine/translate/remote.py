"""Client of the HTTP translation service (`POST {url}/v1/translate`).

Request: `{"texts": [...], "source_lang": "de", "target_lang": "en"}`.
Answer: `{"translations": [{"text": ..., "quality_metrics": {...}, "model": ...}, ...]}`
(an item may also be a plain string), or for one text `{"text": ..., "quality_metrics": ...}`.
Timeouts and one retry; every failure is a RemoteServiceError naming the service.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx

from engine.errors import RemoteServiceError
from engine.translate import TranslationResult, TranslationTimings
from engine.translate import languages as lang_table


class RemoteTranslator:
    """`Translator` that asks the translation service. transport: for tests (httpx)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 1,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.name = f"remote:{self.url}"
        self.retries = max(0, retries)
        self._client = httpx.Client(timeout=timeout_s, transport=transport)
        self.timeout_s = timeout_s

    def close(self) -> None:
        self._client.close()

    def translate(
        self, texts: Sequence[str], source_lang: str, target_lang: str
    ) -> list[TranslationResult]:
        src = lang_table.app_code(source_lang)
        tgt = lang_table.app_code(target_lang)
        if not texts:
            return []
        start = time.perf_counter()
        payload = {"texts": list(texts), "source_lang": src, "target_lang": tgt}
        data = self._post(payload)
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

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        endpoint = f"{self.url}/v1/translate"
        last: Exception | None = None
        for _attempt in range(self.retries + 1):
            try:
                response = self._client.post(endpoint, json=payload)
            except httpx.TimeoutException as exc:
                last = exc
                continue
            except httpx.HTTPError as exc:
                last = exc
                continue
            if response.status_code >= 500:
                last = RemoteServiceError(f"HTTP {response.status_code}")
                continue
            if response.status_code != 200:
                raise RemoteServiceError(
                    f"The translation service at {self.url} refused the request "
                    f"(HTTP {response.status_code}: {response.text[:200]})."
                )
            try:
                data = response.json()
            except ValueError as exc:
                raise RemoteServiceError(
                    f"The translation service at {self.url} did not answer JSON."
                ) from exc
            if not isinstance(data, dict):
                raise RemoteServiceError(
                    f"The translation service at {self.url} answered nonsense."
                )
            return data
        if isinstance(last, httpx.TimeoutException):
            reason = f"no answer within {self.timeout_s:g} s"
        else:
            reason = str(last) or type(last).__name__
        raise RemoteServiceError(
            f"The translation service at {self.url} is not reachable ({reason}). Start it, or "
            "choose a local translator (m2m100/nllb)."
        ) from last

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
