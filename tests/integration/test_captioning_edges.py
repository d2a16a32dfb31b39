"""Edge cases of the captioning engine on the real models (Silero VAD + Whisper base).

Odd inputs (8 kHz stereo, files shorter than one VAD window, exactly one window, speech cut off
by the end of the file) and the bookkeeping invariants of a realtime run with partials.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr

from engine.audio.io import load_audio
from engine.audio.sources import ArraySource, FileSource
from engine.config import EngineConfig, SpeakerOptions
from engine.events import Final, Finished, Partial, SegmentDiscarded, SpeechStarted, StageFailure
from engine.metrics import normalize_text
from engine.pipeline import Pipeline

SR = 16_000


@pytest.fixture(scope="module")
def engine():
    events: list = []
    pipeline = Pipeline(EngineConfig(speakers=SpeakerOptions(mode="off")), events.append)
    pipeline.load()
    return pipeline, events


def run(engine, source, **kwargs) -> list:
    pipeline, events = engine
    events.clear()
    pipeline.run(source, **kwargs)
    assert not [e for e in events if isinstance(e, StageFailure)]
    assert [type(e) for e in events if isinstance(e, Finished)] == [Finished]
    return list(events)


def final_text(events) -> str:
    return " ".join(normalize_text(" ".join(e.text for e in events if isinstance(e, Final))))


def test_8khz_stereo_file_is_downmixed_and_resampled(engine, speech_dir, tmp_path):
    mono = load_audio(speech_dir / "goforward.wav")
    low = soxr.resample(mono, SR, 8_000).astype(np.float32)
    stereo = np.stack([low, 0.5 * low], axis=1)
    path = tmp_path / "stereo8k.wav"
    sf.write(path, stereo, 8_000, subtype="PCM_16")
    events = run(engine, FileSource(path))
    text = final_text(events)
    assert "go forward" in text and ("ten" in text or "10" in text), text
    for f in (e for e in events if isinstance(e, Final)):
        assert 0.0 <= f.start < f.end <= len(mono) / SR + 1e-6


@pytest.mark.parametrize(
    ("samples", "rate"),
    [(1, 8_000), (320, SR), (512, SR)],
    ids=["one-sample-8k", "20ms", "exactly-one-window"],
)
def test_files_of_at_most_one_window_end_cleanly(engine, speech_dir, tmp_path, samples, rate):
    speech = load_audio(speech_dir / "forever.wav")[SR : SR + 512]  # mid-word
    audio = soxr.resample(speech, SR, rate).astype(np.float32)[:samples] if rate != SR else speech
    path = tmp_path / "tiny.wav"
    sf.write(path, audio[:samples], rate, subtype="PCM_16")
    events = run(engine, FileSource(path))
    assert [e.reason for e in events if isinstance(e, Finished)] == ["end"]
    assert not [e for e in events if isinstance(e, Final)]


def test_speech_cut_off_by_the_end_of_the_file_is_finalised(engine, speech_dir):
    audio = load_audio(speech_dir / "forever.wav")[: 2 * SR]  # "feels like these days go on|"
    events = run(engine, ArraySource(audio))
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1
    assert finals[0].end <= 2.0 + 1e-6
    assert "feels like these days" in final_text(events)


def test_realtime_run_closes_every_segment_in_order(engine, speech_dir):
    """chan3 (11 kHz, several utterances) with partials: every segment that started gets exactly
    one Final or SegmentDiscarded, finals come in segment order without overlapping, and the
    committed prefix of a segment's partials only grows, and no final has fewer words than its
    partials committed."""
    audio = load_audio(speech_dir / "chan3.wav")
    events = run(engine, ArraySource(audio), realtime=True)
    started = [e.segment_id for e in events if isinstance(e, SpeechStarted)]
    closed = [e.segment_id for e in events if isinstance(e, Final | SegmentDiscarded)]
    assert started == sorted(set(started)) and sorted(closed) == sorted(set(closed))
    assert set(started) >= set(closed)
    partial_ids = {e.segment_id for e in events if isinstance(e, Partial)}
    assert partial_ids <= set(closed), "a partial line was never finalised or withdrawn"
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) >= 3
    assert [f.segment_id for f in finals] == sorted(f.segment_id for f in finals)
    for a, b in zip(finals, finals[1:], strict=False):
        assert a.end <= b.start + 1e-6, (a, b)
    committed: dict[int, str] = {}
    for e in events:
        if isinstance(e, Partial):
            assert e.committed.startswith(committed.get(e.segment_id, "")), e
            committed[e.segment_id] = e.committed
        elif isinstance(e, Final) and committed.get(e.segment_id):
            assert len(e.text.split()) >= len(committed[e.segment_id].split()), e


# Audio past one Whisper window (30 s) is decoded too: segments may be up to 60 s long
# (VadOptions.max_segment_s), and the end of a long segment must not be lost.
def test_a_segment_longer_than_30_s_keeps_its_last_words(engine, speech_dir):
    pipeline, _ = engine
    head = load_audio(speech_dir / "forever.wav")
    tail = load_audio(speech_dir / "goforward.wav")
    gap = np.zeros(31 * SR - len(head), dtype=np.float32)
    hyp = pipeline.transcriber.transcribe(np.concatenate([head, gap, tail]), language="en")
    assert "forward" in hyp.text.lower(), hyp


class SpeakingStage:
    """A SpeechSink whose player is audible for the whole run (long translations)."""

    backlog = 0
    backend_in_use = "local"

    def __init__(self) -> None:
        import time

        from engine.audio.echo import EchoGuard, PlaybackLog

        log = PlaybackLog()
        log.add(time.monotonic(), np.zeros(50 * SR, dtype=np.float32))
        self.echo_guard = EchoGuard(log, "mute-capture")

    def speak(self, final, translation=None) -> None:
        pass

    def set_volume(self, volume: float) -> None:
        pass

    def drain(self, stop: bool = False, total_duration: float | None = None) -> None:
        pass


# The echo guard (mute-capture) only applies to capture devices: while Dragoman speaks (--play),
# a file's own audio must not be replaced by silence (playback cannot leak into a file).
def test_echo_guard_never_mutes_a_file_source(engine, speech_dir):
    pipeline, _ = engine
    events: list = []
    p = Pipeline(
        EngineConfig(speakers=SpeakerOptions(mode="off")),
        events.append,
        vad=pipeline.stages.vad,
        transcriber=pipeline.transcriber,
        speech=SpeakingStage(),
    )
    p.run(FileSource(speech_dir / "goforward.wav", realtime=False))
    assert "go forward" in final_text(events)
