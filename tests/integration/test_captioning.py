"""The captioning engine on real speech with the real models (Silero VAD + Whisper base)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from engine.audio.io import load_audio
from engine.audio.sources import ArraySource, FileSource
from engine.config import AsrOptions, EngineConfig, SpeakerOptions, VadOptions
from engine.events import Final, Partial
from engine.metrics import edit_distance, normalize_text
from engine.pipeline import Pipeline
from tests.cli_env import run_cli


def manifest(speech_dir) -> dict[str, str]:
    rows = {}
    for line in (speech_dir / "MANIFEST.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].endswith(".wav") and cells[0] != "chan3.wav":
            rows[cells[0]] = cells[3]
    return rows


def run_engine(source, transcriber, **asr) -> list:
    events: list = []
    config = EngineConfig(asr=AsrOptions(**asr), speakers=SpeakerOptions(mode="off"))
    Pipeline(config, events.append, transcriber=transcriber).run(source)
    return events


def finals(events) -> list[Final]:
    return [e for e in events if isinstance(e, Final)]


def test_every_clip_is_transcribed_with_low_wer(speech_dir, whisper_base):
    refs = manifest(speech_dir)
    assert len(refs) >= 7
    errors = words = 0
    for name, reference in sorted(refs.items()):
        events = run_engine(FileSource(speech_dir / name), whisper_base, language="en")
        hypothesis = " ".join(f.text for f in finals(events))
        ref, hyp = normalize_text(reference), normalize_text(hypothesis)
        dist = edit_distance(ref, hyp)
        errors += dist
        words += len(ref)
        print(f"{name:16s} WER {dist / len(ref):.2f}  ref={reference!r}  hyp={hypothesis!r}")
    overall = errors / words
    print(f"overall WER {overall:.3f} over {words} words")
    assert overall <= 0.15


def speech_activity(audio: np.ndarray, hop: int = 1600) -> np.ndarray:
    """Per-100 ms flag: energy well above the recording's noise floor (independent of Silero)."""
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    rms = np.sqrt((frames**2).mean(axis=1)) + 1e-9
    floor = np.percentile(rms, 10)
    return rms > floor * 4


def long_pauses(active: np.ndarray, min_len: int = 15) -> list[tuple[float, float]]:
    pauses, start = [], None
    for i, a in enumerate([*active.tolist(), True]):
        if not a and start is None:
            start = i
        elif a and start is not None:
            if i - start >= min_len:
                pauses.append((start / 10, i / 10))
            start = None
    return pauses


def test_chan3_comes_out_as_separate_utterances_inside_speech(speech_dir, whisper_auto):
    audio = load_audio(speech_dir / "chan3.wav")
    active = speech_activity(audio)
    pauses = long_pauses(active)
    assert pauses, "chan3.wav should contain long pauses"
    events = run_engine(ArraySource(audio, name="chan3"), whisper_auto)
    out = finals(events)
    for f in out:
        print(f"[{f.start:5.2f}-{f.end:5.2f}] {f.text}")
    print("long pauses:", pauses)
    assert len(out) >= 3
    for f in out:
        assert f.text.strip()
        # the final overlaps real speech energy
        assert active[int(f.start * 10) : int(np.ceil(f.end * 10))].any(), f
        # and never lies inside a long pause (padding of 0.3 s tolerated at the edges)
        for p0, p1 in pauses:
            overlap = min(f.end, p1 - 0.3) - max(f.start, p0 + 0.3)
            assert overlap <= 0, (f.start, f.end, p0, p1)
    starts = [f.start for f in out]
    assert starts == sorted(starts)


@pytest.mark.parametrize("kind", ["silence", "white noise"])
def test_no_subtitle_from_silence_or_noise(kind, whisper_auto):
    rng = np.random.default_rng(7)
    if kind == "silence":
        audio = np.zeros(16000 * 10, dtype=np.float32)
    else:
        audio = (rng.standard_normal(16000 * 10) * 0.1).astype(np.float32)
    events = run_engine(ArraySource(audio, name=kind), whisper_auto)
    assert finals(events) == []
    assert not [e for e in events if isinstance(e, Partial)]


