"""Subtitle files grow by appending and stay valid and identical to a full rendering."""

import pysubs2
import pytest

from engine.subtitles import Cue, SubtitleFile, render_cues


@pytest.mark.parametrize("ext", ["srt", "vtt"])
def test_appended_file_equals_the_full_rendering_after_every_line(tmp_path, ext):
    path = tmp_path / f"out.{ext}"
    sub = SubtitleFile(path)
    assert path.read_text() == render_cues([], ext)  # valid before any line
    cues = [Cue(i * 2.0, i * 2 + 1.25, f"line {i}", "S2" if i % 2 else None) for i in range(12)]
    for n, cue in enumerate(cues, 1):
        sub.add(cue)
        assert path.read_text() == render_cues(cues[:n], ext)
    loaded = pysubs2.load(str(path))
    assert [e.text for e in loaded] == [
        f"S2: line {i}" if i % 2 else f"line {i}" for i in range(12)
    ]
