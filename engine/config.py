"""Options of every stage: one documented frozen dataclass per stage, defaults in code.

`EngineConfig` groups them; the GUI persists it as TOML (see `to_dict`/`from_dict`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.errors import ConfigError

AsrTask = Literal["transcribe", "translate"]
AsrDevice = Literal["cpu", "cuda", "auto"]
TranslationBackend = Literal["m2m100", "nllb", "ctranslate2", "whisper", "remote"]
SpeakerMode = Literal["auto", "off"]
StageBackend = Literal["local", "remote"]
EchoGuardPolicy = Literal["mute-capture", "correlate", "off"]
InputLostPolicy = Literal["wait", "follow"]


@dataclass(frozen=True)
class VadOptions:
    """Silero VAD segmentation.

    threshold: speech probability above which a 32 ms window counts as speech.
    neg_threshold: probability below which a window counts as silence (hysteresis);
        None means threshold - 0.15.
    min_speech_ms: shorter bursts are dropped (clicks, coughs).
    min_silence_ms: silence needed to close a segment.
    speech_pad_ms: audio kept before the start and after the end of a segment.
    max_segment_s: a longer segment is split at the quietest point near this length.
    revise_pause_ms: silence after the last final (from the end of its speech) after which the
        finals since the previous revision are re-decoded together as one window (revisions,
        see AsrOptions.revisions). On the bench corpus the WER after revisions was 0.043 with 800
        and 1200 ms, 0.043-0.051 with 1000 ms, and no final waited for a revision; 800 ms
        revises soonest (median 1.2 s after the acoustic end; 1.4-1.6 s and 1.6 s).
    revise_max_s: at most this much audio per revision: a paragraph without such a pause is
        revised when its finals would reach this length (the encoder cost grows steeply past
        20 s: ~0.36 s for a 20 s window, ~1.1 s for 30 s on 2 cores).
    """

    threshold: float = 0.5
    neg_threshold: float | None = None
    min_speech_ms: int = 250
    min_silence_ms: int = 400
    speech_pad_ms: int = 200
    max_segment_s: float = 15.0
    revise_pause_ms: int = 800
    revise_max_s: float = 20.0


@dataclass(frozen=True)
class AsrOptions:
    """faster-whisper streaming recogniser.

    model: a faster-whisper size name ("base", "tiny.en", ...), a catalogue id, or a local
        CTranslate2 directory; "default" = the offline multilingual Whisper base.
    language: None = auto-detect per segment; else a Whisper language code.
    task: "transcribe" or "translate" (Whisper's own X->English).
    partial_interval_s: cadence of partial hypotheses while a segment grows.
    cpu_threads: CTranslate2 intra-op threads (explicit budget).
    beam_size: beam of final (and speculative-final) decodes; partials are always greedy.
        3 cut the WER on the shared clips from 0.094 to 0.062 for ~30 ms per decode.
    Hallucination guards: no_speech_threshold, log_prob_threshold, compression_ratio_threshold,
    the repetition check and the blocklist are on by default.
    word_timestamps: time every word of a final (the decoder's cross-attention alignment, as
        faster-whisper does); costs one more encoder pass per final, so it is off by default.
    revisions: once a longer pause (VadOptions.revise_pause_ms) ends a sentence or paragraph,
        re-decode its finals together as one window (with each other as context) and emit a
        `FinalRevised` for every final whose text changed. Costs one decode and one alignment
        of up to VadOptions.revise_max_s of audio per paragraph, run only when no live decode
        waits.
    """

    model: str = "default"
    language: str | None = None
    task: AsrTask = "transcribe"
    device: AsrDevice = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 3
    partial_interval_s: float = 0.6
    partials: bool = True
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    hallucination_guard: bool = True
    initial_prompt: str | None = None
    word_timestamps: bool = False
    revisions: bool = True


@dataclass(frozen=True)
class TranslationOptions:
    """Machine translation of final text.

    target_lang: None = no translation. backend: "m2m100", "nllb" (ONNX Runtime, or CTranslate2
        when the model is a CTranslate2 export), "ctranslate2", "whisper" or "remote".
    model: catalogue id or local directory of an ONNX or CTranslate2 export.
    quantized: int8 (ONNX: the *_quantized files; CTranslate2: compute type int8), fp32 when
        False; None = fp32 when the ONNX export has it, else int8 / CTranslate2's stored type.
    cpu_threads: intra-op threads (onnxruntime per session, CTranslate2 intra_threads).
    inter_threads: CTranslate2 translations run in parallel (onnxruntime inter-op is always 1).
    max_length_ratio: loop guard: a sentence's translation stops after ratio x its source
        tokens + 10 (None = only max_length, the reference behaviour).
    """

    target_lang: str | None = None
    backend: TranslationBackend = "m2m100"
    model: str | None = None
    beam_size: int = 1
    max_length: int = 200
    quantized: bool | None = None
    cpu_threads: int = 2
    inter_threads: int = 1
    max_length_ratio: float | None = 3.0
    remote_url: str = "http://127.0.0.1:5008"
    remote_timeout_s: float = 5.0
    remote_token: str = ""  # bearer token of the service ("" = none)
    # When the service fails: "local" = the local model if installed or named (else Whisper's
    # own translation when the target is English, else keep the original); "error" = no fallback.
    remote_fallback: str = "local"


@dataclass(frozen=True)
class SpeakerOptions:
    """Speaker identification: "auto" clusters anonymous speakers and matches enrolled ones.

    Thresholds are cosine similarities of Resemblyzer embeddings (same person on 1-3 s clips:
    ~0.71-0.9; different people: ~0.45-0.67 on the test clips). See engine/speakers/clustering.py.
    """

    mode: SpeakerMode = "auto"
    backend: StageBackend = "local"
    match_threshold: float = 0.75  # cosine similarity to accept an enrolled speaker
    new_speaker_threshold: float = 0.70  # below this to every session speaker -> new speaker
    min_segment_s: float = 1.0  # shorter segments only join the nearest speaker
    short_segment_threshold: float = 0.70  # ... when at least this similar, else:
    # ... the previous segment's speaker (the same turn) when at least this similar to it (short
    # real and synthetic lines: own speaker 0.57-0.90, others up to 0.63 on the shared clips)
    continuation_threshold: float = 0.65
    continuation_margin: float = 0.0  # ... and no other speaker is more similar by more than this
    cpu_threads: int = 1  # ONNX Runtime intra-op threads of the voice encoder
    remote_url: str = "http://127.0.0.1:5003"
    remote_timeout_s: float = 3.0
    remote_token: str = ""  # bearer token of the service ("" = none)
    remote_fallback: str = "local"  # "local" encoder when the service fails, or "error"


@dataclass(frozen=True)
class SpeechOptions:
    """Synthesis (Piper) and playback of the translated (or original) text.

    enabled: synthesise at all. play: send to the output device. echo_guard: "mute-capture"
    (ignore microphone while speaking), "correlate" (drop segments matching played audio) or "off".
    max_lag_s: when speech output falls further behind the source, pauses shrink then stale
    utterances are skipped (subtitles never are).
    """

    enabled: bool = False
    play: bool = False
    voice: str | None = None  # catalogue id / path; None = the default voice of the language
    length_scale: float = 1.0  # >1 slower, <1 faster
    per_speaker_voices: bool = False
    output_device: str | None = None
    volume: float = 1.0
    echo_guard: EchoGuardPolicy = "mute-capture"
    max_lag_s: float = 8.0
    backend: StageBackend = "local"
    remote_url: str = "http://127.0.0.1:5005"
    remote_timeout_s: float = 10.0
    remote_token: str = ""  # bearer token of the service ("" = none)
    remote_api: str = "tts"  # "tts" (Piper's POST /tts) or "synthesize" (the seed's, port 5004)
    remote_fallback: str = "local"  # "local" Piper when the service fails, or "error"
    # lang -> voice path/id, or a list of them (distinct voices per speaker); "<voice>#<speaker>"
    # picks one speaker of a multi-speaker voice.
    voices: dict[str, str | list[str]] = field(default_factory=dict)
    cpu_threads: int = 1  # onnxruntime intra-op threads of each Piper voice
    echo_tail_s: float = 0.3  # mute-capture keeps ignoring the capture this long after speech
    echo_threshold: float = 0.5  # correlate: normalised correlation that marks a segment as echo
    output_sample_rate: int = 48_000


@dataclass(frozen=True)
class AudioOptions:
    """Capture. device: None = default input; queue_blocks bounds the capture queue.

    when_input_lost: what to do when the chosen device vanishes and the sound server moves the
        stream to another source (possibly a speaker monitor: Dragoman would hear itself).
        "wait": capture nothing, keep the session, reconnect when the device returns;
        "follow": go on capturing from the source the server chose, and go back to the chosen
        device when it returns.
    wait_for_absent_input: a chosen input that is not connected when capture starts is waited
        for as if it had just vanished (the app: the choice was saved while it was connected);
        False makes it an error that names the inputs there are (the command line, where an
        unknown name is more likely a typo than a device that is about to come back).
    """

    device: str | None = None
    block_ms: int = 32
    queue_blocks: int = 512
    when_input_lost: InputLostPolicy = "wait"
    wait_for_absent_input: bool = True


@dataclass(frozen=True)
class EngineConfig:
    """Every stage's options. Build it in code and call `validate()`, or load a (possibly
    hand-edited, possibly older) dict with `parse_config`, which keeps every valid setting."""

    audio: AudioOptions = field(default_factory=AudioOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    asr: AsrOptions = field(default_factory=AsrOptions)
    speakers: SpeakerOptions = field(default_factory=SpeakerOptions)
    translation: TranslationOptions = field(default_factory=TranslationOptions)
    speech: SpeechOptions = field(default_factory=SpeechOptions)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineConfig:
        """`parse_config(data).config`: invalid or unknown entries fall back to defaults."""
        return parse_config(data).config

    def problems(self) -> list[ConfigProblem]:
        """Every invalid value and every combination that cannot work."""
        found: list[ConfigProblem] = []
        for section in dataclasses.fields(self):
            options = getattr(self, section.name)
            for f in dataclasses.fields(options):
                problem = _check_value(type(options), f.name, getattr(options, f.name))
                if problem:
                    found.append(ConfigProblem(f"{section.name}.{f.name}", problem))
        found.extend(_combination_problems(self))
        return found

    def validate(self) -> EngineConfig:
        """Self, or a ConfigError naming every problem."""
        found = self.problems()
        if found:
            raise ConfigError("Invalid settings: " + "; ".join(str(p) for p in found))
        return self


@dataclass(frozen=True)
class ConfigProblem:
    """One setting that was not valid: `key` is "section.name" (as in settings.toml)."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass(frozen=True)
