"""`dragoman run` output files: whisper-ctranslate2 style --output-dir/--output-format, modes
from the user's umask for every file, and a symlinked output written through."""

from __future__ import annotations

import json
import os
import stat

from tests.cli_env import run_cli


def test_output_dir_formats_modes_and_symlinks(tmp_path, speech_dir):
    out = tmp_path / "out"
    out.mkdir()
    real = tmp_path / "kept" / "real.srt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.srt"
    link.symlink_to(real)
    jsonl = tmp_path / "events.jsonl"
    umask = os.umask(0o027)
    try:
        proc = run_cli(
            "run",
            speech_dir / "goforward.wav",
            "--source",
            "en",
            "--speakers",
            "off",
            "--output-dir",
            out,
            "--output-format",
            "all",
            "--subtitles",
            link,
            "--jsonl",
            jsonl,
        )
    finally:
        os.umask(umask)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["goforward.json", "goforward.srt", "goforward.txt", "goforward.vtt"]
    transcript = json.loads((out / "goforward.json").read_text())
    assert transcript["language"] == "en" and transcript["segments"]
    words = transcript["text"].lower()
    assert "forward" in words
    for fmt in ("srt", "vtt", "txt"):
        assert "forward" in (out / f"goforward.{fmt}").read_text().lower(), fmt
    assert (out / "goforward.vtt").read_text().startswith("WEBVTT")
    # The symlink stays a symlink; its target holds the subtitles.
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text() == (out / "goforward.srt").read_text()
    # Every file the run created follows the umask (0o666 & ~0o027); a rewritten file keeps its.
    for path in [*out.iterdir(), jsonl]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    assert stat.S_IMODE(real.stat().st_mode) == 0o644  # written before the umask changed
