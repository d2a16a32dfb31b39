"""Review regression tests of the pipeline's threading and bookkeeping, with scripted fakes.

A scripted VAD (one probability per 32 ms window) and a transcriber that answers with the length
of the audio it was given make segment boundaries and decode reuse exact, so each test states
one contract of `engine.pipeline.Pipeline`. Each "Regression" comment
names the bug the test caught; a test marked xfail(strict) fails today because of its reason.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from engine.asr.whisper import Hypothesis
from engine.audio.history import AudioHistory
from engine.audio.sources import ArraySource
from engine.config import EngineConfig, SpeakerOptions, VadOptions
from engine.errors import DeviceError
from engine.events import (
    EngineError,
    Final,
    Finished,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    SpeechStarted,
)
from engine.pipeline import Pipeline
from engine.vad import WINDOW

SR = 16_000


class ScriptedVad:
    """Probability per window from a list (0.0 after its end); optional gates: before window i
    is scored, wait for an event (so the recogniser has done a given decode)."""

    def __init__(self, probs: list[float], gates: dict[int, threading.Event] | None = None):
        self.probs = probs
        self.gates = gates or {}
        self.i = 0

    def reset(self) -> None:
        self.i = 0

    def probability(self, window: np.ndarray) -> float:
        gate = self.gates.get(self.i)
        if gate is not None:
            assert gate.wait(10), f"gate before window {self.i} never opened"
        p = self.probs[self.i] if self.i < len(self.probs) else 0.0
        self.i += 1
        return p


class LengthTranscriber:
    """Text = 'n<samples>' of the audio decoded; records every call."""

    def __init__(self, fail_final: bool = False) -> None:
        self.calls: list[tuple[int, bool]] = []
        self.fail_final = fail_final
        self.speculative_done = threading.Event()
        self.partial_done = threading.Event()

    def transcribe(self, audio, *, language=None, final=True, session_languages=()):
        n = len(audio)
        self.calls.append((n, final))
        if final and self.fail_final:
            raise RuntimeError("decoder crashed")
        hyp = Hypothesis(f"n{n}", "en", None, -0.1, 0.0, 1.0, n / SR, 0.0)
        (self.speculative_done if final else self.partial_done).set()
        return hyp


def make_pipeline(transcriber, vad, **kwargs) -> tuple[Pipeline, list]:
    events: list = []
    config = replace(
        EngineConfig(),
        speakers=SpeakerOptions(mode="off"),
        vad=kwargs.pop("vad_options", VadOptions()),
    )
    p = Pipeline(config, events.append, transcriber=transcriber, **kwargs)
    p.vad = vad
    return p, events


def silence(windows: int) -> np.ndarray:
    return np.zeros(windows * WINDOW, dtype=np.float32)


# --------------------------------------------------------------------------- bug: split reuse
# Regression (fixed in c5f967f): pipeline.py submit_final on 'split' passes
# reuse_length=spec_length: when the cut lies before the end of the speculative decode, the first
# half's Final reuses a decode of audio past its own end, and the second half decodes that audio
# again (duplicated words)
def test_final_of_a_split_segment_never_covers_audio_past_its_end():
    # windows: 10 silent; speech 10..69; dip (pause 1) 70-71; speech 72..84; pause 2 from 85
    probs = [0.0] * 10 + [0.9] * 60 + [0.05] * 2 + [0.9] * 13 + [0.2] * 60
    asr = LengthTranscriber()
    vad = ScriptedVad(probs, gates={92: asr.speculative_done})
    p, events = make_pipeline(
        asr, vad, vad_options=VadOptions(max_segment_s=3.0, min_silence_ms=1000)
    )
    p.run(ArraySource(silence(len(probs) + 20)), realtime=True)
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 2, finals
    for f in finals:
        decoded = int(f.text.removeprefix("n"))
        span = round((f.end - f.start) * SR)
        assert decoded <= span + WINDOW, (f, span)


# --------------------------------------------------------------------------- bug: decode failure
# Regression (fixed in c5f967f): pipeline.py _Recogniser.run: when the final decode raises, the
# segment's partial is never withdrawn (no Final, no SegmentDiscarded) and its state leaks in
# `segments`
def test_partial_is_withdrawn_when_the_final_decode_fails():
    probs = [0.0] * 5 + [0.9] * 60  # speech until the source ends (flush -> final)
    asr = LengthTranscriber(fail_final=True)
    vad = ScriptedVad(probs, gates={40: asr.partial_done})
    p, events = make_pipeline(asr, vad)
    p.run(ArraySource(silence(len(probs))), realtime=True)
    assert any(isinstance(e, Partial) for e in events)
    assert any(isinstance(e, EngineError) for e in events)
    closed = {e.segment_id for e in events if isinstance(e, Final | SegmentDiscarded)}
    assert closed == {1}


# --------------------------------------------------------------------------- bug: speaker id
class BrokenIdentifier:
    def identify(self, audio):
        raise RuntimeError("onnxruntime: invalid input")  # untyped, as onnxruntime raises


# Regression (fixed in c5f967f): pipeline.py _finalize catches only DragomanError around
# speaker_identifier.identify: any other exception loses the Final (its text) of an otherwise good
# segment
def test_a_failing_speaker_identifier_does_not_lose_the_final():
    probs = [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    p, events = make_pipeline(LengthTranscriber(), ScriptedVad(probs))
    p.speaker_identifier = BrokenIdentifier()
    p.config = replace(p.config, speakers=SpeakerOptions(mode="auto"))
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert any(isinstance(e, EngineError) for e in events)
    assert [e.segment_id for e in events if isinstance(e, Final)] == [1]


# --------------------------------------------------------------------------- bug: source raises
class FailingSource(ArraySource):
    """Delivers `ok_blocks` blocks, then the device is lost."""

    def __init__(self, audio: np.ndarray, ok_blocks: int) -> None:
        super().__init__(audio)
        self.ok_blocks = ok_blocks

    def blocks(self):
        for i, block in enumerate(super().blocks()):
            if i == self.ok_blocks:
                raise DeviceError("Input device 'x' stopped delivering audio")
            yield block


# Regression (fixed in c5f967f): pipeline.py run/_frame_loop: an exception from the source skips
# segmenter.flush(), so the segment open at that moment gets neither a Final nor a
# SegmentDiscarded although run() says 'flush what we have, then report'
def test_speech_open_when_the_source_fails_is_flushed():
    probs = [0.0] * 5 + [0.9] * 200
    p, events = make_pipeline(LengthTranscriber(), ScriptedVad(probs))
    with pytest.raises(DeviceError):
        p.run(FailingSource(silence(len(probs)), ok_blocks=60), realtime=False)
    started = {e.segment_id for e in events if isinstance(e, SpeechStarted)}
    closed = {e.segment_id for e in events if isinstance(e, Final | SegmentDiscarded)}
    assert started == {1}
    assert closed == started


# --------------------------------------------------------------------------- bug: stale stop
# Regression: a stop() after run() ended (the file ended as the user pressed Stop) cancelled the
# NEXT run. Contract now: a stop is never lost; a caller reusing the pipeline calls reset_stop()
# right before run() (the GUI worker does).
def test_a_late_stop_does_not_cancel_the_next_run():
    probs = [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    vad = ScriptedVad(probs)
    p, events = make_pipeline(LengthTranscriber(), vad)
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.reason for e in events if isinstance(e, Finished)] == ["end"]
    p.stop()  # too late for the first run
    events.clear()
    p.reset_stop()  # what a caller reusing the pipeline does right before run() (the GUI worker)
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.reason for e in events if isinstance(e, Finished)] == ["end"]
    assert [e.segment_id for e in events if isinstance(e, Final)] == [1]


def test_stop_during_a_run_flushes_the_open_segment():
    """Works: stop() from another thread mid-speech still yields the Final, reason 'stopped'."""
    probs = [0.0] * 5 + [0.9] * 400
    reached = threading.Event()
    release = threading.Event()

    class Vad(ScriptedVad):
        def probability(self, window):
            if self.i == 100:
                reached.set()
                release.wait(10)
            return super().probability(window)

    p, events = make_pipeline(LengthTranscriber(), Vad(probs))
    t = threading.Thread(target=p.run, args=(ArraySource(silence(len(probs))),), daemon=True)
    t.start()
    assert reached.wait(10)
    p.stop()
    release.set()
    t.join(10)
    assert not t.is_alive()
    finals = [e for e in events if isinstance(e, Final)]
    assert [f.segment_id for f in finals] == [1]
    assert finals[0].end <= 101 * WINDOW / SR + 1e-9
    assert [e.reason for e in events if isinstance(e, Finished)] == ["stopped"]


def test_stop_before_run_ends_the_run_at_once():
    """Works (documented here): a stop() before run() makes that run stop immediately."""
    probs = [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    p, events = make_pipeline(LengthTranscriber(), ScriptedVad(probs))
    p.stop()
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.reason for e in events if isinstance(e, Finished)] == ["stopped"]
    assert not any(isinstance(e, Final) for e in events)


# --------------------------------------------------------------------------- bug: drain raises
class DrainFails:
    def speak(self, final, translation=None):
        pass

    def drain(self, stop=False, total_duration=None):
        raise DeviceError("Output device 'x' disappeared")


# Regression (fixed in c5f967f): pipeline.py run(): an exception from speech.drain() in the
# finally block escapes without the fatal EngineError and without Finished (the GUI/CLI never see
# the run end)
def test_run_always_emits_finished_even_when_draining_speech_fails():
    probs = [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    p, events = make_pipeline(LengthTranscriber(), ScriptedVad(probs), speech=DrainFails())
    with pytest.raises(DeviceError):
        p.run(ArraySource(silence(len(probs))), realtime=False)
    assert any(isinstance(e, Finished) for e in events)


# --------------------------------------------------------------------------- bug: re-entrant emit
# Regression (fixed in c5f967f): pipeline.py _emit holds a non-reentrant lock while calling
# on_event: a consumer that calls pipeline.rename_speaker() from its callback deadlocks the engine
def test_rename_speaker_from_an_event_callback_does_not_deadlock():
    class Identifier:
        def __init__(self):
            self.renamed = []

        def rename(self, old, new):
            self.renamed.append((old, new))

    p = Pipeline(EngineConfig(), speaker_identifier=Identifier())
    done = threading.Event()

    def consumer(event):
        if isinstance(event, SpeakerChanged) and event.new_label == "A":
            p.rename_speaker("A", "Alice")
        done.set()

    p.on_event = consumer
    t = threading.Thread(target=p._emit, args=(SpeakerChanged(None, "A"),), daemon=True)
    t.start()
    t.join(3)
    assert not t.is_alive(), "deadlocked in Pipeline._emit"


# --------------------------------------------------------------------------- bug: history
# Regression (fixed in c5f967f): audio/history.py append(): a block longer than the ring clips the
# samples but also counts only the clipped length in `total`, so absolute positions (the VAD's)
# drift
def test_history_counts_every_sample_of_a_block_longer_than_the_ring():
    h = AudioHistory(1.0)
    h.append(np.arange(2 * SR, dtype=np.float32))
    assert h.total == 2 * SR
    assert h.slice(2 * SR - 10, 2 * SR)[0] == 2 * SR - 10


# --------------------------------------------------------------------------- bug: blocklist
# Regression (fixed in c5f967f): asr/whisper.py _apply_guards drops every blocklisted phrase
# shorter than 1.5 s of audio even when Whisper is sure there is speech: a real 'Thank you.'
# (no_speech 0.005, avg_logprob -0.31, 1.1 s with padding, measured on Whisper base) never becomes
# a final
def test_a_confident_short_thank_you_is_kept():
    from types import SimpleNamespace

    from engine.asr.whisper import WhisperTranscriber
    from engine.config import AsrOptions

    owner = SimpleNamespace(options=AsrOptions())
    hyp = Hypothesis("Thank you.", "en", 0.77, -0.305, 0.005, 1.0, 1.1, 0.0)
    text, rejected = WhisperTranscriber._apply_guards(owner, hyp)
    assert (text, rejected) == ("Thank you.", None)


def test_a_stop_landing_as_the_next_run_starts_stops_that_run():
    """The GUI worker marks a run RUNNING, then calls run(); a Stop click in between (here:
    while run() reads the source's `realtime`) must stop that run, not be ignored as 'late'
    (for a microphone an ignored stop means a run that never ends)."""
    probs = [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    p, events = make_pipeline(LengthTranscriber(), ScriptedVad(probs))
    p.run(ArraySource(silence(len(probs))), realtime=False)  # an earlier run
    events.clear()

    class StopOnStart(ArraySource):
        stopped = False

        @property
        def realtime(self) -> bool:
            if not self.stopped:  # the other thread's stop lands here, once
                self.stopped = True
                p.stop()
            return False

        @realtime.setter
        def realtime(self, value: bool) -> None:
            pass

    p.run(StopOnStart(silence(len(probs))))
    assert [e.reason for e in events if isinstance(e, Finished)] == ["stopped"]
    assert not any(isinstance(e, Final) for e in events)


# Regression: a comma-glued digit loop passed every guard.
def test_a_comma_glued_digit_loop_is_rejected():
    from types import SimpleNamespace

    from engine.asr.whisper import WhisperTranscriber
    from engine.config import AsrOptions

    owner = SimpleNamespace(options=AsrOptions())
    hyp = Hypothesis("1,5,5,5,5,5,5,5,5,5,5,", "nn", 0.3, -0.51, 0.55, 1.1, 2.0, 0.0)
    text, rejected = WhisperTranscriber._apply_guards(owner, hyp)
    assert rejected is not None or len(text) < len(hyp.text), "the loop was kept whole"