def test_realtime_partials_precede_the_final_and_committed_words_only_grow(
    speech_dir, whisper_base
):
    """Within a segment's partials the committed words only grow; the final, its own decode
    of the whole segment, has at least as many words (it may correct them, never drop them)."""
    audio = np.concatenate(
        [load_audio(speech_dir / "cards-005.wav"), np.zeros(16000, dtype=np.float32)]
    )
    events = run_engine(ArraySource(audio, realtime=True), whisper_base, language="en")
    partials = [e for e in events if isinstance(e, Partial)]
    out = finals(events)
    assert out and partials
    first_final = events.index(out[0])
    assert any(events.index(p) < first_final for p in partials)
    by_segment: dict[int, list[Partial]] = {}
    for p in partials:
        by_segment.setdefault(p.segment_id, []).append(p)
    for seg, seq in by_segment.items():
        committed = ""
        for p in seq:
            assert p.committed.startswith(committed), (committed, p.committed)
            committed = p.committed
        final = next(f for f in out if f.segment_id == seg)
        assert len(final.text.split()) >= len(committed.split()), (committed, final.text)
        print(f"segment {seg}: {len(seq)} partials, committed {committed!r} → {final.text!r}")


def test_cli_writes_subtitles_and_jsonl(tmp_path, speech_dir):
    srt, vtt, jsonl = tmp_path / "out.srt", tmp_path / "out.vtt", tmp_path / "out.jsonl"
    base = ["run", speech_dir / "chan3.wav", "--source", "en"]
    proc = run_cli(*base, "--subtitles", srt, "--jsonl", jsonl)
    assert proc.returncode == 0, proc.stderr
    assert "long discussion" in proc.stdout
    cues = re.findall(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)", srt.read_text())
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    final_records = [r for r in records if r["type"] == "final"]
    assert len(cues) == len(final_records) >= 3
    for r in final_records:
        assert {"type", "start", "end", "text", "lang", "speaker", "times"} <= r.keys()
        assert r["lang"] == "en" and r["end"] > r["start"]
        assert {"asr_start_at", "asr_done_at", "emitted_at"} <= r["times"].keys()
    proc = run_cli(*base, "--subtitles", vtt)
    assert proc.returncode == 0, proc.stderr
    assert vtt.read_text().startswith("WEBVTT")


def test_long_monologue_is_split_without_losing_words(speech_dir, whisper_base):
    """Clips joined with pauses too short to end a segment form one ~22 s monologue; with a 6 s
    maximum segment it is cut at quiet points, and every clip's words still come out."""
    refs = manifest(speech_dir)
    gap = np.zeros(int(0.15 * 16000), dtype=np.float32)
    pieces = []
    for name in sorted(refs):
        audio = load_audio(speech_dir / name)
        active = np.nonzero(np.repeat(speech_activity(audio), 1600))[0]
        pieces += [audio[max(active[0] - 1600, 0) : active[-1] + 1600], gap]
    events: list = []
    config = EngineConfig(
        asr=AsrOptions(language="en"),
        vad=VadOptions(max_segment_s=6.0, min_silence_ms=1000),
        speakers=SpeakerOptions(mode="off"),
    )
    Pipeline(config, events.append, transcriber=whisper_base).run(
        ArraySource(np.concatenate(pieces))
    )
    out = finals(events)
    assert all(f.end - f.start <= 6.0 + 1e-6 for f in out)
    cuts = [a.end for a, b in zip(out, out[1:], strict=False) if abs(a.end - b.start) < 1e-6]
    assert cuts, "no segment was cut at the maximum length"
    said = normalize_text(" ".join(f.text for f in out))
    expected = normalize_text(" ".join(refs[n] for n in sorted(refs)))
    missing = edit_distance(expected, said) / len(expected)
    print(f"{len(out)} segments; WER {missing:.3f}:", [f.text for f in out])
    assert missing <= 0.2
