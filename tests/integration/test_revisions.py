"""Revisions on real models (issue 8): a line the recogniser got wrong alone is re-decoded with
its neighbour as context and replaced; the replaced line is translated once more (real ONNX
M2M100, the tiny parity fixture), an unchanged one is not; and the subtitle files a `dragoman
run` writes stay valid whenever the process is killed with SIGKILL, revisions included.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import soundfile as sf

from bench import corpus
from engine.audio.sources import ArraySource
from engine.config import AsrOptions, EngineConfig, SpeakerOptions, TranslationOptions
from engine.events import Final, FinalRevised, Translation
from engine.pipeline import Pipeline
from engine.translate import create_translator
from tests.cli_env import start_cli

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "m2m100"


@pytest.fixture(scope="module")
def commands() -> corpus.Timeline:
    """Piper speaking short commands 1.5 s apart: "Try again." alone comes back "Pray again."
    (or "Prie again."), with "Fail better." before it in one window it comes back right."""
    return corpus.build_timeline("commands", corpus.piper(corpus.COMMANDS, "cmd"), 1.5)


def test_a_revised_line_is_translated_once_more_and_an_unchanged_one_is_not(whisper_base, commands):
    options = TranslationOptions(target_lang="fr", backend="m2m100", model=str(FIXTURE))
    config = EngineConfig(
        asr=AsrOptions(language="en"), speakers=SpeakerOptions(mode="off"), translation=options
    )
    events: list = []
    Pipeline(
        config, events.append, transcriber=whisper_base, translator=create_translator(options)
    ).run(ArraySource(commands.audio, name="commands", realtime=False))
    finals = {e.segment_id: e for e in events if isinstance(e, Final)}
    revised = {e.segment_id: e for e in events if isinstance(e, FinalRevised)}
    assert len(finals) == len(corpus.COMMANDS)
    assert revised, [f.text for f in finals.values()]
    assert [r.text for r in revised.values()] == ["Try again."]
    counts = Counter(e.segment_id for e in events if isinstance(e, Translation))
    assert counts == {k: 2 if k in revised else 1 for k in finals}
    for segment_id, rev in revised.items():
        first, second = [
            e for e in events if isinstance(e, Translation) and e.segment_id == rev.segment_id
        ]
        assert (first.source_text, second.source_text) == (rev.previous_text, rev.text)
        assert events.index(second) > events.index(rev)
        assert (rev.start, rev.end) == (finals[segment_id].start, finals[segment_id].end)


# ------------------------------------------------------------------ kill -9 (SIGKILL)
SRT_TIME = r"\d\d:\d\d:\d\d,\d{3}"
VTT_TIME = r"\d\d:\d\d:\d\d\.\d{3}"


def _seconds(stamp: str) -> float:
    h, m, s = stamp.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse_strictly(path: Path) -> list[str]:
    """The cue texts of an SRT or VTT file; AssertionError on anything malformed: the VTT
    header, cue numbers 1..N in order, "start --> end" with start <= end, non-empty text, one
    blank line after every cue, nothing half-written at the end."""
    text = path.read_text(encoding="utf-8")
    vtt = path.suffix == ".vtt"
    stamp = VTT_TIME if vtt else SRT_TIME
    if vtt:
        assert text.startswith("WEBVTT\n\n"), text[:40]
        text = text.removeprefix("WEBVTT\n\n")
    if not text:
        return []
    assert text.endswith("\n\n"), repr(text[-60:])
    texts = []
    for number, block in enumerate(text[:-2].split("\n\n"), 1):
        lines = block.split("\n")
        assert len(lines) >= 3, block
        assert lines[0] == str(number), block
        match = re.fullmatch(f"({stamp}) --> ({stamp})", lines[1])
        assert match, block
        assert _seconds(match[1]) <= _seconds(match[2]), block
        assert all(line.strip() for line in lines[2:]), block
        texts.append(" ".join(lines[2:]))
    return texts


def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    raw = path.read_text(encoding="utf-8")
    assert not raw or raw.endswith("\n"), repr(raw[-80:])  # every record is a complete line
    return [json.loads(line) for line in raw.splitlines()]


def _kill_when(proc, jsonl: Path, done, timeout: float = 60.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        records = _records(jsonl)
        if done(records):
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return _records(jsonl)


def _kinds(records: list[dict]) -> Counter:
    return Counter(r["type"] for r in records)


@pytest.mark.parametrize(
    "moment",
    ["first final", "right after a revision", "a while after a revision"],
)
def test_subtitles_stay_valid_after_kill_9(tmp_path, commands, moment):
    wav = tmp_path / "commands.wav"
    sf.write(wav, commands.audio, corpus.SAMPLE_RATE)
    srt, vtt, jsonl = tmp_path / "o.srt", tmp_path / "commands.vtt", tmp_path / "o.jsonl"
    proc = start_cli(
        "run", wav, "--realtime", "--source", "en", "--speakers", "off", "--subtitles", srt,
        "--output-dir", tmp_path, "--output-format", "vtt", "--jsonl", jsonl,
    )  # fmt: skip
    marked: list[float] = []

    def done(records: list[dict]) -> bool:
        kinds = _kinds(records)
        if moment == "first final":
            return kinds["final"] >= 1
        if not kinds["final_revised"]:
            return False
        if moment == "right after a revision":
            return True
        marked.append(time.monotonic())
        return time.monotonic() - marked[0] > 0.7  # during the next rewrite, or between

    records = _kill_when(proc, jsonl, done)
    kinds = _kinds(records)
    expected = "final" if moment == "first final" else "final_revised"
    assert kinds[expected] >= 1, kinds
    for path in (srt, vtt):
        texts = parse_strictly(path)
        # the subtitles are written before the JSONL record: everything logged is in them
        assert len(texts) >= kinds["final"], (path, texts, kinds)
        for record in records:
            if record["type"] == "final_revised":
                assert texts[record["segment_id"] - 1] == record["text"], (path, texts)
