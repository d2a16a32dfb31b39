"""The reference translation service (FastAPI + uvicorn on 127.0.0.1) with real ONNX inference
on the tiny M2M100 fixture (nonsense language): the same translations as the in-process
translator, both request shapes, clear 4xx answers, and the remote client against it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.config import TranslationOptions
from engine.errors import ConfigError, ModelError, RemoteServiceError
from engine.services.nmt import create_app
from engine.translate import Translator, create_translator
from engine.translate.remote import RemoteTranslator
from tests.http_env import serve_app

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "m2m100"
OPTIONS = TranslationOptions(backend="m2m100", model=str(FIXTURE))
TEXTS = [
    "Hello world.",
    "The weather today is sunny and warm.",
    "Please turn off your phones before we begin.",
]


@pytest.fixture(scope="module")
def reference() -> Translator:
    """The in-process translator the service must agree with (a separate instance)."""
    return create_translator(OPTIONS)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The service on a free local port, loading the fixture through create_app's own path."""
    with serve_app(create_app(OPTIONS, FIXTURE, max_texts=8, max_chars=2_000)) as url:
        yield url


def post(server: str, body: object) -> httpx.Response:
    return httpx.post(server + "/v1/translate", json=body, timeout=30)


def test_batch_matches_in_process_translator(server: str, reference: Translator) -> None:
    expected = reference.translate(TEXTS, "en", "fr")
    response = post(server, {"texts": TEXTS, "source_lang": "en", "target_lang": "fr"})
    assert response.status_code == 200, response.text
    data = response.json()
    got = data["translations"]
    assert [t["text"] for t in got] == [r.text for r in expected]
    assert all(r.text for r in expected)  # the fixture really generates text
    for item, ref in zip(got, expected, strict=True):
        assert item["model"] == ref.model == "m2m100:m2m100"
        assert item["quality_metrics"] == pytest.approx(ref.quality_metrics)
        assert {"mean_token_logprob", "length_ratio"} <= item["quality_metrics"].keys()
    assert (data["model"], data["source_lang"], data["target_lang"]) == (ref.model, "en", "fr")
    assert "text" not in data and "quality_metrics" not in data  # only for single-text requests
    timings = data["timings"]
    assert timings["batch_size"] == len(TEXTS)
    assert 0 < timings["total_s"] <= timings["request_s"]


def test_single_text_shape(server: str, reference: Translator) -> None:
    [expected] = reference.translate([TEXTS[1]], "en", "de")
    # Any code spelling languages.find() accepts: the answer uses the app's codes.
    response = post(server, {"text": TEXTS[1], "source_lang": "eng_Latn", "target_lang": "de"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["text"] == expected.text
    assert data["quality_metrics"] == pytest.approx(expected.quality_metrics)
    assert [t["text"] for t in data["translations"]] == [expected.text]
    assert (data["source_lang"], data["target_lang"]) == ("en", "de")
    assert data["timings"]["batch_size"] == 1


def test_blank_items_in_a_batch_come_back_empty(server: str, reference: Translator) -> None:
    texts = [TEXTS[0], "  ", TEXTS[2]]
    expected = [r.text for r in reference.translate(texts, "en", "fr")]
    data = post(server, {"texts": texts, "source_lang": "en", "target_lang": "fr"}).json()
    assert [t["text"] for t in data["translations"]] == expected
    assert expected[1] == "" and expected[0] and expected[2]


def test_bad_requests_answer_4xx_with_a_sentence(server: str) -> None:
    pair = {"source_lang": "en", "target_lang": "fr"}
    cases: list[tuple[object, int, str]] = [
        ({"texts": [], **pair}, 422, "'texts' is empty"),
        ({"text": "   ", **pair}, 422, "the text is empty"),
        (pair, 422, "either 'text'"),
        ({"text": "a", "texts": ["b"], **pair}, 422, "either 'text'"),
        ({"text": "Hello."}, 422, "source_lang: Field required"),
        ({"text": 5, **pair}, 422, "text: Input should be a valid string"),
        ({"texts": ["Hi."] * 9, **pair}, 413, "9 texts in one request; at most 8"),
        ({"text": "word " * 500, **pair}, 413, "2500 characters in one request; at most 2000"),
        (
            {"text": "Hello.", "source_lang": "xx", "target_lang": "fr"},
            400,
            "unsupported language pair 'xx' -> 'fr': Unknown language code 'xx'",
        ),
        (
            {"text": "Hello.", "source_lang": "en", "target_lang": "yue"},
            400,
            "unsupported language pair 'en' -> 'yue': M2M100 does not know Cantonese",
        ),
    ]
    for body, status, message in cases:
        response = post(server, body)
        assert response.status_code == status, (body, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, str) and message in detail, (body, detail)
    broken = httpx.post(
        server + "/v1/translate",
        content=b'{"text": "Hello.", ',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 422 and "not valid JSON" in broken.json()["detail"]
    huge = httpx.post(
        server + "/v1/translate",
        content=b'{"text": "' + b"a" * (1024 * 1024 + 1) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and "larger than 1048576 bytes" in huge.json()["detail"]


def test_health_and_openapi(server: str) -> None:
    health = httpx.get(server + "/health").json()
    assert health["status"] == "ok" and health["model"] == "m2m100:m2m100"
    assert health["backend"] == "m2m100" and {"en", "fr", "de", "zh"} <= set(health["languages"])
    schema = httpx.get(server + "/openapi.json").json()
    operation = schema["paths"]["/v1/translate"]["post"]
    assert {"200", "400", "413", "422"} <= operation["responses"].keys()
    request = schema["components"]["schemas"]["TranslateRequest"]
    assert {"texts", "text", "source_lang", "target_lang"} <= request["properties"].keys()
    assert "translations" in schema["components"]["schemas"]["TranslateResponse"]["properties"]


def test_concurrent_requests_get_their_own_translations(server: str, reference: Translator) -> None:
    """Requests race on the thread pool; the lock keeps each answer equal to the reference."""
    jobs = [([text], target) for text in TEXTS for target in ("fr", "de", "es")]
    expected = {(t[0], tgt): reference.translate(t, "en", tgt)[0].text for t, tgt in jobs}
    answers: dict[tuple[str, str], str] = {}
    errors: list[BaseException] = []

    def ask(texts: list[str], target: str) -> None:
        try:
            body = {"texts": texts, "source_lang": "en", "target_lang": target}
            answers[(texts[0], target)] = post(server, body).json()["translations"][0]["text"]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert answers == expected


def test_remote_client_gets_the_same_translations(server: str, reference: Translator) -> None:
    remote = RemoteTranslator(server, timeout_s=10.0)
    try:
        got = remote.translate(TEXTS, "en", "fr")
        expected = reference.translate(TEXTS, "en", "fr")
        assert [r.text for r in got] == [r.text for r in expected]
        for g, e in zip(got, expected, strict=True):
            assert g.model == "m2m100:m2m100"
            assert g.quality_metrics == pytest.approx(e.quality_metrics)
        [one] = remote.translate([TEXTS[2]], "en", "de")
        assert one.text == reference.translate([TEXTS[2]], "en", "de")[0].text
        with pytest.raises(RemoteServiceError, match="HTTP 400.*Cantonese"):
            remote.translate(["Hello."], "en", "yue")
    finally:
        remote.close()


def test_service_refuses_non_local_backends_and_missing_models(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="serves a local model"):
        create_app(TranslationOptions(backend="remote"))
    with pytest.raises(ModelError):
        create_app(OPTIONS, tmp_path / "nothing-here")
