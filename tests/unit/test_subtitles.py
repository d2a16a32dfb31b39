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


def test_word_cues_split_a_line_by_its_word_timings():
    from engine.events import Word
    from engine.subtitles import word_cues

    words = [
        Word("Go", 1.0, 1.3, 0.9),
        Word("forward", 1.3, 1.8, 0.9),
        Word("ten", 1.9, 2.1, 0.9),
        Word("meters.", 2.1, 2.6, 0.9),
        Word("Stop", 3.0, 3.4, 0.9),
        Word("there.", 3.4, 3.9, 0.9),
    ]
    cues = word_cues(0.8, 4.1, "Go forward ten meters. Stop there.", words, "S1", max_words=3)
    assert [c.text for c in cues] == ["Go forward ten", "meters.", "Stop there."]
    assert [(c.start, c.end) for c in cues] == [(0.8, 2.1), (2.1, 3.0), (3.0, 4.1)]
    assert all(c.speaker == "S1" for c in cues)
    # without timings (alignment off or failed): the line stays one cue
    assert word_cues(0.8, 4.1, "Go forward.", (), None, max_words=2) == [
        Cue(0.8, 4.1, "Go forward.", None)
    ]


def test_word_cues_join_cjk_characters_without_spaces():
    from engine.events import Word
    from engine.subtitles import word_cues

    words = [Word(c, 0.1 * i, 0.1 * (i + 1), 0.9) for i, c in enumerate("你好世界")]
    cues = word_cues(0.0, 0.5, "你好世界", words, max_words=2)
    assert [c.text for c in cues] == ["你好", "世界"]


@pytest.mark.parametrize("ext", ["srt", "vtt"])
def test_a_revised_line_is_replaced_in_place_and_the_file_equals_the_full_rendering(tmp_path, ext):
    path = tmp_path / f"out.{ext}"
    sub = SubtitleFile(path)
    cues = [Cue(i * 2.0, i * 2 + 1.5, f"line {i}") for i in range(4)]
    for i, cue in enumerate(cues):
        sub.add(cue, key=i)
    # line 1 revised into two word-timed cues, line 3 into one: each where the old one was
    sub.replace(1, [Cue(2.0, 2.7, "line one"), Cue(2.7, 3.5, "revised")])
    sub.replace(3, [Cue(6.0, 7.5, "line three")])
    expected = [cues[0], Cue(2.0, 2.7, "line one"), Cue(2.7, 3.5, "revised"), cues[2]]
    expected.append(Cue(6.0, 7.5, "line three"))
    assert path.read_text() == render_cues(expected, ext)
    sub.add(Cue(8.0, 9.0, "line 4"), key=4)  # appending goes on after a rewrite
    assert path.read_text() == render_cues([*expected, Cue(8.0, 9.0, "line 4")], ext)
    assert [e.text for e in pysubs2.load(str(path))][-3:] == ["line 2", "line three", "line 4"]
    assert not list(tmp_path.glob(".out.*"))  # no temp file left behind
    sub.replace(9, [Cue(10.0, 11.0, "never added")])  # an unknown key is appended
    assert pysubs2.load(str(path))[-1].text == "never added"
