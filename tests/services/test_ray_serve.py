"""`dragoman serve ray` as a real subprocess: a Ray instance with one replica per stage (the ONNX
M2M100 fixture, Piper, the Resemblyzer encoder) answers real requests through the Serve proxy
exactly as the single-process services do, and SIGTERM takes Ray down with no process left.

Ray is slow to start on two cores, so the whole module shares one instance (two CPUs, the
smallest object store, no dashboard). If Ray itself cannot start here, the tests skip with
Ray's own reason."""

from __future__ import annotations

import contextlib
import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from engine.cli import EXIT_FAILURE, jsonl_finals
from engine.config import TranslationOptions
from engine.errors import ConfigError
from engine.services.ray_serve import (
    ROUTE_PREFIXES,
    ReplicaSpec,
    build_stage_app,
    make_plans,
    parse_stage_values,
    without_route_prefix,
)
from engine.translate import create_translator
from tests.http_env import serve_app

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "m2m100" / "m2m100"
SPEECH = (ROOT / ".." / "shared" / "data" / "speech").resolve()
START_TIMEOUT_S = 240.0
TOKEN = "ray-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TEXTS = ["Good morning, everyone.", "Let us begin with the first item."]


# --- model-free parts ---------------------------------------------------------------------------


def test_stage_values_and_plans() -> None:
    assert parse_stage_values("nmt=2, tts=1,speaker=0", "--replicas", integer=True) == {
        "nmt": 2,
        "tts": 1,
        "speaker": 0,
    }
    plans = make_plans("nmt=2,speaker=0", "nmt=1.5,tts=0.5", "nmt=1")
    assert [(p.stage, p.replicas, p.cpus, p.gpus, p.threads) for p in plans] == [
        ("nmt", 2, 1.5, 1.0, 2),
        ("tts", 1, 0.5, 0.0, 1),
    ]
    for text, flag, message in [
        ("asr=1", "--replicas", "--replicas takes STAGE=N pairs"),
        ("nmt", "--replicas", "not 'nmt'"),
        ("nmt=two", "--replicas", "nmt='two' is not a whole number"),
        ("tts=-1", "--replicas", "tts must be 0 or more, not -1"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            parse_stage_values(text, flag, integer=True)
    with pytest.raises(ConfigError, match="leaves no stage to serve"):
        make_plans("nmt=0,tts=0,speaker=0", "", "")
    with pytest.raises(ConfigError, match="must reserve some CPU"):
        make_plans("", "tts=0", "")


def test_bad_settings_fail_in_one_line_before_ray_starts(tmp_path: Path) -> None:
    from engine.cli import make_parser
    from engine.services.ray_serve import RayServeOptions, options_from_args

    parser = make_parser()

    def options(*argv: str) -> RayServeOptions:
        return options_from_args(parser.parse_args(["serve", "ray", *argv]))

    for argv, message in [
        (["--host", "0.0.0.0"], "Listening on 0.0.0.0 (not loopback) needs a token"),
        (["--token", " "], "The service token is empty"),
        (["--address", "auto", "--num-cpus", "4"], "only apply without --address"),
        (["--object-store-mb", "10"], "at least 80"),
        (["--replicas", "nmt=x"], "nmt='x' is not a whole number"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            options(*argv)
    ok = options("--host", "0.0.0.0", "--token", "s3cret", "--replicas", "speaker=0")
    assert [p.stage for p in ok.plans] == ["nmt", "tts"] and ok.token == "s3cret"
    missing = subprocess.run(
        [sys.executable, "-m", "engine.cli", "serve", "ray", "--nmt-model", str(tmp_path / "no")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == EXIT_FAILURE and "Traceback" not in missing.stderr  # a ModelError
    [line] = missing.stderr.strip().splitlines()  # before any Ray start-up chatter
    assert line.startswith("dragoman: error:") and str(tmp_path / "no") in line


def test_route_prefix_is_invisible_to_the_service() -> None:
    """The replica's wrapper hands the app the scope the single-process service gets."""
    seen: list[tuple[str, str, bytes]] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        seen.append((scope["path"], scope["root_path"], scope["raw_path"]))

    import asyncio

    wrapped = without_route_prefix(app)
    for path, expected in [
        ("/tts/tts", "/tts"),
        ("/tts/synthesize", "/synthesize"),
        ("/tts", "/"),
        ("/ttsx/health", "/ttsx/health"),  # not below the prefix: left alone
    ]:
        scope = {"type": "http", "path": path, "raw_path": path.encode(), "root_path": "/tts"}
        asyncio.run(wrapped(scope, None, None))
        assert seen[-1] == (expected, "", expected.encode())


# --- a real Ray instance ------------------------------------------------------------------------


@dataclass
class RayService:
    process: subprocess.Popen[str]
    url: str = ""
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)


def _pump(stream: io.TextIOBase, sink: queue.Queue[str] | list[str]) -> None:
    for line in stream:
        if isinstance(sink, list):
            sink.append(line)
        else:
            sink.put(line)


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Ray's daemons, workers and replicas)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture(scope="module")
def ray_service() -> Iterator[RayService]:
    command = [
        sys.executable,
        "-m",
        "engine.cli",
        "serve",
        "ray",
        "--nmt-model",
        str(FIXTURE),
        "--replicas",
        "nmt=1,tts=1,speaker=1",
        "--cpus",
        "nmt=1,tts=0.5,speaker=0.5",
        "--port",
        "0",
        "--num-cpus",
        "2",
        "--object-store-mb",
        "80",
        "--token",
        TOKEN,
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )
    service = RayService(process)
    assert process.stdout is not None and process.stderr is not None
    threading.Thread(target=_pump, args=(process.stdout, service.lines), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, service.stderr), daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not service.url:
            try:
                line = service.lines.get(timeout=0.5)
            except queue.Empty:
                if process.poll() is not None:
                    time.sleep(0.2)  # let the stderr pump finish
                    errors = [x for x in service.stderr if x.startswith("dragoman: error:")]
                    if errors and "Ray cannot start" in errors[-1]:
                        pytest.skip(errors[-1].strip())
                    pytest.fail(
                        f"`serve ray` exited {process.returncode}: {''.join(service.stderr)}"
                    )
                assert time.monotonic() < deadline, "`serve ray` did not start in time"
                continue
            found = re.search(r"services on (http://127\.0\.0\.1:\d+):", line)
            if found:
                service.url = found.group(1)
        yield service
    finally:
        if process.poll() is None:  # a failed test left it running: take all of it down
            below = _descendants(process.pid)
            process.kill()
            process.wait()
            for pid in below:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def test_translation_through_the_proxy(ray_service: RayService) -> None:
    reference = create_translator(TranslationOptions(backend="m2m100", model=str(FIXTURE)))
    nmt = ray_service.url + ROUTE_PREFIXES["nmt"]
    health = httpx.get(nmt + "/health", timeout=10).json()  # open, as on the single service
    assert health["status"] == "ok" and health["model"] == "m2m100:m2m100"
    body = {"texts": TEXTS, "source_lang": "en", "target_lang": "es"}
    response = httpx.post(nmt + "/v1/translate", json=body, headers=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    expected = reference.translate(TEXTS, "en", "es")
    got = response.json()["translations"]
    assert [t["text"] for t in got] == [r.text for r in expected]
    assert all(r.text for r in expected)
    assert got[0]["quality_metrics"] == pytest.approx(expected[0].quality_metrics)
    # LibreTranslate's route, its key in the body (the rule matches the path below the prefix).
    libre = httpx.post(
        nmt + "/translate",
        json={"q": TEXTS[0], "source": "en", "target": "es", "api_key": TOKEN},
        timeout=30,
    )
    assert libre.status_code == 200, libre.text
    assert libre.json()["translatedText"] == expected[0].text
    # The service's own token rule, limits and error sentences, unchanged behind the proxy.
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        denied = httpx.post(nmt + "/v1/translate", json=body, headers=headers, timeout=10)
        assert denied.status_code == 401, denied.text
        assert "bearer token" in denied.json()["detail"]
    empty = httpx.post(
        nmt + "/v1/translate",
        json={"texts": [], "source_lang": "en", "target_lang": "es"},
        headers=AUTH,
        timeout=10,
    )
    assert empty.status_code == 422 and "'texts' is empty" in empty.json()["detail"]
    huge = httpx.post(
        nmt + "/v1/translate",
        content=b'{"text": "' + b"a" * (1024 * 1024 + 1) + b'"}',
        headers={"content-type": "application/json", **AUTH},
        timeout=30,
    )
    assert huge.status_code == 413 and "larger than 1048576 bytes" in huge.json()["detail"]
    rebound = httpx.get(nmt + "/health", headers={"Host": "evil.example"}, timeout=10)
    assert rebound.status_code == 421  # the Host check against DNS rebinding holds too
    # Outside the prefixes: the root app, under the same guard (token first, then 404).
    assert httpx.get(ray_service.url + "/v1/translate", timeout=10).status_code == 401
    outside = httpx.get(ray_service.url + "/v1/translate", headers=AUTH, timeout=10)
    assert outside.status_code == 404


def test_root_health_lists_every_stage(ray_service: RayService) -> None:
    response = httpx.get(ray_service.url + "/health", timeout=10)  # open, like a stage's
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "stages": {
            stage: {"url": prefix, "status": "RUNNING", "replicas": 1}
            for stage, prefix in ROUTE_PREFIXES.items()
        },
    }
    foreign = httpx.get(ray_service.url + "/health", headers={"Host": "evil.example"}, timeout=10)
    assert foreign.status_code == 421


def _speech(response: httpx.Response) -> float:
    """Seconds of real speech in a WAV answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert rate == 22_050
    assert float(np.sqrt(np.mean(audio**2))) > 0.01  # speech, not silence
    return len(audio) / rate


def test_speech_through_the_proxy(ray_service: RayService) -> None:
    tts = ray_service.url + ROUTE_PREFIXES["tts"]
    body = {"text": "The meeting starts at nine.", "voice": None, "lang": "en"}
    assert 0.8 < _speech(httpx.post(tts + "/tts", json=body, headers=AUTH, timeout=60)) < 5.0
    seed = httpx.post(
        tts + "/synthesize",
        json={"text": "The meeting starts at nine.", "language": "en"},
        headers=AUTH,
        timeout=60,
    )
    assert 0.8 < _speech(seed) < 5.0
    assert seed.headers["x-voice"]  # which voice spoke, as the single service says
    openai = httpx.post(
        tts + "/v1/audio/speech",
        json={"model": "tts-1", "input": "The meeting starts at nine.", "voice": "alloy"},
        headers=AUTH,
        timeout=60,
    )
    assert 0.8 < _speech(openai) < 5.0
    assert httpx.post(tts + "/tts", json=body, timeout=10).status_code == 401
    empty = httpx.post(tts + "/tts", json={"text": "  "}, headers=AUTH, timeout=10)
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]


def test_embedding_through_the_proxy(ray_service: RayService) -> None:
    from engine.speakers.encoder import load_voice_encoder

    audio, rate = sf.read(SPEECH / "goforward.wav", dtype="float32")
    clip = audio[: int(1.5 * rate)]
    url = ray_service.url + ROUTE_PREFIXES["speaker"] + "/extract_embedding"
    body = {"audio": clip.tolist(), "sample_rate": rate}
    response = httpx.post(url, json=body, headers=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    embedding = np.asarray(response.json(), dtype=np.float32)
    local = load_voice_encoder().embed(clip, rate)
    assert embedding.shape == (256,) and local is not None
    assert float(np.dot(embedding, local)) > 0.999  # same model, same audio
    assert httpx.post(url, json=body, timeout=30).status_code == 401


def test_replicas_keep_their_thread_budget(ray_service: RayService) -> None:
    replicas = {
        stage: [
            pid
            for pid in _descendants(ray_service.process.pid)
            if f"ServeReplica:dragoman-{stage}:" in _cmdline(pid)
        ]
        for stage in ROUTE_PREFIXES
    }
    for stage, pids in replicas.items():
        assert len(pids) == 1, (stage, pids)
        environ = Path(f"/proc/{pids[0]}/environ").read_bytes().split(b"\0")
        assert b"OMP_NUM_THREADS=1" in environ, stage


def _run_pipeline(out: Path, nmt: str, tts: str, speaker: str) -> tuple[str, list[dict], str]:
    """`dragoman run` on real speech with all three remote stages; (srt, finals, stderr)."""
    out.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "run",
            str(SPEECH / "chan3.wav"),
            "--source",
            "en",
            "--target",
            "de",
            "--voice",
            "piper-en_US-joe-medium",  # the only voice here; the fixture 'translates' anyway
            "--nmt-url",
            nmt,
            "--tts-url",
            tts,
            "--speaker-url",
            speaker,
            "--remote-token",
            TOKEN,
            "--subtitles",
            str(out / "en.srt"),
            "--translated-subtitles",
            str(out / "de.srt"),
            "--jsonl",
            str(out / "events.jsonl"),
            "--speech",
            str(out / "speech.wav"),
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    finals = jsonl_finals((out / "events.jsonl").read_text().splitlines())
    srt = (out / "en.srt").read_text() + (out / "de.srt").read_text()
    return srt, finals, done.stderr


def test_desktop_run_through_the_proxy_matches_single_process_services(
    ray_service: RayService, tmp_path: Path
) -> None:
    """The client side is unchanged: the same subtitles, speakers and translations whether the
    stages are the single-process services or Ray Serve replicas behind the proxy."""
    from engine.services.nmt import create_app as nmt_app
    from engine.services.web import ServiceGuard
    from engine.speakers.service import create_app as speaker_app
    from engine.tts.service import create_app as tts_app

    options = TranslationOptions(backend="m2m100", model=str(FIXTURE))
    guard = ServiceGuard(token=TOKEN, max_request_bytes=32 * 1024 * 1024)
    with (
        serve_app(nmt_app(options, FIXTURE, guard=guard), "nmt") as nmt,
        serve_app(tts_app(guard=guard), "tts") as tts,
        serve_app(speaker_app(guard=guard), "speaker") as speaker,
    ):
        single = _run_pipeline(tmp_path / "single", nmt, tts, speaker)
    proxy = ray_service.url
    ray = _run_pipeline(
        tmp_path / "ray",
        proxy + ROUTE_PREFIXES["nmt"],
        proxy + ROUTE_PREFIXES["tts"],
        proxy + ROUTE_PREFIXES["speaker"],
    )
    for srt, finals, stderr in (single, ray):
        assert "S1: " in srt  # speaker labels from the remote embeddings
        assert "using local" not in stderr and "Traceback" not in stderr, stderr  # no fallback
        assert len(finals) >= 3 and all(f["translation"] and f["speech"] for f in finals)
    assert ray[0] == single[0]  # subtitles and translated subtitles, byte for byte
    keys = ("start", "end", "text", "speaker", "translation", "target_lang")
    assert [[f[k] for k in keys] for f in ray[1]] == [[f[k] for k in keys] for f in single[1]]
    for got, expected in zip(ray[1], single[1], strict=True):
        assert got["quality_metrics"] == pytest.approx(expected["quality_metrics"])
        assert got["speech"]["voice"] == expected["speech"]["voice"]
        assert "joe-medium" in got["speech"]["voice"]
        # Piper's noise makes each synthesis a little different, never a different length class.
        assert got["speech"]["duration"] == pytest.approx(expected["speech"]["duration"], rel=0.3)


def test_sigterm_stops_ray_with_nothing_left(ray_service: RayService) -> None:
    """Last in the module: stops the shared instance."""
    process = ray_service.process
    below = _descendants(process.pid)
    assert any("raylet" in _cmdline(pid) for pid in below)
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("`serve ray` ignored SIGTERM")
    time.sleep(0.5)
    err = "".join(ray_service.stderr)
    assert status == 0, err
    assert "dragoman ray services stopped (SIGTERM)" in err and "Traceback" not in err
    deadline = time.monotonic() + 20
    while (left := [pid for pid in below if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, [_cmdline(pid) for pid in left]


# --- the same app in-process, without Ray -------------------------------------------------------


def test_replica_app_serves_the_single_process_routes() -> None:
    """build_stage_app is what each replica runs: the service's own app, model loaded."""
    app = build_stage_app(ReplicaSpec("nmt", threads=1, nmt_model=str(FIXTURE)))
    with serve_app(app, "replica app") as url:
        response = httpx.post(
            url + "/v1/translate",
            json={"text": TEXTS[0], "source_lang": "en", "target_lang": "de"},
            timeout=30,
        )
    assert response.status_code == 200
    reference = create_translator(TranslationOptions(backend="m2m100", model=str(FIXTURE)))
    assert response.json()["text"] == reference.translate(TEXTS[:1], "en", "de")[0].text


def test_cluster_extra_is_installed_with_the_tests() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert "ray[serve]==2.60.0" in extras["cluster"]  # pinned: Serve's API moves between minors
    assert set(extras["serve"]) <= set(extras["cluster"])  # the apps it serves need them
    assert set(extras["cluster"]) <= set(extras["test"])  # CI runs the Ray test
