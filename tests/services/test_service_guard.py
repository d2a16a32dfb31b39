"""The services' shared rules on real servers on 127.0.0.1: bearer tokens, the Host check,
body limits counted on the bytes read (chunked uploads), 4xx for bad input and 5xx for model
failures, clean-text validation, voice ids that cannot reach files, offline /docs, readable
OpenAPI documents (with the exactly-one-of translate schema), and the refusal to serve a
non-loopback address without a token."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from engine.config import TranslationOptions
from engine.errors import ConfigError, ModelError
from engine.services.cli import is_loopback
from engine.services.nmt import create_app as nmt_app
from engine.services.web import Bounded, ServiceGuard, check_token, host_is_local
from engine.tts.service import create_app as tts_app
from engine.tts.service import pieces
from tests.http_env import serve_app

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "m2m100" / "m2m100"
OPTIONS = TranslationOptions(backend="m2m100", model=str(FIXTURE))
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAIR = {"source_lang": "en", "target_lang": "fr"}


@pytest.fixture(scope="module")
def nmt_locked() -> Iterator[str]:
    with serve_app(nmt_app(OPTIONS, FIXTURE, guard=ServiceGuard(token=TOKEN))) as url:
        yield url


@pytest.fixture(scope="module")
def tts() -> Iterator[str]:
    with serve_app(tts_app(max_chars=1_000), "speech service") as url:
        yield url


def test_token_is_required_and_checked(nmt_locked: str) -> None:
    body = {"text": "Hello.", **PAIR}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = httpx.post(nmt_locked + "/v1/translate", json=body, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["content-type"] == "application/json"
        assert "bearer token" in refused.json()["detail"]
        assert refused.headers["www-authenticate"] == "Bearer"
    ok = httpx.post(nmt_locked + "/v1/translate", json=body, headers=AUTH, timeout=30)
    assert ok.status_code == 200 and ok.json()["text"]
    # liveness and the schema stay readable without it
    assert httpx.get(nmt_locked + "/health").status_code == 200
    schema = httpx.get(nmt_locked + "/openapi.json").json()
    assert schema["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer"}
    }
    assert schema["paths"]["/v1/translate"]["post"]["security"] == [{"bearer": []}]
    assert schema["paths"]["/translate"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


def test_token_values() -> None:
    assert check_token(None) is None
    assert check_token(" abc ") == "abc"
    for bad in ("", "   ", "has space", "tab\tx", "é"):
        with pytest.raises(ConfigError):
            check_token(bad)


def test_host_header_must_be_local(nmt_locked: str) -> None:
    port = nmt_locked.rsplit(":", 1)[1]
    for host in ("attacker.example", f"attacker.example:{port}", "127.0.0.1.nip.example"):
        answer = httpx.get(nmt_locked + "/health", headers={"host": host})
        assert answer.status_code == 421 and "localhost" in answer.json()["detail"]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "[::1]:80", "127.1", "app.localhost"):
        assert httpx.get(nmt_locked + "/health", headers={"host": host}).status_code == 200
    assert host_is_local("LOCALHOST") and not host_is_local("")


def test_loopback_names() -> None:
    for host in ("127.0.0.1", "127.1", "127.0.0.2", "localhost", "::1"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "8.8.8.8", "no-such-host.invalid"):
        assert not is_loopback(host), host


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DRAGOMAN_SERVICE_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "serve", *args, "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **(env or {})},
    )


def test_non_loopback_bind_without_token_refuses_to_start() -> None:
    for service in ("nmt", "tts", "speaker"):
        done = _serve(service, "--host", "0.0.0.0")
        assert done.returncode == 2, done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("dragoman: error: Listening on 0.0.0.0 (not loopback) needs a")
        assert "--token" in line and "DRAGOMAN_SERVICE_TOKEN" in line
    blank = _serve("nmt", "--host", "0.0.0.0", env={"DRAGOMAN_SERVICE_TOKEN": " "})
    assert blank.returncode == 2 and "token is empty" in blank.stderr


def test_body_limit_counts_chunked_bytes(nmt_locked: str) -> None:
    """No Content-Length (chunked): the limit still holds on what arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(4 * 1024):
            yield b"a" * 1024
        yield b'", "source_lang": "en", "target_lang": "fr"}'

    started = time.monotonic()
    answer = httpx.post(
        nmt_locked + "/v1/translate",
        content=chunks(),
        headers={**AUTH, "content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 413, answer.text
    assert "larger than 1048576 bytes" in answer.json()["detail"]
    assert time.monotonic() - started < 20
    declared = httpx.post(
        nmt_locked + "/v1/translate",
        content=b"x" * (1024 * 1024 + 1),
        headers={**AUTH, "content-type": "application/json"},
    )
    assert declared.status_code == 413


def test_speaker_service_chunked_upload_is_refused_before_parsing() -> None:
    from engine.speakers.encoder import load_voice_encoder
    from engine.speakers.service import create_app

    app = create_app(load_voice_encoder(), max_request_bytes=2 * 1024 * 1024)
    with serve_app(app, "speaker service") as url:

        def floats() -> Iterator[bytes]:
            yield b'{"sample_rate": 16000, "audio": ['
            for _ in range(200):
                yield b"0.125," * 4096
            yield b"0.0]}"

        answer = httpx.post(
            url + "/extract_embedding",
            content=floats(),
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 413 and "larger than" in answer.json()["detail"]
        schema = httpx.get(url + "/openapi.json").json()
        declared = schema["paths"]["/extract_embedding"]["post"]["responses"]["422"]
        assert declared["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
        bad = httpx.post(url + "/extract_embedding", json={"audio": "x"})
        assert bad.status_code == 422 and isinstance(bad.json()["detail"], str)
        assert set(bad.json()) == {"detail"}  # the declared ErrorBody, nothing else


@pytest.mark.parametrize("text", ["a\ud800b", "zero\x00byte"])
def test_lone_surrogates_and_nul_are_4xx(nmt_locked: str, tts: str, text: str) -> None:
    import json

    body = json.dumps({"text": text, **PAIR})  # ensure_ascii: the surrogate travels as \ud800
    nmt = httpx.post(
        nmt_locked + "/v1/translate",
        content=body,
        headers={**AUTH, "content-type": "application/json"},
    )
    assert nmt.status_code == 422, nmt.text
    speech = httpx.post(
        tts + "/tts",
        content=json.dumps({"text": text}),
        headers={"content-type": "application/json"},
    )
    assert speech.status_code == 422, speech.text
    reason = "surrogate" if "\ud800" in text else "NUL"
    assert reason in nmt.json()["detail"] and reason in speech.json()["detail"]


def test_model_failure_is_500_not_422() -> None:
    class Broken:
        name = "broken"

        def translate(self, texts: list[str], source: str, target: str) -> list[object]:
            raise ModelError("the ONNX session died")

    with serve_app(nmt_app(translator=Broken())) as url:  # type: ignore[arg-type]
        answer = httpx.post(url + "/v1/translate", json={"text": "Hello.", **PAIR})
    assert answer.status_code == 500 and "ONNX session died" in answer.json()["detail"]

    class BrokenVoice:
        def synthesize(self, text: str, lang: str, voice: str | None = None) -> Iterator[object]:
            raise RuntimeError("onnxruntime exploded")
            yield

    with serve_app(tts_app(synthesizer=BrokenVoice())) as url:
        answer = httpx.post(url + "/tts", json={"text": "Hello."})
    assert answer.status_code == 500 and "RuntimeError" in answer.json()["detail"]


def test_voice_ids_cannot_reach_files(tts: str, tmp_path: Path, monkeypatch) -> None:
    """A voice planted in the working directory is never loaded, and no path leaks."""
    from engine.models import packaged

    joe = packaged.piper_joe_voice()
    assert joe is not None
    shutil.copy(joe, tmp_path / "x.onnx")
    shutil.copy(Path(str(joe) + ".json"), tmp_path / "x.onnx.json")
    monkeypatch.chdir(tmp_path)
    for voice in ("x.onnx", ".", "..", "~root", "~", "../x", "/etc/passwd", "a/b", "x.onnx#0"):
        answer = httpx.post(tts + "/tts", json={"text": "Hi.", "voice": voice})
        assert answer.status_code == 422, (voice, answer.text)
        assert "voice id" in answer.json()["detail"]
    unknown = httpx.post(tts + "/tts", json={"text": "Hi.", "voice": "x"})
    assert unknown.status_code == 400 and "unknown voice 'x'" in unknown.json()["detail"]
    assert str(tmp_path) not in unknown.text and str(Path.home()) not in unknown.text
    known = httpx.post(tts + "/tts", json={"text": "Hi.", "voice": "en_US-joe-medium"})
    assert known.status_code == 200 and known.headers["x-voice"] == "en_US-joe-medium"


def test_synthesize_endpoint_and_long_run_on_text(tts: str) -> None:
    import base64
    import io

    import soundfile as sf

    reference = io.BytesIO()
    sf.write(reference, np.zeros(1600, dtype=np.float32), 16_000, format="WAV")
    encoded = base64.b64encode(reference.getvalue()).decode()
    answer = httpx.post(
        tts + "/synthesize",
        json={"text": "Good morning.", "language": "en", "speaker_wav": encoded},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-voice"] == "en_US-joe-medium"
    assert answer.headers["x-voice-cloned"] == "false"
    audio, rate = sf.read(io.BytesIO(answer.content), dtype="float32")
    assert rate == 22_050 and 0.5 < len(audio) / rate < 3.0
    garbage = httpx.post(
        tts + "/synthesize", json={"text": "Hi.", "speaker_wav": base64.b64encode(b"no").decode()}
    )
    assert garbage.status_code == 422 and "speaker_wav" in garbage.json()["detail"]
    # 700 characters without a sentence end: spoken in pieces, not as one huge input
    words = "and then we talked about the budget " * 20
    long = httpx.post(tts + "/synthesize", json={"text": words}, timeout=120)
    assert long.status_code == 200
    audio, rate = sf.read(io.BytesIO(long.content), dtype="float32")
    assert 20.0 < len(audio) / rate < 90.0
    assert httpx.post(tts + "/tts", json={"text": "a" * 1001}).status_code == 413


def test_pieces_cut_long_sentences_at_words() -> None:
    text = "First sentence. " + "word " * 200 + "end."
    got = list(pieces(text, limit=100))
    assert got[0] == "First sentence."
    assert all(len(p) <= 100 for p in got) and len(got) >= 10
    assert " ".join(got[1:]).split() == ("word " * 200 + "end.").split()
    assert list(pieces("x" * 250, limit=100)) == ["x" * 100, "x" * 100, "x" * 50]


def test_bounded_concurrency_answers_503_when_full() -> None:
    from fastapi import HTTPException

    bounded = Bounded(workers=1, queue=1)
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with bounded:
            inside.set()
            release.wait(10)

    first = threading.Thread(target=hold)
    first.start()
    assert inside.wait(10)
    waiting = threading.Thread(target=hold)  # the one allowed to wait
    waiting.start()
    time.sleep(0.1)
    with pytest.raises(HTTPException) as refused:
        bounded.__enter__()
    assert refused.value.status_code == 503
    release.set()
    first.join(10)
    waiting.join(10)
    with bounded:  # free again
        pass


def test_docs_work_offline(tts: str) -> None:
    page = httpx.get(tts + "/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "/docs/assets/swagger-ui-bundle.js" in page.text
    script = httpx.get(tts + "/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert httpx.get(tts + "/docs/assets/swagger-ui.css").status_code == 200


def test_openapi_documents(nmt_locked: str, tts: str) -> None:
    speech = httpx.get(tts + "/openapi.json")
    assert speech.status_code == 200  # was a 500 (unresolvable Response annotation)
    paths = speech.json()["paths"]
    assert {"/tts", "/synthesize", "/v1/audio/speech", "/health"} <= paths.keys()
    schema = httpx.get(nmt_locked + "/openapi.json").json()
    request = schema["components"]["schemas"]["TranslateRequest"]
    assert request["oneOf"] == [{"required": ["text"]}, {"required": ["texts"]}]
    assert request["properties"]["text"] == {
        "type": "string",
        "title": "Text",
        "description": "one sentence (instead of texts)",
    }
    assert "/translate" in schema["paths"]
    assert "LibreTranslateRequest" in schema["components"]["schemas"]


def test_non_loopback_bind_with_a_token_serves_and_checks_it() -> None:
    """`serve speaker --host 0.0.0.0 --token T` starts, says a token is required, refuses a
    request without it (401) and answers one with it."""
    import signal

    environment = {k: v for k, v in os.environ.items() if k != "DRAGOMAN_SERVICE_TOKEN"}
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", "speaker", "--host", "0.0.0.0"]
        + ["--port", "0", "--log-level", "warning"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environment, "DRAGOMAN_SERVICE_TOKEN": TOKEN},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "bearer token required" in line, line
        port = line.split("http://0.0.0.0:", 1)[1].split(" ", 1)[0]
        url = f"http://127.0.0.1:{port}/extract_embedding"
        body = {"audio": [0.0] * 1600, "sample_rate": 16_000}
        assert httpx.post(url, json=body, timeout=30).status_code == 401
        other_host = httpx.post(
            url, json=body, headers={**AUTH, "host": "dragoman.example:80"}, timeout=30
        )
        assert other_host.status_code == 422  # any Host name: the token guards this bind
        assert "no voice" in other_host.json()["detail"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in err
