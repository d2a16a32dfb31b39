"""Construction of the optional stages (speaker id, translation, speech) from the config, and
the translation step of the pipeline. Backends are imported lazily: a missing optional
dependency fails with a readable error only when that stage is switched on."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.errors import ConfigError
from engine.events import Final, Translation
from engine.sentences import split_sentences

if TYPE_CHECKING:
    from engine.pipeline import Pipeline

log = logging.getLogger(__name__)


def load_optional(pipeline: Pipeline) -> None:
    cfg = pipeline.config
    if cfg.speech.enabled and pipeline.speech is None:
        from engine.tts.stage import SpeechStage

        pipeline.speech = SpeechStage(
            cfg.speech,
            emit=pipeline._emit,
            speech_output=pipeline.speech_output,
            lang=cfg.translation.target_lang or cfg.asr.language,
            source_clock=pipeline.source_clock,
        )
        pipeline.backends["tts"] = pipeline.speech.backend_in_use
    if cfg.speakers.mode != "off" and pipeline.speaker_identifier is None:
        from engine.speakers import create_identifier

        pipeline.speaker_identifier = create_identifier(cfg.speakers)
        if pipeline.speaker_identifier is not None:
            pipeline.backends["speaker"] = getattr(
                pipeline.speaker_identifier, "backend_in_use", "local"
            )
    tr = cfg.translation
    if tr.target_lang:
        if tr.backend == "whisper":
            if tr.target_lang != "en":
                raise ConfigError(
                    "Whisper can only translate into English: use --translator m2m100 or nllb "
                    f"for target {tr.target_lang!r}"
                )
            if cfg.asr.task != "translate":
                raise ConfigError("--translator whisper needs the ASR task 'translate'")
            pipeline.backends["nmt"] = "whisper"
        elif pipeline.translator is None:
            from engine.translate import create_translator

            pipeline.translator = create_translator(tr)
            pipeline.backends["nmt"] = "remote" if tr.backend == "remote" else "local"


def translate_final(pipeline: Pipeline, final: Final) -> Translation | None:
    """Translate one final segment sentence by sentence (every sentence exactly once)."""

    cfg = pipeline.config.translation
    target = cfg.target_lang
    assert target
    if cfg.backend == "whisper":
        # Whisper already produced English text (task=translate).
        text, model = final.text, "whisper-translate"
        metrics = {"avg_logprob": final.avg_logprob or 0.0}
    else:
        sentences = split_sentences(final.text)
        if not sentences:
            return None
        source = final.lang or pipeline.config.asr.language or "en"
        if source == target:
            texts, metrics, model = sentences, {}, "identity"
        else:
            results = pipeline.translator.translate(sentences, source, target)
            texts = [r.text for r in results]
            model = results[0].model if results else ""
            metrics = _mean_metrics([r.quality_metrics for r in results])
        text = ("" if target in ("zh", "ja", "th") else " ").join(texts)
    return Translation(
        segment_id=final.segment_id,
        start=final.start,
        end=final.end,
        source_text=final.text,
        source_lang=final.lang,
        text=text,
        target_lang=target,
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
