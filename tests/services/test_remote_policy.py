"""The clients' policy against real servers on 127.0.0.1: a stalled service costs one read
timeout per request until the circuit opens (then nothing), HTTP 500 is called HTTP 500,
garbage is called nonsense, a refused connection is retried once with backoff, the token is
sent; the speech and speaker clients fall back to their local models and say so; the
`/synthesize` client speaks through the seed's endpoint."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.config import SpeechOptions, TranslationOptions
from engine.errors import RemoteServiceError
from engine.remote import CircuitBreaker, RemotePolicy, ServiceClient, ServiceDown, ServiceRefused
from engine.services.nmt import create_app as nmt_app
from engine.services.web import ServiceGuard
from engine.translate.remote import RemoteTranslator
from tests.http_env import serve_app
from tests.services.fault_servers import dead_url, fault_server

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "m2m100"
SPEECH = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "speech"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_failures_and_probes_once() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=2, reset_s=10.0, clock=clock)
    assert breaker.allow() and not breaker.failure() and breaker.state == "closed"
    assert breaker.failure() and breaker.state == "open" and not breaker.allow()
    clock.now += 10.0
    assert breaker.state == "half-open"
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one
    assert breaker.failure() and breaker.state == "open"  # probe failed: open again
    clock.now += 10.0
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


def test_stalled_service_costs_one_timeout_then_nothing() -> None:
    with fault_server("stall") as (url, server):
        translator = RemoteTranslator(url, timeout_s=0.5)
        costs = []
        messages = []
        for _ in range(4):
            started = time.monotonic()
            with pytest.raises(ServiceDown) as failed:
                translator.translate(["Hello."], "en", "fr")
            costs.append(time.monotonic() - started)
            messages.append(str(failed.value))
        assert all("did not answer within 0.5 s" in m for m in messages[:2]), messages
        assert all("failed repeatedly" in m for m in messages[2:]), messages
        assert all(0.45 < c < 2.0 for c in costs[:2]), costs  # no retry of a read timeout
        assert all(c < 0.1 for c in costs[2:]), costs  # circuit open: no request at all
        assert server.requests == 2  # type: ignore[attr-defined]
        translator.close()


def test_http_500_is_reported_as_500_and_garbage_as_nonsense() -> None:
    with (
        fault_server("500") as (url, _),
        pytest.raises(ServiceDown, match="failed with HTTP 500: translation failed: the"),
    ):
        RemoteTranslator(url, timeout_s=2.0).translate(["Hello."], "en", "fr")
    with (
        fault_server("garbage") as (url, _),
        pytest.raises(ServiceDown, match="answered nonsense"),
    ):
        RemoteTranslator(url, timeout_s=2.0).translate(["Hello."], "en", "fr")


def test_refused_connection_is_retried_with_backoff() -> None:
    slept: list[float] = []
    url = dead_url()
    client = ServiceClient(
        "translation service", url, RemotePolicy(retries=2, backoff_s=0.1), sleep=slept.append
    )
    with pytest.raises(ServiceDown, match="is not reachable"):
        client.call("/v1/translate", {}, lambda r: r)
    assert slept == [0.1, 0.2]


@pytest.fixture(scope="module")
def locked_nmt() -> Iterator[str]:
    options = TranslationOptions(backend="m2m100", model=str(FIXTURE))
    with serve_app(nmt_app(options, FIXTURE, guard=ServiceGuard(token="t0ken"))) as url:
        yield url


def test_token_is_sent(locked_nmt: str) -> None:
    good = RemoteTranslator(locked_nmt, timeout_s=10.0, token="t0ken")
    assert good.translate(["Hello world."], "en", "fr")[0].text
    options = TranslationOptions(backend="remote", remote_url=locked_nmt, remote_token="t0ken")
    assert RemoteTranslator.from_options(options).translate(["Hello."], "en", "fr")[0].text
    bad = RemoteTranslator(locked_nmt, timeout_s=10.0, token="nope")
    with pytest.raises(ServiceRefused, match=r"HTTP 401.*check the remote token"):
        bad.translate(["Hello world."], "en", "fr")
    assert bad.client.available  # a refusal is not an outage


def test_speech_client_falls_back_to_local_piper_on_a_stalled_service() -> None:
    from engine.tts.remote import LOCAL_FALLBACK, RemoteSynthesizer

    sentences = ["Good morning.", "The meeting starts at nine.", "Please sit down."]
    with fault_server("stall") as (url, server):
        options = SpeechOptions(backend="remote", remote_url=url, remote_timeout_s=0.5)
        synth = RemoteSynthesizer(options)
        started = time.monotonic()
        chunks = list(synth.synthesize(" ".join(sentences), "en"))
        elapsed = time.monotonic() - started
    assert [c.text for c in chunks] == sentences  # every sentence spoken
    assert all(c.duration > 0.4 and c.voice.endswith(".onnx") for c in chunks)
    assert synth.backend_in_use == LOCAL_FALLBACK
    assert server.requests == 2  # type: ignore[attr-defined]  # then the circuit opened
    assert elapsed < 1.0 + 2 * 0.5 + 10.0
    strict = RemoteSynthesizer(
        SpeechOptions(backend="remote", remote_url=dead_url(), remote_fallback="error")
    )
    with pytest.raises(RemoteServiceError, match="speech service .* is not reachable"):
        list(strict.synthesize("Hello.", "en"))


def test_synthesize_api_client_against_the_real_service() -> None:
    from engine.tts.remote import RemoteSynthesizer
    from engine.tts.service import create_app

    with serve_app(create_app(), "speech service") as url:
        options = SpeechOptions(
            backend="remote", remote_url=url, remote_api="synthesize", remote_fallback="error"
        )
        synth = RemoteSynthesizer(options)
        chunks = list(synth.synthesize("Good morning. See you soon.", "en"))
    assert [c.text for c in chunks] == ["Good morning.", "See you soon."]
    assert all(c.voice == "en_US-joe-medium" and c.sample_rate == 22_050 for c in chunks)
    assert synth.backend_in_use == "remote"


def test_speaker_client_falls_back_on_http_500_and_garbage() -> None:
    import soundfile as sf

    from engine.speakers.encoder import load_voice_encoder
    from engine.speakers.remote import LOCAL_FALLBACK, RemoteEmbedder

    audio, rate = sf.read(SPEECH / "goforward.wav", dtype="float32")
    clip = audio[: int(1.5 * rate)]
    local = load_voice_encoder()
    expected = local.embed(clip, rate)
    assert expected is not None
    for mode in ("500", "garbage"):
        with fault_server(mode) as (url, _):
            remote = RemoteEmbedder(url, timeout_s=2.0, retries=0, fallback=local)
            got = remote.embed(clip, rate)
            assert got is not None and float(np.dot(got, expected)) > 0.9999
            assert remote.backend_in_use == LOCAL_FALLBACK
            remote.close()


@pytest.mark.parametrize("fault", ["killed", "stall", "garbage", "500"])
def test_translation_fails_over_to_the_local_model(fault: str) -> None:
    """Every sentence is still translated, by the local model, and the switch is visible."""
    from engine.translate import create_translator, local_fallback
    from engine.translate.remote import LOCAL_FALLBACK, FailoverTranslator

    options = TranslationOptions(
        backend="remote", model=str(FIXTURE), remote_timeout_s=0.5, target_lang="fr"
    )
    reference = create_translator(replace(options, backend="m2m100"))
    texts = ["Hello world.", "The weather today is sunny and warm.", "Please sit down."]
    expected = [r.text for r in reference.translate(texts, "en", "fr")]

    def check(url: str) -> FailoverTranslator:
        translator = FailoverTranslator(
            RemoteTranslator(url, timeout_s=0.5), local_fallback(replace(options, remote_url=url))
        )
        for text, want in zip(texts, expected, strict=True):
            [got] = translator.translate([text], "en", "fr")
            assert got.text == want
        assert translator.backend_in_use == LOCAL_FALLBACK
        assert translator.name == "m2m100:m2m100" and translator.last_error
        return translator

    if fault == "killed":
        live = nmt_app(replace(options, backend="m2m100"), FIXTURE)
        with serve_app(live) as url:
            translator = FailoverTranslator(
                RemoteTranslator(url, timeout_s=0.5), local_fallback(options)
            )
            assert translator.translate(texts[:1], "en", "fr")[0].text == expected[0]
            assert translator.backend_in_use == "remote"
        # the service is gone now (its port closed): the same client carries on locally
        for text, want in zip(texts, expected, strict=True):
            assert translator.translate([text], "en", "fr")[0].text == want
        assert translator.backend_in_use == LOCAL_FALLBACK
        assert "not reachable" in (translator.last_error or "")
        return
    with fault_server(fault) as (url, server):
        started = time.monotonic()
        check(url)
        assert time.monotonic() - started < 2 * 0.5 + 5.0  # the circuit opened
        assert server.requests <= 2  # type: ignore[attr-defined]


def test_translation_without_a_local_model_keeps_the_original_and_says_so() -> None:
    from engine.translate.remote import NO_FALLBACK, FailoverTranslator

    with fault_server("500") as (url, _):
        translator = FailoverTranslator(RemoteTranslator(url, timeout_s=0.5), lambda: None)
        with pytest.raises(RemoteServiceError, match="HTTP 500.*the original text is kept"):
            translator.translate(["Hello."], "en", "fr")
        assert translator.backend_in_use == NO_FALLBACK
