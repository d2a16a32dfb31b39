"""`dragoman run` with stages on HTTP services: a live translation service is used, and a dead
one loses nothing — the subtitles are still written and the failure is said plainly."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from engine.cli import jsonl_finals
from tests.cli_env import run_cli, start_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "m2m100"


@pytest.fixture(scope="module")
def nmt_service():
    proc = start_cli("serve", "nmt", "--model", FIXTURE, "--port", "0", stderr_to_stdout=True)
    url = None
    for _ in range(200):
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found and "service on" in line:
            url = found.group(0)
            break
    if url is None:
        proc.kill()
        pytest.fail("translation service did not start")
    yield url
    proc.send_signal(signal.SIGINT)
    proc.wait(30)


def run(args, tmp_path):
    jsonl = tmp_path / "out.jsonl"
    srt = tmp_path / "out.srt"
    proc = run_cli("run", *args, "--jsonl", jsonl, "--subtitles", srt, "--speakers", "off")
    finals = jsonl_finals(jsonl.read_text().splitlines()) if jsonl.exists() else []
    return proc, finals, srt


def test_translation_through_the_live_service(nmt_service, tmp_path, speech_dir):
    proc, finals, _ = run(
        [
            str(speech_dir / "goforward.wav"),
            "--source",
            "en",
            "--target",
            "fr",
            "--nmt-url",
            nmt_service,
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert finals and all(r["translation"] and r["target_lang"] == "fr" for r in finals)
    assert "mean_token_logprob" in finals[0]["quality_metrics"]


def test_dead_translation_service_keeps_the_subtitles(tmp_path, speech_dir):
    proc, finals, srt = run(
        [
            str(speech_dir / "goforward.wav"),
            "--source",
            "en",
            "--target",
            "fr",
            "--nmt-url",
            "http://127.0.0.1:9",
        ],
        tmp_path,
    )
    # the subtitles are kept, and a run where no final got translated does not exit 0
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("dragoman: error: none of the ")
    assert "forward" in srt.read_text().lower()
    assert finals and finals[0]["translation"] is None
    assert "nmt" in proc.stderr and "127.0.0.1:9" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_dead_speech_service_speaks_locally_in_one_line(tmp_path, speech_dir):
    """--speech keeps every utterance (local Piper) and the switch is one line, no traceback."""
    import soundfile as sf

    wav = tmp_path / "speech.wav"
    proc, finals, srt = run(
        [
            str(speech_dir / "goforward.wav"),
            "--source",
            "en",
            "--speech",
            str(wav),
            "--tts-url",
            "http://127.0.0.1:9",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert finals and all(r["speech"] and not r["speech"]["skipped"] for r in finals)
    audio, rate = sf.read(wav, dtype="float32")
    assert len(audio) / rate > 2.0 and float(abs(audio).max()) > 0.05
    [line] = [x for x in proc.stderr.splitlines() if "speech service" in x]
    assert "127.0.0.1:9 is not reachable" in line and "local Piper" in line
    assert "Traceback" not in proc.stderr
