"""Live finals as accurate as faster-whisper's batch transcription (issue 8), on real models.

The audio is paced like a microphone (partials, local agreement and speculative finals all run
as live), so each test takes about as long as its recording (~10-20 s). Accuracy assertions
only: latency figures come from bench/bench_accuracy.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import accuracy, corpus

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

# Said on their own, these came back doubled ("Fail again. Fail again.", "They were wrong. They
# were wrong.") or garbled ("Prigan", "Thail better") with the 3 s encoder window.
SHORT_SENTENCES = (*corpus.COMMANDS, "They were wrong.")


@pytest.fixture(scope="module")
def short_piper() -> list[corpus.Utterance]:
    return corpus.piper(SHORT_SENTENCES, "short")


def test_short_piper_sentences_come_back_once(whisper_base, short_piper):
    timeline = corpus.build_timeline("short sentences", short_piper, 1.5)
    result = accuracy.run_dragoman(whisper_base, timeline)
    assert result.revised_text is not None
    for text in (result.text, result.revised_text):  # as first emitted, and after revisions
        assert accuracy.repeated_phrases(text) == [], text
    assert len(result.pieces) == len(SHORT_SENTENCES), result.pieces  # one final per sentence
    # issue 8 acceptance: WER <= 0.1 (one word of the 14: "Try again." alone is "Pray again." on
    # this voice, and "Prigan" with the 3 s windows)
    assert accuracy.wer(timeline.reference, result.text) <= 0.1, result.text
    # a revision re-decodes "Try again." with "Fail better." before it as context and fixes it:
    # after revisions the live text is as good as batch (word-perfect here)
    fixed = [new for old, new in result.revisions if new == "Try again."]
    assert fixed, result.revisions
    batch = accuracy.batch_text(whisper_base, timeline, "en")
    batch_wer = accuracy.wer(timeline.reference, batch)
    assert accuracy.wer(timeline.reference, result.revised_text) <= 1.2 * batch_wer, (
        result.revised_text,
        batch,
    )


def test_a_short_sentence_decodes_once_in_partials_and_finals(whisper_base, short_piper):
    """The decoder itself, on one 1.2 s utterance with the segmenter's 0.2 s padding: neither
    the partial decode (greedy, short window), the greedy decode of a revision or a hurried
    final (10 s window) nor the beam final repeats it. Partials are only shown, but a doubled
    phrase flashing on screen is still wrong."""
    pad = np.zeros(3200, np.float32)
    for utt in short_piper:
        audio = np.concatenate([pad, utt.audio, pad])
        for kind in ({"final": False, "partial": True}, {"final": False}, {"final": True}):
            hyp = whisper_base.transcribe(audio, language="en", **kind)
            assert accuracy.repeated_phrases(hyp.text) == [], (utt.text, kind, hyp.text)


def test_shared_clips_with_pauses_live_wer_close_to_batch(whisper_base):
    timeline = corpus.build_timeline("shared clips", corpus.shared_clips(), 0.7)
    batch = accuracy.batch_text(whisper_base, timeline, "en")
    live = accuracy.run_dragoman(whisper_base, timeline)
    batch_wer = accuracy.wer(timeline.reference, batch)
    assert batch_wer > 0, batch  # (a ratio to zero would demand perfection)
    # issue 8: its goal, 1.2x the batch WER, as first emitted (acceptance asked 1.3x) and after
    # revisions
    assert accuracy.wer(timeline.reference, live.text) <= 1.2 * batch_wer, (live.text, batch)
    assert live.revised_text is not None
    revised_wer = accuracy.wer(timeline.reference, live.revised_text)
    assert revised_wer <= 1.2 * batch_wer, (live.revised_text, batch)


def test_prompted_decodes_still_pass_through_the_guards(whisper_base):
    """Context from the previous sentence must not let a hallucination through: silence
    decoded with a prompt still yields no text."""
    silence = np.zeros(16000 * 2, np.float32)
    hyp = whisper_base.transcribe(silence, language="en", prompt="Thank you for watching.")
    assert hyp.text == "" and hyp.rejected is not None, hyp


def test_bench_smoke_prints_every_figure():
    """bench/bench_accuracy.py --smoke (under a minute): every figure is produced."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_accuracy.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=True,
    ).stdout
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    expected = {"faster-whisper batch (vad_filter=True)", "dragoman", "dragoman revised"}
    assert set(rows) >= expected | {"naive", "chunks"}
    for name in ("dragoman", "dragoman revised", "naive", "chunks"):
        cells = [c.strip() for c in rows[name].split("|")[2:-1]]
        latency, first_partial, wer, ratio, cpu, revision_delay = cells
        assert float(wer) >= 0, rows[name]
        assert ratio == "inf" or float(ratio) >= 0, rows[name]
        if name == "dragoman revised":
            assert revision_delay.endswith(" s") and float(revision_delay.split()[0]) > 0
            continue
        assert latency.endswith(" s") and float(latency.split()[0]) >= 0, rows[name]
        assert cpu != "—", rows[name]
        if name == "dragoman":
            assert first_partial.endswith(" s"), rows[name]
    assert "acoustic end→text" in out and "CPU cores" in out and "load average" in out


def test_soak_smoke_prints_lag_per_minute_and_writes_the_plot(tmp_path):
    """bench/soak.py for 20 s of live audio: the per-minute table and the PNG are produced."""
    png = tmp_path / "soak.png"
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--minutes", "0.33", "--plot", str(png)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=True,
    ).stdout
    rows = [line for line in out.splitlines() if line.strip().startswith("1 |")]
    assert len(rows) == 1, out
    cells = [c.strip() for c in rows[0].split("|")]
    assert int(cells[1]) > 0 and cells[2].endswith(" s") and cells[4].endswith(" MB"), rows[0]
    assert "WER" in out and "CPU" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
