"""`engine.cli.CliSink`: engine events to terminal lines, subtitle files and the JSONL log."""

from __future__ import annotations

import json
from pathlib import Path

import pysubs2

from engine.cli import CliSink, jsonl_finals
from engine.events import (
    Final,
    FinalRevised,
    Finished,
    SpeechOutput,
    Stage,
    StageFailure,
    StageTimes,
    Translation,
)


def _final(seg: int, text: str) -> Final:
    return Final(seg, float(seg), seg + 0.5, text, "fr", StageTimes(emitted_at=1.0))


def _translation(seg: int, text: str) -> Translation:
    return Translation(
        segment_id=seg,
        start=float(seg),
        end=seg + 0.5,
        source_text="x",
        source_lang="fr",
        text=text,
        target_lang="en",
        speaker=None,
        model="m",
        quality_metrics={},
        times=StageTimes(emitted_at=1.0),
    )


def test_jsonl_finals_stay_in_segment_order_when_a_translation_fails(tmp_path, capsys):
    """A final whose translation failed (e.g. an auto-detected language M2M100 lacks) is written
    before every later final, not held until Finished."""
    path = tmp_path / "log.jsonl"
    sink = CliSink(subtitles=None, translated_subtitles=None, jsonl=path, translating=True)
    sink(_final(1, "bore da"))
    sink(StageFailure("Cannot translate from 'cy'", Stage.NMT))
    sink(_final(2, "bonjour"))
    sink(_translation(2, "hello"))
    sink(Finished(2.0))
    sink.close()
    finals = jsonl_finals(path.read_text().splitlines())
    assert [f["segment_id"] for f in finals] == [1, 2]
    assert [f["translation"] for f in finals] == [None, "hello"]
    assert "Cannot translate from 'cy'" in capsys.readouterr().err


def test_every_final_is_on_disk_the_moment_it_is_final(tmp_path):
    """While translation fails or stalls nothing is held back: a run killed now (no Finished,
    no close) has every final it showed in the log; translations follow as their own records."""
    path = tmp_path / "log.jsonl"
    sink = CliSink(
        subtitles=None, translated_subtitles=None, jsonl=path, translating=True, speaking=True
    )
    for seg in range(1, 5):
        sink(_final(seg, f"phrase {seg}"))
        sink(StageFailure("The translation service did not answer within 5 s.", Stage.NMT))
        records = [json.loads(x) for x in path.read_text().splitlines()]
        assert [r["segment_id"] for r in records if r["type"] == "final"] == list(range(1, seg + 1))
    sink(_translation(4, "sentence 4"))
    sink(SpeechOutput(4, "sentence 4", "en", "joe", 1.5, StageTimes(emitted_at=2.0)))
    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["type"] for r in records[-2:]] == ["translation", "speech"]
    assert records[-2]["segment_id"] == records[-1]["segment_id"] == 4
    [*_, last] = jsonl_finals(path.read_text().splitlines())
    assert last["translation"] == "sentence 4" and last["target_lang"] == "en"
    assert last["speech"]["voice"] == "joe" and last["speech"]["duration"] == 1.5


def test_subtitle_files_exist_after_a_run_without_cues(tmp_path):
    """A run with no final (silence, music) leaves empty, valid subtitle files."""
    srt, vtt = tmp_path / "a.srt", tmp_path / "b.vtt"
    sink = CliSink(subtitles=srt, translated_subtitles=vtt, jsonl=None, translating=True)
    sink(Finished(1.0))
    sink.close()
    assert srt.read_text() == ""
    assert vtt.read_text().startswith("WEBVTT")


def test_a_failed_write_is_reported_once_and_stops_the_run(tmp_path):
    stops = []
    sink = CliSink(
        subtitles=None,
        translated_subtitles=None,
        jsonl=Path("/dev/full"),  # every write: "No space left on device"
        translating=False,
        quiet=True,
        on_write_error=lambda: stops.append(True),
    )
    sink(_final(1, "hello"))
    sink(_final(2, "again"))  # ignored: the run is stopping
    assert sink.write_error == "cannot write /dev/full: No space left on device"
    assert stops == [True]


def test_json_transcript_and_several_subtitle_files(tmp_path):
    srt, txt, doc = tmp_path / "a.srt", tmp_path / "a.txt", tmp_path / "a.json"
    sink = CliSink(
        subtitles=[srt, txt],
        translated_subtitles=None,
        jsonl=None,
        translating=True,
        quiet=True,
        transcript_json=doc,
    )
    sink(_final(1, "bonjour"))
    sink(_translation(1, "hello"))
    sink(_final(2, "merci"))
    sink(Finished(3.0))
    sink.close()
    assert "bonjour" in srt.read_text() and "merci" in txt.read_text()
    data = json.loads(doc.read_text())
    assert data["text"] == "bonjour merci" and data["language"] == "fr"
    assert [s["id"] for s in data["segments"]] == [1, 2]
    assert data["segments"][0]["translation"] == "hello"
    assert "translation" not in data["segments"][1]


def _revised(seg: int, text: str, previous: str) -> FinalRevised:
    return FinalRevised(
        seg, float(seg), seg + 0.5, text, previous, "fr", StageTimes(emitted_at=2.0), revision=1
    )


def test_a_revision_rewrites_the_subtitles_and_is_folded_into_its_jsonl_final(tmp_path, capsys):
    srt, vtt, tr, log = (tmp_path / n for n in ("o.srt", "o.vtt", "t.srt", "log.jsonl"))
    doc = tmp_path / "t.json"
    sink = CliSink(
        subtitles=[srt, vtt], translated_subtitles=tr, jsonl=log, translating=True,
        transcript_json=doc,
    )  # fmt: skip
    for seg, text in ((1, "bore da"), (2, "pray again")):
        sink(_final(seg, text))
        sink(_translation(seg, text.upper()))
    sink(_revised(2, "try again", "pray again"))
    sink(_translation(2, "TRY AGAIN"))
    assert [e.text for e in pysubs2.load(str(srt))] == ["bore da", "try again"]
    assert [e.text for e in pysubs2.load(str(vtt))] == ["bore da", "try again"]
    assert [e.text for e in pysubs2.load(str(tr))] == ["BORE DA", "TRY AGAIN"]
    lines = log.read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines].count("final_revised") == 1
    finals = jsonl_finals(lines)  # a run killed now (no close) folds the same way
    assert [(f["text"], f["first_text"], f["revision"]) for f in finals] == [
        ("bore da", "bore da", 0),
        ("try again", "pray again", 1),
    ]
    assert [f["translation"] for f in finals] == ["BORE DA", "TRY AGAIN"]
    assert sink.finals == 2 and "✎" in capsys.readouterr().out
    sink.close()
    segments = json.loads(doc.read_text())["segments"]
    assert [(g["text"], g["translation"]) for g in segments] == [
        ("bore da", "BORE DA"),
        ("try again", "TRY AGAIN"),
    ]
