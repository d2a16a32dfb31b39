"""Building the stages from the config: one factory, one small typed record.

`build_stages(config, emit, clock)` loads every model the config needs (raising a
`DragomanError` with a readable message when one is missing) and returns `Stages`. Already
loaded objects can be handed in (the GUI reuses a loaded Whisper between runs; tests inject
scripted fakes). Backends are imported lazily: a missing optional dependency fails with a
readable error only when its stage is switched on. Nothing here knows the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.asr.whisper import Transcriber
from engine.config import EngineConfig
from engine.events import Event, Stage
from engine.speakers.base import SpeakerIdentifier
from engine.translate.base import Translator
from engine.translate.stage import TranslationStage, WhisperFallback
from engine.tts.base import SpeechSink
from engine.vad import VoiceActivityDetector

EventCallback = Callable[[Event], None]
SourceClock = Callable[[], float]


@dataclass(frozen=True)
class Stages:
    """The loaded stages of one pipeline (None = stage switched off)."""

    vad: VoiceActivityDetector
    transcriber: Transcriber
    identifier: SpeakerIdentifier | None = None
    translator: Translator | None = None  # the model behind `translation` (None for whisper)
    translation: TranslationStage | None = None
    speech: SpeechSink | None = None

    @property
    def backends(self) -> dict[str, str]:
        """Where each running stage runs ("local", "remote", "whisper"), keyed by `Stage`."""
        backends = {Stage.VAD.value: "local", Stage.ASR.value: "local"}
        if self.identifier is not None:
            backends[Stage.SPEAKER.value] = self.identifier.backend_in_use
        if self.translation is not None:
            backends[Stage.NMT.value] = self.translation.backend_in_use
        if self.speech is not None:
            backends[Stage.TTS.value] = self.speech.backend_in_use
        return backends


def build_stages(
    config: EngineConfig,
    emit: EventCallback,
    clock: SourceClock,
    *,
    speech_output: Path | None = None,
    vad: VoiceActivityDetector | None = None,
    transcriber: Transcriber | None = None,
    identifier: SpeakerIdentifier | None = None,
    translator: Translator | None = None,
    speech: SpeechSink | None = None,
) -> Stages:
    """Load what `config` needs and is not given (see the module doc).

    emit: receives the speech stage's events; clock: seconds of source audio consumed so far
    (the speech player's lag reference); speech_output: WAV of the synthesised speech.
    """
    from engine.asr.whisper import WhisperTranscriber, check_language

    config.validate()
    check_language(config.asr.language)
    if vad is None:
        from engine.vad import SileroVad

        vad = SileroVad()
    if transcriber is None:
        transcriber = WhisperTranscriber(config.asr)
    if speech is None and config.speech.enabled:
        from engine.tts.stage import SpeechStage

        speech = SpeechStage(
            config.speech,
            emit=emit,
            speech_output=speech_output,
            lang=config.translation.target_lang or config.asr.language,
            source_clock=clock,
        )
    if identifier is None and config.speakers.mode != "off":
        from engine.speakers import create_identifier

        identifier = create_identifier(config.speakers)
    tr = config.translation
    translation = None
    if tr.target_lang:
        if tr.backend == "whisper":
            translator = None  # the recogniser already translates into English
        elif translator is None:
            from engine.translate import create_translator

            translator = create_translator(tr)
        translation = TranslationStage(
            tr,
            translator,
            source_language=config.asr.language,
            whisper_fallback=_whisper_fallback(config, transcriber),
        )
    return Stages(
        vad=vad,
        transcriber=transcriber,
        identifier=identifier,
        translator=translator,
        translation=translation,
        speech=speech,
    )


def _whisper_fallback(config: EngineConfig, transcriber: Transcriber) -> WhisperFallback | None:
    """Whisper's own X->English on a final's audio, for a remote translator that fails with no
    local model (target English, multilingual Whisper); None otherwise."""
    from engine.asr.whisper import WhisperTranscriber

    tr = config.translation
    if (
        tr.backend != "remote"
        or tr.remote_fallback != "local"
        or tr.target_lang != "en"
        or not isinstance(transcriber, WhisperTranscriber)
        or not transcriber.multilingual
    ):
        return None
    whisper = transcriber

    def translate(audio: Any, lang: str | None) -> str:
        options = replace(config.asr, task="translate", language=lang)
        return whisper.with_options(options).transcribe(audio, language=lang, final=True).text

    return translate