class ParsedConfig:
    """A config loaded from a dict, and what was wrong in it (those settings kept defaults)."""

    config: EngineConfig
    problems: tuple[ConfigProblem, ...] = ()


# Ranges of numeric settings: (minimum, maximum); None = unbounded on that side.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "threshold": (0.0, 1.0),
    "neg_threshold": (0.0, 1.0),
    "min_speech_ms": (0, None),
    "min_silence_ms": (32, None),
    "speech_pad_ms": (0, None),
    "max_segment_s": (1.0, None),
    "revise_pause_ms": (100, None),
    "revise_max_s": (2.0, 28.0),
    "cpu_threads": (1, None),
    "beam_size": (1, None),
    "partial_interval_s": (0.1, None),
    "no_speech_threshold": (0.0, 1.0),
    "max_length": (1, None),
    "max_length_ratio": (0.1, None),
    "remote_timeout_s": (0.01, None),
    "match_threshold": (-1.0, 1.0),
    "new_speaker_threshold": (-1.0, 1.0),
    "short_segment_threshold": (-1.0, 1.0),
    "continuation_threshold": (-1.0, 1.0),
    "continuation_margin": (0.0, 2.0),
    "min_segment_s": (0.0, None),
    "length_scale": (0.1, 10.0),
    "volume": (0.0, 4.0),
    "max_lag_s": (0.0, None),
    "echo_tail_s": (0.0, None),
    "echo_threshold": (0.0, 1.0),
    "output_sample_rate": (8000, 192_000),
    "block_ms": (1, 1000),
    "queue_blocks": (1, None),
}


