"""The pipeline's threading and bookkeeping, with scripted fakes (no models).

A scripted VAD (one probability per 32 ms window) and a transcriber that answers with the length
of the audio it was given make segment boundaries and decode reuse exact, so each test states
one contract of `engine.pipeline.Pipeline` (and the recogniser and downstream threads it runs).
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from engine.asr.whisper import INTERRUPTED, Hypothesis
from engine.audio.sources import ArraySource
from engine.config import AsrOptions, EngineConfig, SpeakerOptions, TranslationOptions, VadOptions
from engine.errors import DeviceError, ModelError
from engine.events import (
    Final,
    FinalRevised,
    Finished,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    SpeechStarted,
    Stage,
    StageFailure,
    Stats,
    Translation,
    Word,
)
from engine.pipeline import Pipeline
from engine.recogniser import REVISION_TRIES, Recogniser
from engine.segments import DecodeJob
from engine.speakers.base import SpeakerMatch
from engine.translate import TranslationResult
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

    options = AsrOptions()

    def __init__(self, fail_final: bool = False, fail_align: bool = False) -> None:
        self.calls: list[tuple[int, bool]] = []
        self.fail_final = fail_final
        self.fail_align = fail_align
        self.speculative_done = threading.Event()
        self.partial_done = threading.Event()

    def transcribe(
        self, audio, *, language=None, final=True, partial=False, session_languages=(), stop=None
    ):
        n = len(audio)
        self.calls.append((n, final))
        if final and self.fail_final:
            raise RuntimeError("decoder crashed")
        hyp = Hypothesis(f"n{n}", "en", None, -0.1, 0.0, 1.0, n / SR, 0.0)
        (self.speculative_done if final else self.partial_done).set()
        return hyp

    def align(self, audio, text, language=None):
        if self.fail_align:
            raise RuntimeError("alignment heads missing")
        return (Word(text, 0.1, len(audio) / SR - 0.1, 0.8),)


class UpperTranslator:
    """A Translator that upper-cases; the `fail_on`-th call fails like a model would."""

    name = "upper"

    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.fail_on = fail_on or set()
        self.calls = 0

    def translate(self, texts, source_lang, target_lang):
        self.calls += 1
        if self.calls in self.fail_on:
            raise ModelError("The translation model failed")
        return [TranslationResult(t.upper(), source_lang, target_lang, "upper") for t in texts]


def make_pipeline(transcriber, vad, **kwargs) -> tuple[Pipeline, list]:
    """A pipeline on the fakes; revisions are off unless `revisions=True` (their own tests)."""
    events: list = []
    config = replace(
        EngineConfig(),
        asr=AsrOptions(revisions=kwargs.pop("revisions", False)),
        speakers=SpeakerOptions(mode="auto" if "speaker_identifier" in kwargs else "off"),
        vad=kwargs.pop("vad_options", VadOptions()),
    )
    p = Pipeline(config, events.append, vad=vad, transcriber=transcriber, **kwargs)
    return p, events


def silence(windows: int) -> np.ndarray:
    return np.zeros(windows * WINDOW, dtype=np.float32)


# A segment split at max length never reuses a speculative decode that ran past the cut (its
# Final would hold words of the next half, which decodes them again: duplicated words).
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


# When the final decode raises, the segment's partial line is withdrawn (SegmentDiscarded).
def test_partial_is_withdrawn_when_the_final_decode_fails():
    probs = [0.0] * 5 + [0.9] * 60  # speech until the source ends (flush -> final)
    asr = LengthTranscriber(fail_final=True)
    vad = ScriptedVad(probs, gates={40: asr.partial_done})
    p, events = make_pipeline(asr, vad)
    p.run(ArraySource(silence(len(probs))), realtime=True)
    assert any(isinstance(e, Partial) for e in events)
    assert any(isinstance(e, StageFailure) for e in events)
    closed = {e.segment_id for e in events if isinstance(e, Final | SegmentDiscarded)}
    assert closed == {1}


class FakeIdentifier:
    """A SpeakerIdentifier that calls everyone 'A' (or fails, as onnxruntime does: untyped)."""

    backend_in_use = "local"
    labels = ("A",)

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.renamed: list[tuple[str, str]] = []

    def identify(self, audio, duration_s=None):
        if self.fail:
            raise RuntimeError("onnxruntime: invalid input")
        return SpeakerMatch("A", 0.9, is_new=False, enrolled=False)

    def rename(self, old, new):
        self.renamed.append((old, new))


class FakeSpeech:
    """A SpeechSink that records what it was asked to speak; `speak_error` / `drain_error`
    make it fail the way a vanished output device does."""

    backlog = 0
    backend_in_use = "local"
    echo_guard = None

    def __init__(self, speak_error=None, drain_error=None) -> None:
        self.spoken: list[tuple[int, str | None]] = []
        self.speak_error = speak_error
        self.drain_error = drain_error

    def speak(self, final, translation=None):
        if self.speak_error is not None:
            raise self.speak_error
        self.spoken.append((final.segment_id, translation.text if translation else None))

    def set_volume(self, volume):
        pass

    def drain(self, stop=False, total_duration=None):
        if self.drain_error is not None:
            raise self.drain_error


# Any exception from speaker identification keeps the Final (the text matters more than the
# label) and is reported under the speaker stage.
def test_a_failing_speaker_identifier_does_not_lose_the_final():
    probs = [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    p, events = make_pipeline(
        LengthTranscriber(), ScriptedVad(probs), speaker_identifier=FakeIdentifier(fail=True)
    )
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.stage for e in events if isinstance(e, StageFailure)] == [Stage.SPEAKER]
    assert [e.segment_id for e in events if isinstance(e, Final)] == [1]


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


# A source that fails (device lost) still gets the open segment flushed before the error.
def test_speech_open_when_the_source_fails_is_flushed():
    probs = [0.0] * 5 + [0.9] * 200
    p, events = make_pipeline(LengthTranscriber(), ScriptedVad(probs))
    with pytest.raises(DeviceError):
        p.run(FailingSource(silence(len(probs)), ok_blocks=60), realtime=False)
    started = {e.segment_id for e in events if isinstance(e, SpeechStarted)}
    closed = {e.segment_id for e in events if isinstance(e, Final | SegmentDiscarded)}
    assert started == {1}
    assert closed == started


# A stop() after run() ended (the file ended as the user pressed Stop) cancelled the
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

    asr = LengthTranscriber()
    p, events = make_pipeline(asr, Vad(probs))
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
    # someone waits for Stop: the flushed final decodes greedily (final=False), not with beam
    # search and the temperature fallback
    assert asr.calls[-1] == (finals[0].end * SR - finals[0].start * SR, False)
    assert [e.reason for e in events if isinstance(e, Finished)] == ["stopped"]


def test_stop_before_run_ends_the_run_at_once():
    """Works (documented here): a stop() before run() makes that run stop immediately."""
    probs = [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    p, events = make_pipeline(LengthTranscriber(), ScriptedVad(probs))
    p.stop()
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.reason for e in events if isinstance(e, Finished)] == ["stopped"]
    assert not any(isinstance(e, Final) for e in events)


# An exception while draining speech still ends the run with a fatal StageFailure and Finished.
def test_run_always_emits_finished_even_when_draining_speech_fails():
    probs = [0.0] * 5 + [0.9] * 40 + [0.0] * 30
    speech = FakeSpeech(drain_error=DeviceError("Output device 'x' disappeared"))
    p, events = make_pipeline(LengthTranscriber(), ScriptedVad(probs), speech=speech)
    with pytest.raises(DeviceError):
        p.run(ArraySource(silence(len(probs))), realtime=False)
    assert any(isinstance(e, Finished) for e in events)


# A consumer may call back into the pipeline (rename a speaker) from its event callback.
def test_rename_speaker_from_an_event_callback_does_not_deadlock():
    identifier = FakeIdentifier()
    p, _ = make_pipeline(LengthTranscriber(), ScriptedVad([]), speaker_identifier=identifier)
    p.load()
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
    assert identifier.renamed == [("A", "Alice")]


# A speech output device that fails is a playback failure: it is reported under its own stage
# (not as a translation failure) and every final keeps its subtitle and its translation.
def test_a_failing_speech_device_is_reported_as_playback_not_translation():
    probs = ([0.0] * 5 + [0.9] * 30 + [0.0] * 20) * 2
    speech = FakeSpeech(speak_error=DeviceError("The audio output stopped (device removed?)"))
    p, events = make_pipeline(
        LengthTranscriber(), ScriptedVad(probs), speech=speech, translator=UpperTranslator()
    )
    p.config = replace(p.config, translation=TranslationOptions(target_lang="de"))
    p.run(ArraySource(silence(len(probs))), realtime=False)
    failures = [e for e in events if isinstance(e, StageFailure)]
    assert [f.stage for f in failures] == [Stage.PLAYBACK, Stage.PLAYBACK]
    assert "device removed" in failures[0].message
    assert [e.segment_id for e in events if isinstance(e, Final)] == [1, 2]
    finals = [e for e in events if isinstance(e, Final)]
    translated = [e.text for e in events if isinstance(e, Translation)]
    assert translated == [f.text.upper() for f in finals]


def test_finals_are_translated_and_spoken_in_order_and_a_failed_translation_is_not_spoken():
    probs = ([0.0] * 5 + [0.9] * 30 + [0.0] * 20) * 3
    speech = FakeSpeech()
    translator = UpperTranslator(fail_on={2})
    p, events = make_pipeline(
        LengthTranscriber(), ScriptedVad(probs), speech=speech, translator=translator
    )
    p.config = replace(p.config, translation=TranslationOptions(target_lang="de"))
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.segment_id for e in events if isinstance(e, Final)] == [1, 2, 3]
    assert [e.segment_id for e in events if isinstance(e, Translation)] == [1, 3]
    assert [e.stage for e in events if isinstance(e, StageFailure)] == [Stage.NMT]
    texts = {e.segment_id: e.text for e in events if isinstance(e, Final)}
    # the one whose translation failed is not spoken (the listener does not know the original)
    assert speech.spoken == [(1, texts[1].upper()), (3, texts[3].upper())]
    stats = [e for e in events if isinstance(e, Stats)]
    assert stats[-1].translation_backlog == 0
    assert stats[-1].stage_backends == {
        "vad": "local",
        "asr": "local",
        "nmt": "local",
        "tts": "local",
    }


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


def test_word_timings_are_placed_on_the_source_timeline_and_a_failed_alignment_keeps_the_final():
    probs = ([0.0] * 5 + [0.9] * 30 + [0.0] * 20) * 2
    for fail in (False, True):
        p, events = make_pipeline(LengthTranscriber(fail_align=fail), ScriptedVad(probs))
        p.config = replace(p.config, asr=replace(p.config.asr, word_timestamps=True))
        p.run(ArraySource(silence(len(probs))), realtime=False)
        finals = [e for e in events if isinstance(e, Final)]
        assert [f.segment_id for f in finals] == [1, 2]
        for f in finals:
            if fail:
                assert f.words == ()
            else:
                (word,) = f.words
                assert word.text == f.text
                assert word.start == round(f.start + 0.1, 3)
                assert word.end == round(f.end - 0.1, 3)


class SentenceTranscriber:
    """Whisper as issue 8 saw it: "Try again." alone comes back "Pry again.", together with the
    sentence before it comes back right (the revision window: both segments and the pause)."""

    options = AsrOptions()

    def __init__(self, window: int, window_text: str = "Fail again. Try again.") -> None:
        self.window = window
        self.window_text = window_text
        self.calls: list[int] = []
        self.aligned: list[str] = []

    def transcribe(
        self, audio, *, language=None, final=True, partial=False, session_languages=(), stop=None
    ):
        n = len(audio)
        self.calls.append(n)
        text = {self.window: self.window_text, 21120: "Fail again."}.get(n, "Pry again.")
        return Hypothesis(text, "en", None, -0.1, 0.0, 1.0, n / SR, 0.0)

    def align(self, audio, text, language=None):
        self.aligned.append(text)
        times = [(0.3, 0.6), (0.7, 1.1), (2.0, 2.3), (2.4, 2.8)]  # the pause is 1.32-1.56 s
        return tuple(Word(t, a, b, 0.9) for t, (a, b) in zip(text.split(), times, strict=False))


# A revision replaces the text of the segment it changed (same id, times and speaker), which is
# translated once more and never spoken again; an unchanged segment gets neither.
def test_a_revised_final_is_translated_again_and_not_spoken_an_unchanged_one_is_left_alone():
    probs = [0.0] * 5 + [0.9] * 30 + [0.0] * 20 + [0.9] * 40 + [0.0] * 60
    speech = FakeSpeech()
    transcriber = SentenceTranscriber(window=95 * WINDOW + 3200)
    p, events = make_pipeline(
        transcriber,
        ScriptedVad(probs),
        speech=speech,
        translator=UpperTranslator(),
        speaker_identifier=FakeIdentifier(),
        revisions=True,
    )
    p.config = replace(p.config, translation=TranslationOptions(target_lang="de"))
    p.run(ArraySource(silence(len(probs))), realtime=False)
    finals = {e.segment_id: e for e in events if isinstance(e, Final)}
    assert {k: f.text for k, f in finals.items()} == {1: "Fail again.", 2: "Pry again."}
    (revised,) = [e for e in events if isinstance(e, FinalRevised)]
    assert (revised.segment_id, revised.text, revised.previous_text) == (
        2,
        "Try again.",
        "Pry again.",
    )
    assert (revised.start, revised.end, revised.speaker, revised.revision) == (
        finals[2].start,
        finals[2].end,
        finals[2].speaker,
        1,
    )
    assert transcriber.calls[-1] == transcriber.window  # one decode of the whole span
    # its words timed, and the old text scored on the same window to judge the change
    assert transcriber.aligned == ["Fail again. Try again.", "Fail again. Pry again."]
    translations = [(e.segment_id, e.text) for e in events if isinstance(e, Translation)]
    assert translations == [(1, "FAIL AGAIN."), (2, "PRY AGAIN."), (2, "TRY AGAIN.")]
    assert events.index(revised) < max(
        i for i, e in enumerate(events) if isinstance(e, Translation)
    )
    assert speech.spoken == [(1, "FAIL AGAIN."), (2, "PRY AGAIN.")]  # never spoken again


def test_a_stop_skips_the_revisions_nobody_waits_for():
    probs = [0.0] * 5 + [0.9] * 30 + [0.0] * 20 + [0.9] * 40 + [0.0] * 60
    transcriber = SentenceTranscriber(window=95 * WINDOW + 3200)
    vad = ScriptedVad(probs)
    p, events = make_pipeline(transcriber, vad, revisions=True)
    score = vad.probability

    def stop_in_the_pause(window):  # Stop pressed 0.2 s after the second utterance
        if vad.i == 101:
            p.stop()
        return score(window)

    vad.probability = stop_in_the_pause
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.text for e in events if isinstance(e, Final)] == ["Fail again.", "Pry again."]
    assert not [e for e in events if isinstance(e, FinalRevised)]
    assert transcriber.window not in transcriber.calls


def test_a_revision_that_changes_no_word_costs_no_alignment():
    probs = [0.0] * 5 + [0.9] * 30 + [0.0] * 20 + [0.9] * 40 + [0.0] * 60
    # the window decodes to the finals' own words, only recased and repunctuated
    window = 95 * WINDOW + 3200
    transcriber = SentenceTranscriber(window, window_text="fail again, pry again")
    p, events = make_pipeline(transcriber, ScriptedVad(probs), revisions=True)
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert transcriber.calls[-1] == transcriber.window  # the revision decode ran
    assert not [e for e in events if isinstance(e, FinalRevised)]
    assert transcriber.aligned == []


def test_lines_in_two_languages_are_not_revised_as_one_window():
    probs = [0.0] * 5 + [0.9] * 30 + [0.0] * 20 + [0.9] * 40 + [0.0] * 60
    transcriber = SentenceTranscriber(window=95 * WINDOW + 3200)
    original = transcriber.transcribe

    def german_second_line(audio, **kwargs):
        hyp = original(audio, **kwargs)
        return replace(hyp, lang="de") if len(audio) not in (21120, transcriber.window) else hyp

    transcriber.transcribe = german_second_line
    p, events = make_pipeline(transcriber, ScriptedVad(probs), revisions=True)
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.lang for e in events if isinstance(e, Final)] == ["en", "de"]
    assert not [e for e in events if isinstance(e, FinalRevised)]
    assert transcriber.window not in transcriber.calls


class BusyTranscriber(SentenceTranscriber):
    """SentenceTranscriber whose revision decode finds a final waiting after its encoder pass
    the first `busy` times (as when someone speaks again meanwhile)."""

    def __init__(self, window: int, busy: int) -> None:
        super().__init__(window)
        self.busy = busy

    def transcribe(
        self, audio, *, language=None, final=True, partial=False, session_languages=(), stop=None
    ):
        if len(audio) == self.window and self.busy:
            assert stop is not None  # a revision decode can always be interrupted
            self.busy -= 1
            self.calls.append(len(audio))
            return Hypothesis("", "en", None, 0.0, 0.0, 0.0, len(audio) / SR, 0.0, 0.0, INTERRUPTED)
        return super().transcribe(audio, language=language, final=final)


# A revision decode gives way to a final that arrives meanwhile and runs again after it;
# interrupted too often, it is given up and the lines keep their first text.
@pytest.mark.parametrize(("busy", "revised"), [(1, True), (REVISION_TRIES, False)])
def test_an_interrupted_revision_runs_again_after_the_final(busy, revised):
    probs = [0.0] * 5 + [0.9] * 30 + [0.0] * 20 + [0.9] * 40 + [0.0] * 60
    transcriber = BusyTranscriber(window=95 * WINDOW + 3200, busy=busy)
    p, events = make_pipeline(transcriber, ScriptedVad(probs), revisions=True)
    p.run(ArraySource(silence(len(probs))), realtime=False)
    assert [e.text for e in events if isinstance(e, Final)] == ["Fail again.", "Pry again."]
    tries = transcriber.calls.count(transcriber.window)
    assert tries == (busy + 1 if revised else REVISION_TRIES)
    assert [e.text for e in events if isinstance(e, FinalRevised)] == (
        ["Try again."] if revised else []
    )


def test_only_a_waiting_final_or_speculative_decode_interrupts_a_revision():
    recogniser = Recogniser(SentenceTranscriber(1), emit=lambda e: None, on_final=lambda f, a: None)
    audio = np.zeros(16_000, np.float32)
    assert not recogniser._final_waits()
    recogniser.submit(DecodeJob("partial", 1, audio, 0, len(audio)))
    assert not recogniser._final_waits()  # a partial can wait for the revision
    recogniser.submit(DecodeJob("speculative", 1, audio, 0, len(audio)))
    assert recogniser._final_waits()
    recogniser.submit(DecodeJob("final", 1, audio, 0, len(audio)))
    assert recogniser._final_waits()


class ScoredTranscriber(SentenceTranscriber):
    """SentenceTranscriber whose live decodes score `logprob` (the window's stays confident)."""

    def __init__(self, window: int, logprob: float) -> None:
        super().__init__(window)
        self.logprob = logprob

    def transcribe(
        self, audio, *, language=None, final=True, partial=False, session_languages=(), stop=None
    ):
        hyp = super().transcribe(audio, language=language, final=final)
        return hyp if len(audio) == self.window else replace(hyp, avg_logprob=self.logprob)


# Two long lines (2.2 s each): decoded confidently, the revision pass is not worth its encoder
# window and is skipped; decoded doubtfully, the same lines are re-decoded and revised.
@pytest.mark.parametrize(("logprob", "revised"), [(-0.2, False), (-0.6, True)])
def test_a_pass_whose_lines_are_all_long_and_confident_is_skipped(logprob, revised):
    probs = [0.0] * 5 + [0.9] * 70 + [0.0] * 20 + [0.9] * 70 + [0.0] * 60
    transcriber = ScoredTranscriber(window=165 * WINDOW + 3200, logprob=logprob)
    p, events = make_pipeline(transcriber, ScriptedVad(probs), revisions=True)
    p.run(ArraySource(silence(len(probs))), realtime=False)
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 2
    assert {f.avg_logprob for f in finals} == {logprob}
    assert (transcriber.window in transcriber.calls) is revised
    assert bool([e for e in events if isinstance(e, FinalRevised)]) is revised


# A lone short line is where a revision wins most: it is revised however confident it was.
def test_a_short_confident_line_is_still_revised():
    probs = [0.0] * 5 + [0.9] * 30 + [0.0] * 20 + [0.9] * 40 + [0.0] * 60
    transcriber = ScoredTranscriber(window=95 * WINDOW + 3200, logprob=-0.05)
    p, events = make_pipeline(transcriber, ScriptedVad(probs), revisions=True)
    p.run(ArraySource(silence(len(probs))), realtime=False)
    (revised,) = [e for e in events if isinstance(e, FinalRevised)]
    assert (revised.previous_text, revised.text) == ("Pry again.", "Try again.")
