"""Bad input on the command line: one clear line on stderr, exit code 2, no traceback, and no
output file written."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture()
def bad_inputs(tmp_path, speech_dir):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not audio\n" * 20)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    no_samples = tmp_path / "nosamples.wav"
    sf.write(no_samples, np.zeros(0, dtype=np.float32), 16000)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes((speech_dir / "forever.wav").read_bytes()[:30000])
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    good = str(speech_dir / "goforward.wav")
    return {
        "missing file": ([str(tmp_path / "nope.wav")], "not found"),
        "non-audio file": ([str(not_audio)], "Cannot read"),
        "empty file": ([str(empty)], "empty"),
        "file without samples": ([str(no_samples)], "empty"),
        "truncated file": ([str(truncated)], "truncated"),
        "unknown language": ([good, "--source", "xx"], "Unknown source language code 'xx'"),
        "missing model dir": ([good, "--model", str(tmp_path / "no" / "model")], "not found"),
        "unreadable model dir": ([good, "--model", str(not_a_model)], "model.bin missing"),
        "no such input device": (["mic:no-such-microphone-xyz"], "device"),
        "bad subtitle format": ([good, "--subtitles", str(tmp_path / "x.doc")], "format"),
    }


def test_bad_inputs_exit_2_with_one_line(bad_inputs, tmp_path):
    for name, (args, expected) in bad_inputs.items():
        srt = tmp_path / f"{name}.srt"
        jsonl = tmp_path / f"{name}.jsonl"
        extra = [] if "--subtitles" in args else ["--subtitles", str(srt)]
        proc = run_cli("run", *args, *extra, "--jsonl", str(jsonl))
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2, (name, proc.returncode, proc.stderr)
        assert len(lines) == 1, (name, proc.stderr)
        assert lines[0].startswith("dragoman: error: "), (name, lines)
        assert expected.lower() in lines[0].lower(), (name, lines[0])
        assert "Traceback" not in proc.stderr
        assert not srt.exists() and not jsonl.exists(), name


def test_app_without_a_display_says_so(tmp_path):
    import os

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli"], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "no display" in proc.stderr and "dragoman run" in proc.stderr