def parse_config(data: Mapping[str, Any]) -> ParsedConfig:
    """Build from a (possibly partial, possibly older, possibly hand-edited) dict.

    Unknown sections and keys are ignored (older or newer files); a value of the wrong type or
    out of range is reported as a problem and that one setting keeps its default, so one typo
    never costs the others. A combination that cannot work is reported too."""
    problems: list[ConfigProblem] = []
    sections: dict[str, Any] = {}
    defaults = EngineConfig()
    for section in dataclasses.fields(EngineConfig):
        default = getattr(defaults, section.name)
        raw = data.get(section.name) if isinstance(data, Mapping) else None
        if raw is None:
            sections[section.name] = default
            continue
        if not isinstance(raw, Mapping):
            problems.append(ConfigProblem(section.name, "must be a table of settings"))
            sections[section.name] = default
            continue
        values: dict[str, Any] = {}
        for f in dataclasses.fields(default):
            if f.name not in raw:
                continue
            value = _coerce(type(default), f.name, raw[f.name])
            problem = _check_value(type(default), f.name, value)
            if problem:
                problems.append(ConfigProblem(f"{section.name}.{f.name}", problem))
            else:
                values[f.name] = value
        sections[section.name] = dataclasses.replace(default, **values)
    config = EngineConfig(**sections)
    problems.extend(_combination_problems(config))
    return ParsedConfig(config, tuple(problems))


