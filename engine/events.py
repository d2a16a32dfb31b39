"""Events the engine emits. Every event is a small frozen dataclass.

Times: `start`/`end` are seconds in the source audio; every `*_at` field is a `time.monotonic()`
stamp taken when a stage finished, so per-stage latency is always observable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Stage(StrEnum):
    """Where something happened: the one vocabulary for failures and backends."""

    LOAD = "load"  # loading models before a run
    AUDIO = "audio"  # the input source (file or capture device)
    VAD = "vad"
    ASR = "asr"
    SPEAKER = "speaker"
    NMT = "nmt"  # translation
    TTS = "tts"  # speech synthesis
    PLAYBACK = "playback"  # the speech output device


FinishReason = Literal["end", "stopped", "error"]


@dataclass(frozen=True, slots=True)
class StageTimes:
    """Monotonic stamps of one utterance's trip through the stages (None = stage not run)."""

    audio_end_at: float | None = None  # when the last audio sample of the segment was received
    vad_end_at: float | None = None  # when the VAD declared the end of the segment
    asr_start_at: float | None = None  # when the decode that produced this text started
    asr_done_at: float | None = None  # when that decode finished
    speaker_done_at: float | None = None
    translation_done_at: float | None = None
    synthesis_start_at: float | None = None
    synthesis_done_at: float | None = None
    playback_start_at: float | None = None
    emitted_at: float | None = None  # when the event left the engine

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The VAD heard speech begin (segment `segment_id`)."""

    segment_id: int
    start: float
    at: float
    type: str = field(default="speech_started", init=False)


@dataclass(frozen=True, slots=True)
class Partial:
    """A provisional hypothesis for a growing segment.

    `committed` is the stable prefix (local agreement): across successive partials of one segment
    it only ever grows. `tentative` may still change. `text` is both joined. The segment's
    `Final` is decoded afresh and may correct committed words.
    """

    segment_id: int
    start: float
    end: float
    committed: str
    tentative: str
    lang: str | None
    times: StageTimes
    speaker: str | None = None
    type: str = field(default="partial", init=False)

    @property
    def text(self) -> str:
        return " ".join(p for p in (self.committed, self.tentative) if p)


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a final with its timing (seconds in the source) and the decoder's mean
    probability of its tokens. Only present when word timestamps are switched on."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class Final:
    """The transcript of one segment, decoded whole (it replaces the segment's partial line).
    Its text changes afterwards only through a `FinalRevised` with the same `segment_id`."""

    segment_id: int
    start: float
    end: float
    text: str
    lang: str | None
    times: StageTimes
    speaker: str | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    words: tuple[Word, ...] = ()  # word timings, when AsrOptions.word_timestamps is on
    type: str = field(default="final", init=False)


@dataclass(frozen=True, slots=True)
class FinalRevised:
    """A better transcript of an already emitted `Final`, from re-decoding it together with its
    neighbours once a longer pause gave the whole sentence or paragraph.

    It replaces the text of `segment_id` (same segment, same times); `revision` counts the
    revisions of that segment from 1. Its translation is redone (a new `Translation` for the same
    segment); speech already spoken is not spoken again.
    """

    segment_id: int
    start: float
    end: float
    text: str
    previous_text: str
    lang: str | None
    times: StageTimes
    speaker: str | None = None
    revision: int = 1
    words: tuple[Word, ...] = ()
    type: str = field(default="final_revised", init=False)


@dataclass(frozen=True, slots=True)
class SegmentDiscarded:
    """A segment that showed partials ended without a final (too short, or its text was
    rejected as non-speech / hallucination / our own echo): withdraw its partial line."""

    segment_id: int
    reason: str
    type: str = field(default="discarded", init=False)


@dataclass(frozen=True, slots=True)
class Translation:
    """The translation of one final segment (emitted after its `Final`, in segment order)."""

    segment_id: int
    start: float
    end: float
    source_text: str
    source_lang: str | None
    text: str
    target_lang: str
    speaker: str | None
    model: str
    quality_metrics: dict[str, float]
    times: StageTimes
    type: str = field(default="translation", init=False)


@dataclass(frozen=True, slots=True)
class SpeechOutput:
    """Synthesised speech of one segment started playing / was written (speech timing)."""

    segment_id: int
    text: str
    lang: str
    voice: str
    duration: float
    times: StageTimes
    skipped: bool = False
    type: str = field(default="speech", init=False)


@dataclass(frozen=True, slots=True)
class SpeakerChanged:
    """A speaker label was created or renamed (e.g. S2 -> "Alice")."""

    old_label: str | None
    new_label: str
    type: str = field(default="speaker_changed", init=False)


@dataclass(frozen=True, slots=True)
class InputLost:
    """The chosen capture device vanished (unplugged, or its module unloaded) and the sound
    server moved the stream elsewhere.

    `device`/`label`: the chosen source and its human name; `moved_to`/`moved_to_label`: where
    the server put the stream (None: nowhere). `following`: True when capture goes on from
    `moved_to` (AudioOptions.when_input_lost = "follow"); False when nothing is captured until
    the device returns ("wait"), the session going on. An `InputRestored` follows when it does.
    `at_start`: the device was already absent when capture started (e.g. a restart while it
    was away): `moved_to` is then the server's default source when following, else None.
    """

    device: str
    label: str
    moved_to: str | None
    moved_to_label: str | None
    following: bool
    at: float
    at_start: bool = False
    type: str = field(default="input_lost", init=False)


@dataclass(frozen=True, slots=True)
class InputRestored:
    """The chosen capture device is back and capture comes from it again."""

    device: str
    label: str
    at: float
    type: str = field(default="input_restored", init=False)


@dataclass(frozen=True, slots=True)
class Stats:
    """Periodic health figures of the running engine."""

    at: float
    source_time: float  # seconds of audio consumed so far
    input_level_db: float
    dropped_blocks: int
    asr_backlog_s: float  # audio waiting for the recogniser
    translation_backlog: int  # sentences waiting for translation
    speech_backlog: int  # utterances waiting for synthesis / playback
    real_time_factor: float | None  # decode seconds per audio second of the last decode
    stage_backends: dict[str, str] = field(default_factory=dict)  # Stage value -> "local"...
    type: str = field(default="stats", init=False)


@dataclass(frozen=True, slots=True)
class StageFailure:
    """A stage failed; the engine goes on without that result (or, when `fatal`, this is the
    last word before `Finished`). `message` is written for people."""

    message: str
    stage: Stage
    fatal: bool = False
    at: float = 0.0
    type: str = field(default="error", init=False)


@dataclass(frozen=True, slots=True)
class Finished:
    """The source is exhausted or the engine was stopped; every final was emitted."""

    at: float
    reason: FinishReason = "end"
    type: str = field(default="finished", init=False)


Event = (
    SpeechStarted
    | Partial
    | Final
    | FinalRevised
    | SegmentDiscarded
    | Translation
    | SpeechOutput
    | SpeakerChanged
    | InputLost
    | InputRestored
    | Stats
    | StageFailure
    | Finished
)


def event_to_dict(event: Any) -> dict[str, Any]:
    """JSON-ready dict of an event (nested dataclasses flattened to dicts)."""
    data = dataclasses.asdict(event)
    if "times" in data and data["times"] is not None:
        data["times"] = {k: v for k, v in data["times"].items() if v is not None}
    return data
