"""The translation stage of the pipeline: one final in, its `Translation` out.

A final is split into sentences (`engine.sentences`) and every sentence is translated exactly
once, in order. Backends: a `Translator` (local ONNX, remote service, ...) or, for "whisper",
nothing at all: the recogniser already produced English text (AsrOptions.task="translate").
When a remote translator fails with no local model to fall back on and the target is English,
`whisper_fallback` (Whisper's own X->English on the final's audio) translates instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from engine.config import TranslationOptions
from engine.errors import ConfigError, RemoteServiceError
from engine.events import Final, FinalRevised, Translation
from engine.sentences import split_sentences
from engine.translate.base import Translator

log = logging.getLogger(__name__)

# Whisper's own translation of a final's audio (16 kHz mono) spoken in `lang` into English.
WhisperFallback = Callable[[Any, str | None], str]
WHISPER_FALLBACK = "whisper (remote down)"

# Scripts written without spaces between sentences.
UNSPACED_TARGETS = frozenset({"zh", "ja", "th", "lo", "my", "km", "yue"})


class TranslationStage:
    """Translates finals into `options.target_lang` (see the module doc).

    source_language: the language finals are in when their own `lang` is unknown (the ASR's
    fixed language, else English).
    """

    def __init__(
        self,
        options: TranslationOptions,
        translator: Translator | None,
        *,
        source_language: str | None = None,
        whisper_fallback: WhisperFallback | None = None,
    ) -> None:
        if not options.target_lang:
            raise ConfigError("The translation stage needs a target language.")
        if options.backend != "whisper" and translator is None:
            raise ConfigError(f"The {options.backend} translation backend needs a translator.")
        self.options = options
        self.target = options.target_lang
        self.translator = translator
        self.source_language = source_language
        self.whisper_fallback = whisper_fallback if self.target == "en" else None
        self._whisper_in_use = False

    @property
    def backend_in_use(self) -> str:
        if self.options.backend == "whisper":
            return "whisper"
        live = getattr(self.translator, "backend_in_use", None)  # a remote client says itself
        if isinstance(live, str):
            return WHISPER_FALLBACK if self._whisper_in_use and live != "remote" else live
        return "remote" if self.options.backend == "remote" else "local"

    def sentence_count(self, final: Final | FinalRevised) -> int:
        return len(split_sentences(final.text))

    def translate(self, final: Final | FinalRevised, audio: Any = None) -> Translation | None:
        """The translation of `final` (None when it has no sentence to translate); a revised
        final gets a new `Translation` of its new text for the same segment.

        audio: the final's samples, for the Whisper fallback (see the module doc)."""
        if self.options.backend == "whisper":
            text, model = final.text, "whisper-translate"
            metrics = {"avg_logprob": getattr(final, "avg_logprob", None) or 0.0}
        else:
            sentences = split_sentences(final.text)
            if not sentences:
                return None
            source = final.lang or self.source_language or "en"
            if source == self.target:
                texts, metrics, model = sentences, {}, "identity"
            else:
                assert self.translator is not None
                try:
                    results = self.translator.translate(sentences, source, self.target)
                    self._whisper_in_use = False
                except RemoteServiceError as exc:
                    if self.whisper_fallback is None or audio is None:
                        raise
                    if not self._whisper_in_use:
                        log.warning("%s Whisper translates into English instead.", exc)
                    self._whisper_in_use = True
                    english = self.whisper_fallback(audio, final.lang or self.source_language)
                    results = []
                    texts, model, metrics = [english.strip()], "whisper-translate", {}
                else:
                    texts = [r.text for r in results]
                    model = results[0].model if results else ""
                    metrics = _mean_metrics([r.quality_metrics for r in results])
            text = ("" if self.target in UNSPACED_TARGETS else " ").join(texts)
        return Translation(
            segment_id=final.segment_id,
            start=final.start,
            end=final.end,
            source_text=final.text,
            source_lang=final.lang,
            text=text,
            target_lang=self.target,
            speaker=final.speaker,
            model=model,
            quality_metrics=metrics,
            times=replace(final.times, translation_done_at=time.monotonic()),
        )


def _mean_metrics(items: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for m in items for k in m}
    return (
        {k: sum(m.get(k, 0.0) for m in items) / len(items) for k in sorted(keys)} if items else {}
    )