def _coerce(cls: type, name: str, value: Any) -> Any:
    """TOML has no tuples and writes whole floats as ints: accept an int for a float."""
    hint = typing.get_type_hints(cls)[name]
    members = _members(hint)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if is_int and float in members and int not in members:
        return float(value)
    return value


def _members(hint: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _check_value(cls: type, name: str, value: Any) -> str | None:
    """Why `value` is not valid for field `name` of options class `cls` (None when it is)."""
    hint = typing.get_type_hints(cls)[name]
    if not _matches(hint, value):
        return f"{value!r} is not {_describe(hint)}"
    bounds = _RANGES.get(name)
    if bounds is not None and isinstance(value, int | float) and not isinstance(value, bool):
        low, high = bounds
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                return f"must be at least {low}, not {value!r}"
            return f"must be between {low} and {high}, not {value!r}"
    return None


def _matches(hint: Any, value: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(arg, value) for arg in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, float | int) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is dict:
        key_type, value_type = typing.get_args(hint)
        return isinstance(value, dict) and all(
            _matches(key_type, k) and _matches(value_type, v) for k, v in value.items()
        )
    if origin is list:
        (item_type,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(item_type, v) for v in value)
    return isinstance(value, hint) if isinstance(hint, type) else True


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(hint))
    if hint is type(None):
        return "empty"
    if origin is dict:
        return "a table"
    if origin is list:
        return "a list"
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _combination_problems(config: EngineConfig) -> list[ConfigProblem]:
    """Settings that are each valid but cannot work together."""
    found = []
    tr = config.translation
    if tr.backend == "whisper" and tr.target_lang:
        if tr.target_lang != "en":
            found.append(
                ConfigProblem(
                    "translation.target_lang",
                    f"Whisper can only translate into English, not {tr.target_lang!r}: "
                    "choose the M2M100 or NLLB translator for other languages",
                )
            )
        if config.asr.task != "translate":
            found.append(
                ConfigProblem(
                    "asr.task",
                    "Whisper's own translation needs the recogniser's task set to 'translate'",
                )
            )
    return found
