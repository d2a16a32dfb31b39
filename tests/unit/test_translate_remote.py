"""Remote translator client: request shape, answer parsing, retries and clear errors."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest

from engine.config import TranslationOptions
from engine.errors import ConfigError, RemoteServiceError
from engine.translate import Translator, create_translator
from engine.translate.remote import FailoverTranslator, RemoteTranslator


def _client(handler, retries: int = 1) -> RemoteTranslator:
    return RemoteTranslator(
        "http://127.0.0.1:5008/", timeout_s=0.5, retries=retries,
        transport=httpx.MockTransport(handler),
    )  # fmt: skip


def test_batch_request_and_answer() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/v1/translate"
        body = json.loads(request.content)
        seen.append(body)
        return httpx.Response(
            200,
            json={
                "model": "m2m100-418m",
                "translations": [
                    {"text": t.upper(), "quality_metrics": {"mean_token_logprob": -0.5}}
                    for t in body["texts"]
                ],
            },
        )

    translator = _client(handler)
    assert isinstance(translator, Translator)
    results = translator.translate(["hallo welt", "guten tag"], "deu_Latn", "en")
    assert seen == [
        {"texts": ["hallo welt", "guten tag"], "source_lang": "de", "target_lang": "en"}
    ]
    assert [r.text for r in results] == ["HALLO WELT", "GUTEN TAG"]
    assert results[0].model == "m2m100-418m"
    assert results[0].quality_metrics == {"mean_token_logprob": -0.5}
    assert results[0].source_lang == "de" and results[0].target_lang == "en"


def test_single_text_answer_and_plain_strings() -> None:
    translator = _client(lambda r: httpx.Response(200, json={"text": "hello"}))
    assert translator.translate(["hallo"], "de", "en")[0].text == "hello"
    translator = _client(lambda r: httpx.Response(200, json={"translations": ["a", "b"]}))
    assert [r.text for r in translator.translate(["x", "y"], "de", "en")] == ["a", "b"]


def test_server_error_is_retried_once() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(503)
        return httpx.Response(200, json={"translations": [{"text": "ok"}]})

    assert _client(handler).translate(["x"], "de", "en")[0].text == "ok"
    assert len(calls) == 2


def test_unreachable_service_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(RemoteServiceError, match=r"127\.0\.0\.1:5008 is not reachable"):
        _client(handler).translate(["x"], "de", "en")


def test_timeout_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(RemoteServiceError, match=r"did not answer within 0.5 s"):
        _client(handler, retries=0).translate(["x"], "de", "en")


@pytest.mark.parametrize(
    ("status", "payload", "message"),
    [
        (400, {"detail": "bad"}, "refused the request"),
        (200, {"translations": []}, "answered 0 translations for 1 texts"),
        (200, {"translations": [{"oops": 1}]}, "unexpected item"),
        (200, [1, 2], "answered nonsense"),
    ],
)
def test_bad_answers_are_clear_errors(status: int, payload: object, message: str) -> None:
    translator = _client(lambda r: httpx.Response(status, json=payload))
    with pytest.raises(RemoteServiceError, match=message):
        translator.translate(["x"], "de", "en")


def test_unknown_language_fails_before_any_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with pytest.raises(ConfigError, match="Unknown language code"):
        _client(handler).translate(["x"], "xx", "en")


def test_factory_builds_the_remote_client() -> None:
    options = TranslationOptions(backend="remote", remote_url="http://127.0.0.1:5999")
    failover = create_translator(options)
    assert isinstance(failover, FailoverTranslator)  # remote_fallback="local" by default
    assert failover.remote.name == failover.name == "remote:http://127.0.0.1:5999"
    strict = create_translator(replace(options, remote_fallback="error"))
    assert isinstance(strict, RemoteTranslator)
    assert strict.name == "remote:http://127.0.0.1:5999"
