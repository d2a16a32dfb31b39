"""Local synthesis with Piper (piper-tts 1.8) voices run by onnxruntime.

Voices are loaded once per (file, thread budget), cached for the process and warmed up; the
onnxruntime session gets an explicit intra/inter-op thread budget (`SpeechOptions.cpu_threads`),
which `PiperVoice.load` does not offer, so the session is built here.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import SpeechOptions
from engine.errors import ConfigError, ModelError
from engine.ort_session import session_options
from engine.sentences import split_sentences
from engine.tts.base import SpeechChunk
from engine.tts.voices import VoiceFile, find_voice, split_ref, voices_for_lang

log = logging.getLogger(__name__)

_CACHE: dict[tuple[Path, int], Any] = {}
_CACHE_LOCK = threading.Lock()


def _import_piper() -> tuple[Any, Any, Any]:
    try:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ModelError(
            "Local speech synthesis needs the piper-tts package: `pip install piper-tts==1.8.0`."
        ) from exc
    return onnxruntime, PiperVoice, PiperConfig


def load_voice(voice: VoiceFile, threads: int = 1) -> Any:
    """The `piper.PiperVoice` for `voice`, loaded once per process and warmed up."""
    key = (voice.model.resolve(), max(1, int(threads)))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        onnxruntime, piper_voice_cls, piper_config_cls = _import_piper()
        started = time.monotonic()
        try:
            config = piper_config_cls.from_dict(json.loads(voice.config.read_text("utf-8")))
            session = onnxruntime.InferenceSession(
                str(voice.model),
                sess_options=session_options(key[1]),
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # onnxruntime raises several unrelated types
            raise ModelError(f"Cannot load Piper voice {voice.model}: {exc}") from exc
        loaded = piper_voice_cls(session=session, config=config)
        try:  # warm-up: the first run pays for allocations and kernel selection
            for _ in loaded.synthesize("Ready."):
                pass
        except Exception as exc:
            raise ModelError(f"Piper voice {voice.model} fails to synthesise: {exc}") from exc
        log.info("loaded Piper voice %s in %.2f s", voice.model.name, time.monotonic() - started)
        _CACHE[key] = loaded
        return loaded


def speaker_index(voice: VoiceFile, speaker: str | None) -> int | None:
    """'#3' or '#name' of a multi-speaker voice -> speaker id (None for single-speaker)."""
    if speaker is None or voice.num_speakers <= 1:
        return None
    if speaker.isdigit():
        index = int(speaker)
    elif speaker in voice.speakers:
        index = voice.speakers.index(speaker)
    else:
        raise ConfigError(
            f"Voice {voice.model.name} has no speaker {speaker!r} "
            f"(it has {voice.num_speakers} speakers, e.g. {', '.join(voice.speakers[:5])})."
        )
    if not 0 <= index < voice.num_speakers:
        raise ConfigError(
            f"Voice {voice.model.name} has speakers 0..{voice.num_speakers - 1}, not {index}."
        )
    return index


class PiperSynthesizer:
    """`Synthesizer` on local Piper voices (one voice per target language)."""

    backend_in_use = "local"

    def __init__(self, options: SpeechOptions | None = None) -> None:
        self.options = options or SpeechOptions()
        if self.options.length_scale <= 0:
            raise ConfigError("Speaking rate (length_scale) must be greater than 0.")
        self._speaker_slots: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def warm_up(self, lang: str) -> None:
        """Load (and warm) the voice of `lang` now instead of on the first sentence."""
        base, _ = split_ref(voices_for_lang(self.options, lang)[0])
        load_voice(find_voice(base), self.options.cpu_threads)

    def close(self) -> None:
        """Nothing to release: loaded voices stay cached for the process (loading costs)."""

    def voice_for_speaker(self, lang: str, speaker: str | None) -> str | None:
        if not self.options.per_speaker_voices or speaker is None:
            return None
        candidates = self._speaker_candidates(lang)
        if len(candidates) <= 1:
            return None
        with self._lock:
            key = (lang, speaker)
            if key not in self._speaker_slots:
                used = sum(1 for (lng, _) in self._speaker_slots if lng == lang)
                self._speaker_slots[key] = used
            return candidates[self._speaker_slots[key] % len(candidates)]

    def _speaker_candidates(self, lang: str) -> list[str]:
        refs = voices_for_lang(self.options, lang)
        if len(refs) == 1:
            base, speaker = split_ref(refs[0])
            voice = find_voice(base)
            if speaker is None and voice.num_speakers > 1:
                return [f"{base}#{i}" for i in range(voice.num_speakers)]
        return refs

    def synthesize(self, text: str, lang: str, voice: str | None = None) -> Iterator[SpeechChunk]:
        from piper.config import SynthesisConfig

        ref = voice or voices_for_lang(self.options, lang)[0]
        base, speaker = split_ref(ref)
        voice_file = find_voice(base)
        piper_voice = load_voice(voice_file, self.options.cpu_threads)
        syn_config = SynthesisConfig(
            speaker_id=speaker_index(voice_file, speaker),
            length_scale=piper_voice.config.length_scale * self.options.length_scale,
        )
        rate = int(piper_voice.config.sample_rate)
        for index, sentence in enumerate(split_sentences(text)):
            pieces = [c.audio_float_array for c in piper_voice.synthesize(sentence, syn_config)]
            if not pieces:
                continue
            samples = np.ascontiguousarray(np.concatenate(pieces), dtype=np.float32)
            yield SpeechChunk(
                samples=samples, sample_rate=rate, text=sentence, index=index, voice=ref
            )
