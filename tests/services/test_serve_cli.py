"""`dragoman serve {nmt,tts,speaker}` as real subprocesses: they print their address, answer
real requests (translation on the ONNX M2M100 fixture, Piper speech, a voice embedding of real
speech) and stop cleanly (exit 0) on SIGINT / SIGTERM; start-up errors are one line, status 2."""

from __future__ import annotations

import io
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from engine.cli import make_parser
from engine.config import TranslationOptions
from engine.errors import ConfigError
from engine.services.cli import DEFAULT_PORTS, bind
from engine.translate import create_translator
from tests.cli_env import run_cli, start_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "m2m100" / "m2m100"
SPEECH = (ROOT / ".." / "shared" / "data" / "speech").resolve()
START_TIMEOUT_S = 60.0


@dataclass
class Service:
    process: subprocess.Popen[str]
    url: str = ""
    lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def stop(self, sig: int) -> tuple[int, str]:
        """Send `sig`, wait for the exit; (status, stderr)."""
        self.process.send_signal(sig)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
            pytest.fail(f"service ignored {signal.Signals(sig).name}: {err}")
        return self.process.returncode, err


def _pump(stream: io.TextIOBase, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def serve(*args: str) -> Iterator[Service]:
    """Start `dragoman serve ARGS --port 0`, wait for its address line; kill it if left over."""
    process = start_cli("serve", *args, "--port", "0", cwd=ROOT)
    service = Service(process)
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(process.stdout, service.lines), daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not service.url:
            try:
                line = service.lines.get(timeout=0.2)
            except queue.Empty:
                if process.poll() is not None:
                    pytest.fail(f"`{' '.join(args)}` exited: {process.communicate()[1]}")
                assert time.monotonic() < deadline, f"`{' '.join(args)}` did not start"
                continue
            found = re.search(r"service on (http://127\.0\.0\.1:\d+) ", line)
            if found:
                service.url = found.group(1)
        yield service
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture
def nmt_service() -> Iterator[Service]:
    yield from serve("nmt", "--model", str(FIXTURE), "--log-level", "warning")


@pytest.fixture
def tts_service() -> Iterator[Service]:
    yield from serve("tts", "--log-level", "warning")


@pytest.fixture
def speaker_service() -> Iterator[Service]:
    yield from serve("speaker", "--log-level", "warning")


def test_parser_defaults() -> None:
    parser = make_parser()
    for service, port in (("nmt", 5008), ("tts", 5005), ("synthesize", 5004), ("speaker", 5003)):
        args = parser.parse_args(["serve", service])
        assert (args.host, args.port, args.service) == ("127.0.0.1", port, service)
        assert callable(args.func)
    assert DEFAULT_PORTS == {"nmt": 5008, "tts": 5005, "synthesize": 5004, "speaker": 5003}
    args = parser.parse_args(
        ["serve", "nmt", "--translator", "nllb", "--model", "x", "--port", "1"]
    )
    assert (args.translator, args.model, args.port) == ("nllb", "x", 1)
    args = parser.parse_args(["serve", "tts", "--voice", "en_US-joe-medium"])
    assert args.voice == "en_US-joe-medium"


def test_nmt_answers_then_stops_on_sigint(nmt_service: Service) -> None:
    reference = create_translator(TranslationOptions(backend="m2m100", model=str(FIXTURE)))
    health = httpx.get(nmt_service.url + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["model"] == "m2m100:m2m100"
    texts = ["Good morning, everyone.", "Let us begin."]
    response = httpx.post(
        nmt_service.url + "/v1/translate",
        json={"texts": texts, "source_lang": "en", "target_lang": "es"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    expected = [r.text for r in reference.translate(texts, "en", "es")]
    assert [t["text"] for t in response.json()["translations"]] == expected
    single = httpx.post(
        nmt_service.url + "/v1/translate",
        json={"text": texts[0], "source_lang": "en", "target_lang": "es"},
        timeout=30,
    ).json()
    assert single["text"] == reference.translate(texts[:1], "en", "es")[0].text
    status, err = nmt_service.stop(signal.SIGINT)
    assert status == 0, err
    assert "nmt service stopped (SIGINT)" in err and "Traceback" not in err


def test_tts_speaks_then_stops_on_sigterm(tts_service: Service) -> None:
    response = httpx.post(
        tts_service.url + "/tts",
        json={"text": "The meeting starts at nine.", "voice": None, "lang": "en"},
        timeout=30,
    )
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert rate == 22_050 and 0.8 < len(audio) / rate < 5.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.01  # speech, not silence
    status, err = tts_service.stop(signal.SIGTERM)
    assert status == 0, err
    assert "tts service stopped (SIGTERM)" in err and "Traceback" not in err


def test_speaker_embeds_real_speech_then_stops(speaker_service: Service) -> None:
    from engine.speakers.encoder import load_voice_encoder

    audio, rate = sf.read(SPEECH / "goforward.wav", dtype="float32")
    clip = audio[: int(1.5 * rate)]
    response = httpx.post(
        speaker_service.url + "/extract_embedding",
        json={"audio": clip.tolist(), "sample_rate": rate},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    embedding = np.asarray(response.json(), dtype=np.float32)
    assert embedding.shape == (256,)
    assert float(np.linalg.norm(embedding)) == pytest.approx(1.0, abs=1e-3)
    local = load_voice_encoder().embed(clip, rate)
    assert local is not None
    assert float(np.dot(embedding, local)) > 0.999  # same model, same audio
    silence = httpx.post(
        speaker_service.url + "/extract_embedding",
        json={"audio": [], "sample_rate": rate},
        timeout=10,
    )
    assert silence.status_code == 422
    status, err = speaker_service.stop(signal.SIGTERM)
    assert status == 0, err


def test_busy_port_and_missing_model_fail_in_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"Cannot listen on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)
        done = run_cli("serve", "nmt", "--port", port, cwd=ROOT, timeout=60)
    assert done.returncode == 2  # a usage error
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"dragoman: error: Cannot listen on 127.0.0.1:{port}: ")
    assert line.endswith("(another service already uses it? choose one with --port).")
    missing = run_cli("serve", "nmt", "--model", "/no/such/model", "--port", "0", cwd=ROOT)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr  # a model failure
    assert missing.stderr.startswith("dragoman: error:") and "/no/such/model" in missing.stderr
