"""Session transcript model: replace-in-place, renames, autosave and exports (no models)."""

from __future__ import annotations

import json
from pathlib import Path

import pysubs2
import pytest

from engine.errors import ConfigError
from engine.events import (
    Final,
    FinalRevised,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    StageTimes,
    Translation,
)
from engine.session import Session, SessionLine

T = StageTimes()


def partial(
    sid: int,
    committed: str,
    tentative: str = "",
    speaker: str | None = None,
    start: float = 0.0,
    end: float = 1.0,
) -> Partial:
    return Partial(sid, start, end, committed, tentative, "en", T, speaker)


def final(
    sid: int, text: str, speaker: str | None = "S1", start: float = 0.0, end: float = 1.0
) -> Final:
    return Final(sid, start, end, text, "en", T, speaker=speaker)


def translation(sid: int, text: str, source: str = "", speaker: str | None = "S1") -> Translation:
    return Translation(sid, 0.0, 1.0, source, "en", text, "pt", speaker, "test", {}, T)


def test_partial_is_replaced_in_place_then_finalised() -> None:
    s = Session()
    s.apply(partial(1, "go", "forward"))
    s.apply(partial(1, "go forward", "ten"))
    assert len(s) == 1
    assert s.line(1) == SessionLine(1, 0.0, 1.0, "go forward ten", None, "en", False)
    s.apply(final(1, "go forward ten meters", start=0.2, end=2.5))
    line = s.line(1)
    assert line is not None and line.final and line.text == "go forward ten meters"
    assert (line.start, line.end, line.speaker) == (0.2, 2.5, "S1")
    # a late partial never overwrites final text
    assert s.apply(partial(1, "garbage")) is None
    assert s.line(1).text == "go forward ten meters"  # type: ignore[union-attr]


def test_discarded_segment_withdraws_its_partial_but_never_a_final() -> None:
    s = Session()
    s.apply(partial(1, "", "hmm"))
    s.apply(final(2, "go forward", start=2.0, end=3.0))
    assert len(s) == 2
    assert s.apply(SegmentDiscarded(1, "blocklisted")) is None
    assert s.line(1) is None and len(s) == 1
    s.apply(SegmentDiscarded(2, "late"))  # a final line stays
    assert s.line(2) is not None and s.line(2).final  # type: ignore[union-attr]


def test_translation_attaches_to_its_line_and_survives_order() -> None:
    s = Session()
    s.apply(final(1, "hello", start=0.0, end=1.0))
    s.apply(final(2, "world", speaker="S2", start=1.5, end=2.0))
    s.apply(translation(2, "mundo", "world", "S2"))
    s.apply(translation(1, "olá", "hello"))
    assert [(ln.text, ln.translation) for ln in s.lines()] == [("hello", "olá"), ("world", "mundo")]
    assert s.speakers() == ["S1", "S2"]


def test_rename_speaker_past_and_future_lines_and_back() -> None:
    s = Session()
    s.apply(final(1, "a", "S1"))
    s.apply(final(2, "b", "S2", start=1, end=2))
    assert s.rename_speaker("S1", "Alice") == 1
    s.apply(final(3, "c", "S1", start=2, end=3))  # engine still says S1
    assert [ln.speaker for ln in s.lines()] == ["Alice", "S2", "Alice"]
    assert s.rename_speaker("Alice", "Bob") == 2
    assert s.display_name("S1") == "Bob"
    s.rename_speaker("Bob", "S1")  # back to the engine label: no alias loop
    assert s.display_name("S1") == "S1"
    assert [ln.speaker for ln in s.lines()] == ["S1", "S2", "S1"]
    # the engine confirming a rename is idempotent
    s.rename_speaker("S2", "Carol")
    s.apply(SpeakerChanged("S2", "Carol"))
    assert [ln.speaker for ln in s.lines()] == ["S1", "Carol", "S1"]
    with pytest.raises(ConfigError):
        s.rename_speaker("S1", "  ")


def test_rename_of_unlabelled_speaker() -> None:
    s = Session()
    s.apply(final(1, "a", None))
    s.rename_speaker(None, "Host")
    s.apply(partial(2, "b", start=2, end=3))
    assert [ln.speaker for ln in s.lines()] == ["Host", "Host"]


def test_autosave_is_valid_json_after_every_final_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    s = Session(path, source="clip.wav", partial_save_interval_s=3600)
    s.apply(final(1, "go forward"))
    saved = json.loads(path.read_text())
    assert saved["lines"][0]["text"] == "go forward" and saved["source"] == "clip.wav"
    s.apply(partial(2, "ten", start=2, end=3))  # throttled: saved on the next final
    s.apply(translation(1, "avance"))
    s.rename_speaker("S1", "Alice")
    loaded = Session.load(path)
    assert loaded.lines() == s.lines()
    assert loaded.display_name("S1") == "Alice"
    assert not list(tmp_path.glob(".s.json.*"))  # no temp files left behind


