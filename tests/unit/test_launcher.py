"""The `dragoman` command's one decision: desktop app or command line (dragoman.launcher)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dragoman import launcher


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ([], None),
        (["--tray"], None),
        (["-v", "--start"], None),
        (["--input", "run"], None),  # a file called "run" given to the app's --input
        (["--input", "mic", "talk.wav"], "talk.wav"),
        (["-v", "run", "x.wav"], "run"),
        (["devices"], "devices"),
        (["--", "run"], None),
    ],
)
def test_first_word_skips_options_and_their_values(args, word):
    assert launcher.first_word(args) == word


@pytest.fixture()
def handed_to(monkeypatch):
    """Record which side main() hands the arguments to, instead of starting it."""
    calls: list[tuple[str, list[str]]] = []
    import app.main
    import engine.cli

    monkeypatch.setattr(app.main, "main", lambda argv: calls.append(("app", list(argv))) or 0)
    monkeypatch.setattr(engine.cli, "main", lambda argv: calls.append(("cli", list(argv))) or 0)
    return calls


@pytest.mark.parametrize(
    ("args", "side"),
    [
        ([], "app"),
        (["--tray"], "app"),
        (["--input", "mic:USB", "--start"], "app"),
        (["run", "clip.wav", "--target", "fr"], "cli"),
        (["-v", "devices"], "cli"),
        (["models", "list"], "cli"),
        (["serve", "nmt"], "cli"),
        (["--version"], "cli"),
    ],
)
def test_main_hands_every_argument_to_one_side(handed_to, args, side):
    assert launcher.main(args) == 0
    assert handed_to == [(side, args)]


def test_an_audio_file_opens_in_the_app(handed_to, tmp_path):
    clip = tmp_path / "meeting.wav"
    clip.write_bytes(b"")
    assert launcher.main([str(clip)]) == 0
    assert handed_to == [("app", [str(clip)])]


def test_a_mistyped_command_is_one_line_and_status_2(handed_to, capsys):
    assert launcher.main(["rnu", "clip.wav"]) == 2
    assert handed_to == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "'rnu' is neither a command (run, devices" in err[0] and "nor an audio file" in err[0]


def test_help_lists_the_commands_and_the_app_options(handed_to, capsys):
    assert launcher.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert handed_to == []
    for word in ("run", "devices", "models", "speakers", "serve", "--tray", "AUDIO_FILE"):
        assert word in out


def test_the_command_line_never_loads_the_app_or_qt():
    """engine/ never imports app/: a headless run's parser and commands load neither."""
    code = (
        "import sys, engine.cli as c; c.make_parser(); c.command_names(); "
        "bad = sorted(m for m in sys.modules if m == 'app' or m.startswith(('app.', 'PySide6')));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
