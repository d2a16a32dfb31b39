"""Bad input on the command line: one clear line on stderr, no traceback, and no output file
written. Exit code 2 for what the user typed (options, input files, output paths), 1 for what
failed while working (a model, a device)."""

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
        "missing file": ([str(tmp_path / "nope.wav")], "not found", 2),
        "non-audio file": ([str(not_audio)], "Cannot read", 2),
        "empty file": ([str(empty)], "empty", 2),
        "file without samples": ([str(no_samples)], "empty", 2),
        "truncated file": ([str(truncated)], "truncated", 2),
        "unknown language": ([good, "--source", "xx"], "Unknown source language code 'xx'", 2),
        "missing model dir": ([good, "--model", str(tmp_path / "no" / "model")], "not found", 1),
        "unreadable model dir": ([good, "--model", str(not_a_model)], "model.bin missing", 1),
        "no such input device": (["mic:no-such-microphone-xyz"], "device", 1),
        "bad subtitle format": ([good, "--subtitles", str(out / "x.doc")], "format", 2),
        "beam size 0": ([good, "--beam-size", "0"], "--beam-size must be at least 1", 2),
        "threads 0": ([good, "--threads", "0"], "--threads must be at least 1", 2),
        "translated subtitles without a target": (
            [good, "--translated-subtitles", str(out / "tr.srt")],
            "--translated-subtitles needs --target",
            2,
        ),
    }


@pytest.fixture()
def bad_outputs(tmp_path, speech_dir):
    """Output paths that cannot be written: each is refused before the run starts."""
    missing = tmp_path / "missing-folder"
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x")
    read_only = "/proc"  # not writable, not even by root
    return {
        "jsonl on a full device": (["--jsonl", "/dev/full"], "No space left on device"),
        "subtitles in a missing folder": (
            ["--subtitles", str(missing / "x.srt")],
            f"the folder {missing} does not exist",
        ),
        "subtitles in an unwritable folder": (
            ["--subtitles", f"{read_only}/x.srt"],
            "cannot be written",
        ),
        "translated subtitles in a missing folder": (
            ["--target", "fr", "--translated-subtitles", str(missing / "t.srt")],
            "does not exist",
        ),
        "jsonl in a missing folder": (["--jsonl", str(missing / "x.jsonl")], "does not exist"),
        "jsonl is a folder": (["--jsonl", str(tmp_path)], "is a folder"),
        "subtitles under a file": (["--subtitles", str(a_file / "x.srt")], "is not a folder"),
        "speech not a wav": (["--speech", str(tmp_path / "out.txt")], "name the file .wav"),
        "speech in an unwritable folder": (["--speech", f"{read_only}/x.wav"], "cannot be written"),
        "output dir missing": (["--output-dir", str(missing)], "does not exist"),
        "one file twice": (
            ["--subtitles", str(tmp_path / "same.srt"), "--jsonl", str(tmp_path / "same.srt")],
            "both name",
        ),
        "output is the input": (
            ["--jsonl", str(speech_dir / "goforward.wav")],
            "is the input file",
        ),
    }


def _one_error_line(proc, name):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, (name, proc.stderr)
    assert lines[0].startswith("dragoman: error: "), (name, lines)
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_bad_inputs_exit_with_one_line(bad_inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name, (args, expected, status) in bad_inputs.items():
        extra = [] if "--subtitles" in args else ["--subtitles", str(out / f"{name}.srt")]
        proc = run_cli("run", *args, *extra, "--jsonl", out / f"{name}.jsonl", "--speakers", "off")
        assert proc.returncode == status, (name, proc.returncode, proc.stderr)
        assert expected.lower() in _one_error_line(proc, name).lower(), (name, proc.stderr)
        assert list(out.iterdir()) == [], name  # nothing written


def test_bad_output_paths_are_refused_before_the_run(bad_outputs, tmp_path, speech_dir, capsys):
    """Checked before the input is opened or a model loads, so this runs in-process."""
    from engine.cli import main

    before = set(tmp_path.rglob("*"))
    for name, (args, expected) in bad_outputs.items():
        status = main(["run", str(speech_dir / "goforward.wav"), *args, "--speakers", "off"])
        err = capsys.readouterr().err
        assert status == 2, (name, err)
        assert err.count("\n") == 1 and err.startswith("dragoman: error: "), (name, err)
        assert expected in err, (name, err)
        assert set(tmp_path.rglob("*")) == before, name  # nothing created


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
