"""Clients people already have: the real `libretranslatepy` and `openai` libraries against our
services on 127.0.0.1 (tiny M2M100 fixture, the packaged Piper voice), and schemathesis
against each service's OpenAPI document (bounded examples; no 5xx, only documented answers)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.config import TranslationOptions
from engine.services.nmt import create_app as nmt_app
from engine.services.web import ServiceGuard
from engine.translate import Translator, create_translator
from tests.http_env import serve_app
from tests.services.fuzz import fuzz_service

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "m2m100"
OPTIONS = TranslationOptions(backend="m2m100", model=str(FIXTURE))
TOKEN = "compat-token"


@pytest.fixture(scope="module")
def reference() -> Translator:
    return create_translator(OPTIONS)


@pytest.fixture(scope="module")
def nmt() -> Iterator[str]:
    with serve_app(nmt_app(OPTIONS, FIXTURE, max_texts=8, max_chars=400)) as url:
        yield url


@pytest.fixture(scope="module")
def tts() -> Iterator[str]:
    from engine.tts.service import create_app

    with serve_app(create_app(max_chars=300), "speech service") as url:
        yield url


def test_libretranslatepy_gets_real_translations(nmt: str, reference: Translator) -> None:
    from libretranslatepy import LibreTranslateAPI

    client = LibreTranslateAPI(nmt)
    for text, target in (("Hello world.", "fr"), ("Please turn off your phones.", "de")):
        expected = reference.translate([text], "en", target)[0].text
        assert expected  # the fixture really generates text
        assert client.translate(text, "en", target) == expected


def test_libretranslate_api_key_carries_the_token(reference: Translator) -> None:
    from urllib.error import HTTPError

    from libretranslatepy import LibreTranslateAPI

    with serve_app(nmt_app(OPTIONS, FIXTURE, guard=ServiceGuard(token=TOKEN))) as url:
        keyed = LibreTranslateAPI(url, api_key=TOKEN)
        assert keyed.translate("Hello world.", "en", "fr") == (
            reference.translate(["Hello world."], "en", "fr")[0].text
        )
        with pytest.raises(HTTPError) as refused:
            LibreTranslateAPI(url, api_key="wrong").translate("Hello world.", "en", "fr")
        assert refused.value.code == 401


def test_libretranslate_json_batch_and_errors(nmt: str, reference: Translator) -> None:
    import httpx

    texts = ["Hello world.", "Good morning."]
    answer = httpx.post(nmt + "/translate", json={"q": texts, "source": "en", "target": "es"})
    assert answer.status_code == 200
    assert answer.json()["translatedText"] == [
        r.text for r in reference.translate(texts, "en", "es")
    ]
    auto = httpx.post(nmt + "/translate", json={"q": "Hi.", "source": "auto", "target": "es"})
    assert auto.status_code == 400 and "auto" in auto.json()["detail"]
    missing = httpx.post(nmt + "/translate", data={"q": "Hi."})
    assert missing.status_code == 422 and "source" in missing.json()["detail"]


def test_openai_client_gets_real_wav_speech(tts: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=tts + "/v1", api_key="unused", max_retries=0, timeout=60)
    answer = client.audio.speech.create(
        model="tts-1", voice="alloy", input="The meeting starts at nine.", response_format="wav"
    )
    audio, rate = sf.read(io.BytesIO(answer.read()), dtype="float32")
    assert rate == 22_050 and 1.0 < len(audio) / rate < 5.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.01  # speech, not silence
    slow = client.audio.speech.create(
        model="piper",
        voice="en_US-joe-medium",
        input="The meeting starts at nine.",
        response_format="wav",
        speed=0.5,
    )
    slow_audio, _ = sf.read(io.BytesIO(slow.read()), dtype="float32")
    assert len(slow_audio) > 1.5 * len(audio)
    from openai import BadRequestError

    with pytest.raises(BadRequestError):
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.", response_format="mp3")


def test_openai_client_sends_the_token() -> None:
    from openai import AuthenticationError, OpenAI

    from engine.tts.service import create_app

    with serve_app(create_app(guard=ServiceGuard(token=TOKEN)), "speech service") as url:
        good = OpenAI(base_url=url + "/v1", api_key=TOKEN, max_retries=0, timeout=60)
        speech = good.audio.speech.create(
            model="tts-1", voice="alloy", input="Hello.", response_format="wav"
        )
        assert sf.read(io.BytesIO(speech.read()))[1] == 22_050
        bad = OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0, timeout=60)
        with pytest.raises(AuthenticationError):
            bad.audio.speech.create(model="tts-1", voice="alloy", input="Hello.")


def test_schemathesis_translation(nmt: str) -> None:
    assert fuzz_service(nmt, max_examples=15) > 20


def test_schemathesis_speech(tts: str) -> None:
    assert fuzz_service(tts, max_examples=10) > 20


def test_schemathesis_speaker() -> None:
    from engine.speakers.encoder import load_voice_encoder
    from engine.speakers.service import create_app

    with serve_app(create_app(load_voice_encoder(), max_seconds=5.0), "speaker service") as url:
        assert fuzz_service(url, max_examples=15) > 10