def test_exports(tmp_path: Path) -> None:
    s = Session()
    s.apply(final(1, "go forward ten meters", "S1", 0.5, 2.75))
    s.apply(translation(1, "avance dez metros"))
    s.apply(final(2, "seven of clubs", "S2", 3.0, 4.25))
    s.rename_speaker("S2", "Bob")
    srt = pysubs2.load(str(s.export(tmp_path / "a.srt")))
    assert [(e.start, e.end) for e in srt] == [(500, 2750), (3000, 4250)]
    assert srt[0].plaintext == "S1: go forward ten meters\navance dez metros"
    assert srt[1].plaintext == "Bob: seven of clubs"
    vtt = s.export(tmp_path / "a.vtt", content="translation").read_text()
    assert vtt.startswith("WEBVTT") and "00:00:00.500 --> 00:00:02.750" in vtt
    assert "S1: avance dez metros" in vtt and "go forward" not in vtt
    assert "Bob: seven of clubs" in vtt  # untranslated line keeps its original
    txt = s.export(tmp_path / "a.txt", content="original").read_text().splitlines()
    assert txt == [
        "[00:00:00.500 - 00:00:02.750] S1: go forward ten meters",
        "[00:00:03.000 - 00:00:04.250] Bob: seven of clubs",
    ]
    data = json.loads(s.export(tmp_path / "a.json").read_text())
    assert [ln["speaker"] for ln in data["lines"]] == ["S1", "Bob"]
    assert data["lines"][0]["translation"] == "avance dez metros"
    with pytest.raises(ConfigError):
        s.export(tmp_path / "a.doc")


def test_whisper_translation_is_not_written_twice(tmp_path: Path) -> None:
    """With Whisper's own translation the final already is the English text and its
    Translation repeats it: an export of both shows it once."""
    s = Session()
    s.apply(final(1, "Go forward ten meters.", "S1", 0.5, 2.75))
    s.apply(translation(1, "Go forward ten meters.", source="Go forward ten meters."))
    srt = pysubs2.load(str(s.export(tmp_path / "a.srt")))
    assert [e.plaintext for e in srt] == ["S1: Go forward ten meters."]
    vtt = s.export(tmp_path / "a.vtt", content="translation").read_text()
    assert vtt.count("Go forward ten meters.") == 1


def test_export_without_speakers_has_no_labels(tmp_path: Path) -> None:
    s = Session()
    s.apply(final(1, "hello", None))
    assert s.export(tmp_path / "a.srt").read_text().splitlines()[2] == "hello"


def test_second_run_continues_after_the_first() -> None:
    s = Session()
    s.begin_run()
    s.apply(final(0, "first run", start=0.0, end=2.0))
    s.begin_run()  # the engine restarts ids and times at zero
    s.apply(partial(0, "second", start=0.5, end=1.0))
    s.apply(final(0, "second run", start=0.5, end=1.5))
    s.apply(translation(0, "segunda"))
    assert [(ln.segment_id, ln.start, ln.text, ln.translation) for ln in s.lines()] == [
        (0, 0.0, "first run", None),
        (1, 3.5, "second run", "segunda"),
    ]


def test_background_autosave_writes_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "bg.json"
    s = Session(path)
    s.use_background_writer()
    for i in range(50):
        s.apply(final(i, f"line {i}", start=float(i), end=i + 0.5))
    assert s.flush()
    assert len(json.loads(path.read_text())["lines"]) == 50
    s.rename_speaker("S1", "Ann")
    s.close()
    assert {ln["speaker"] for ln in json.loads(path.read_text())["lines"]} == {"Ann"}
    assert not list(tmp_path.glob(".bg.json.*"))


def test_a_revision_replaces_the_text_keeps_the_speaker_and_reaches_exports(tmp_path: Path) -> None:
    s = Session()
    s.apply(final(1, "Pray again.", speaker="S2"))
    s.apply(translation(1, "Reze de novo."))
    revised = FinalRevised(1, 0.0, 1.0, "Try again.", "Pray again.", "en", T, "S2", 1)
    line = s.apply(revised)
    assert line is not None and (line.text, line.speaker, line.final) == ("Try again.", "S2", True)
    assert line.translation == "Reze de novo."  # until the new translation arrives
    s.apply(translation(1, "Tente de novo."))
    out = s.export(tmp_path / "o.srt", content="original")
    assert [e.text for e in pysubs2.load(str(out))] == ["S2: Try again."]
    assert s.apply(FinalRevised(7, 0.0, 1.0, "x", "y", "en", T)) is None  # no such line


def test_one_unknown_line_gets_its_speaker_and_no_other() -> None:
    s = Session()
    s.apply(final(1, "We start.", "S1"))
    s.apply(final(2, "Yes.", None, start=1, end=2))
    s.apply(final(3, "Fine.", None, start=2, end=3))
    line = s.set_line_speaker(2, " Anna ")
    assert line is not None and line.speaker == "Anna"
    assert [ln.speaker for ln in s.lines()] == ["S1", "Anna", None]
    assert s.set_line_speaker(99, "Anna") is None
    with pytest.raises(ConfigError):
        s.set_line_speaker(3, " ")


def test_speaker_labels_include_the_renamed_engine_labels() -> None:
    s = Session()
    s.apply(final(1, "a", "S1"))
    s.apply(final(2, "b", "S2", start=1, end=2))
    s.apply(final(3, "c", None, start=2, end=3))
    s.rename_speaker("S1", "Alice")
    assert s.speaker_labels() == ("Alice", "S1", "S2")
