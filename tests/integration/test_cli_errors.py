"""Bad input on the command line: one clear line on stderr, exit code 2, no traceback, and no
output file written."""

import numpy as np
import pytest
import soundfile as sf

from tests.cli_env import run_cli


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
    out = tmp_path / "out"
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
        "bad subtitle format": ([good, "--subtitles", str(out / "x.doc")], "format"),
        "beam size 0": ([good, "--beam-size", "0"], "--beam-size must be at least 1"),
        "threads 0": ([good, "--threads", "0"], "--threads must be at least 1"),
        "translated subtitles without a target": (
            [good, "--translated-subtitles", str(out / "tr.srt")],
            "--translated-subtitles needs --target",
        ),
    }


def test_bad_inputs_exit_2_with_one_line(bad_inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name, (args, expected) in bad_inputs.items():
        extra = [] if "--subtitles" in args else ["--subtitles", str(out / f"{name}.srt")]
        proc = run_cli("run", *args, *extra, "--jsonl", out / f"{name}.jsonl", "--speakers", "off")
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2, (name, proc.returncode, proc.stderr)
        assert len(lines) == 1, (name, proc.stderr)
        assert lines[0].startswith("dragoman: error: "), (name, lines)
        assert expected.lower() in lines[0].lower(), (name, lines[0])
        assert "Traceback" not in proc.stderr
        assert list(out.iterdir()) == [], name  # nothing written


def test_app_without_a_display_says_so():
    proc = run_cli(launcher=True, drop_env=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "no display" in proc.stderr and "dragoman run" in proc.stderr


def test_engine_command_line_needs_a_command():
    proc = run_cli()
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "dragoman: error: the following arguments are required: COMMAND"
    )
