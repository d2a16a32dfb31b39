"""Word timestamps on the real models: every word of a final is timed inside its speech, in
order, and the command line writes them (JSONL, JSON transcript) and word-timed subtitles."""

from __future__ import annotations

import json

import numpy as np
import pysubs2

from engine.audio.io import load_audio
from engine.metrics import normalize_text
from tests.cli_env import run_cli

SR = 16_000


def speech_span(audio: np.ndarray, hop: int = 160) -> tuple[float, float]:
    """First and last 10 ms frame within 30 dB of the loudest one (seconds)."""
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    rms = np.sqrt((frames**2).mean(axis=1)) + 1e-9
    loud = np.nonzero(rms > rms.max() * 10 ** (-30 / 20))[0]
    return loud[0] * hop / SR, (loud[-1] + 1) * hop / SR


def test_words_are_timed_in_order_inside_the_speech(speech_dir, whisper_base):
    for name in ("goforward.wav", "forever.wav"):
        audio = load_audio(speech_dir / name)
        hyp = whisper_base.transcribe(audio)
        words = whisper_base.align(audio, hyp.text, "en")
        assert normalize_text(" ".join(w.text for w in words)) == normalize_text(hyp.text)
        starts = [w.start for w in words]
        assert starts == sorted(starts), words
        assert all(0.0 <= w.start <= w.end <= len(audio) / SR for w in words), words
        assert all(0.0 <= w.probability <= 1.0 for w in words)
        assert not [w for w in words if w.text in {".", ",", "?", "!"}]  # joined to their word
        # Whisper's cross-attention timings run early by a few hundred ms on this model; they
        # stay inside the speech (the loud part of the clip, with a second of slack)
        first, last = speech_span(audio)
        assert first - 1.0 <= words[0].start and words[-1].end <= last + 0.2, (words, first, last)
        # the reference: faster-whisper's own word timestamps of the same audio and text
        segments, _ = whisper_base.model.transcribe(
            audio, language="en", word_timestamps=True, beam_size=3
        )
        reference = [w for s in segments for w in s.words or []]
        assert normalize_text(" ".join(w.word for w in reference)) == normalize_text(hyp.text)
        for ours, ref in zip(words, reference, strict=True):
            assert abs(ours.start - ref.start) <= 0.1 and abs(ours.end - ref.end) <= 0.1, (
                ours,
                ref,
            )


def test_cli_writes_word_timings_and_word_timed_subtitles(tmp_path, speech_dir):
    clip = speech_dir / "goforward.wav"
    srt, jsonl = tmp_path / "words.srt", tmp_path / "log.jsonl"
    proc = run_cli(
        "run", clip, "--speakers", "off", "--cue-words", "2", "--subtitles", srt, "--jsonl", jsonl
    )
    assert proc.returncode == 0, proc.stderr
    finals = [r for r in map(json.loads, jsonl.read_text().splitlines()) if r["type"] == "final"]
    assert finals and all(r["words"] for r in finals)
    for record in finals:
        assert {"text", "start", "end", "probability"} <= record["words"][0].keys()
        assert record["start"] <= record["words"][0]["start"] <= record["words"][-1]["end"]
        assert record["words"][-1]["end"] <= record["end"] + 1e-6
    cues = pysubs2.load(str(srt)).events
    assert len(cues) > len(finals)  # the line was split by its word timings
    assert all(len(c.plaintext.split()) <= 2 for c in cues), [c.plaintext for c in cues]
    assert normalize_text(" ".join(c.plaintext for c in cues)) == normalize_text(
        " ".join(r["text"] for r in finals)
    )
    ends = [(c.start, c.end) for c in cues]
    assert all(a[1] <= b[0] + 1 for a, b in zip(ends, ends[1:], strict=False))  # no overlap (ms)
