"""Options of every stage: one documented frozen dataclass per stage, defaults in code.

`EngineConfig` groups them; the GUI persists it as TOML (see `to_dict`/`from_dict`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


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
    """

    threshold: float = 0.5
    neg_threshold: float | None = None
    min_speech_ms: int = 250
    min_silence_ms: int = 400
    speech_pad_ms: int = 200
    max_segment_s: float = 15.0


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
    """

    model: str = "default"
    language: str | None = None
    task: str = "transcribe"
    device: str = "cpu"
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
    backend: str = "m2m100"
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

    mode: str = "auto"  # "auto" | "off"
    backend: str = "local"  # "local" | "remote"
    match_threshold: float = 0.75  # cosine similarity to accept an enrolled speaker
    new_speaker_threshold: float = 0.70  # below this to every session speaker -> new speaker
    min_segment_s: float = 1.0  # shorter segments only join the nearest speaker
    short_segment_threshold: float = 0.70  # ... when at least this similar, else label None
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
    echo_guard: str = "mute-capture"
    max_lag_s: float = 8.0
    backend: str = "local"  # "local" | "remote"
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
    """Capture. device: None = default input; queue_blocks bounds the capture queue."""

    device: str | None = None
    block_ms: int = 32
    queue_blocks: int = 512


@dataclass(frozen=True)
class EngineConfig:
    audio: AudioOptions = field(default_factory=AudioOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    asr: AsrOptions = field(default_factory=AsrOptions)
    speakers: SpeakerOptions = field(default_factory=SpeakerOptions)
    translation: TranslationOptions = field(default_factory=TranslationOptions)
    speech: SpeechOptions = field(default_factory=SpeechOptions)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        """Build from a (possibly partial, possibly older) dict; unknown keys are ignored."""
        kwargs = {}
        defaults = cls()
        for f in dataclasses.fields(cls):
            section = data.get(f.name)
            default = getattr(defaults, f.name)
            if isinstance(section, dict):
                known = {x.name for x in dataclasses.fields(default)}
                default = dataclasses.replace(
                    default, **{k: v for k, v in section.items() if k in known}
                )
            kwargs[f.name] = default
        return cls(**kwargs)
