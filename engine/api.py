"""The engine as a front end (the desktop app) sees it: a pipeline it can load, run on a source,
stop from another thread, and adjust while running; and the factories that make them.

Nothing here imports Qt or the pipeline at import time, so a front end and its tests can type
against these Protocols and pass fakes that satisfy them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine.config import EngineConfig
from engine.events import Event

if TYPE_CHECKING:
    from engine.asr.whisper import Transcriber
    from engine.audio.sources import FrameSource
    from engine.speakers.base import SpeakerIdentifier
    from engine.translate.base import Translator

EventCallback = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class LoadedStages:
    """Stage objects already loaded by an earlier pipeline, to be reused by a new one (loading
    Whisper again costs seconds). None: the new pipeline loads that stage itself."""

    transcriber: Transcriber | None = None
    speaker_identifier: SpeakerIdentifier | None = None
    translator: Translator | None = None

    def __bool__(self) -> bool:
        return any(
            stage is not None
            for stage in (self.transcriber, self.speaker_identifier, self.translator)
        )


class EnginePipeline(Protocol):
    """The pipeline as the GUI sees it. `load()` and `run()` block (call them on a worker
    thread); `stop()`, `set_volume()` and `rename_speaker()` are safe from any thread."""

    @property
    def transcriber(self) -> Transcriber | None:
        """The loaded speech recogniser (None before `load()`)."""
        raise NotImplementedError

    @property
    def speaker_identifier(self) -> SpeakerIdentifier | None:
        raise NotImplementedError

    @property
    def translator(self) -> Translator | None:
        raise NotImplementedError

    def load(self) -> None:
        """Load every model the config needs; raises DragomanError with a readable message."""
        raise NotImplementedError

    def run(self, source: FrameSource) -> None:
        """Process `source` until it ends or `stop()` is called; every final is emitted."""
        raise NotImplementedError

    def stop(self) -> None:
        """Ask `run` to flush the open segment and return. May wait on the audio device: never
        call it on a UI thread."""
        raise NotImplementedError

    def reset_stop(self) -> None:
        """Forget a stop that arrived while no run was active (just before reusing `run`)."""
        raise NotImplementedError

    def set_volume(self, volume: float) -> None:
        raise NotImplementedError

    def rename_speaker(self, old: str, new: str) -> None:
        """Raises ConfigError when `old` is not a known speaker."""
        raise NotImplementedError


class PipelineFactory(Protocol):
    def __call__(
        self, config: EngineConfig, on_event: EventCallback, stages: LoadedStages
    ) -> EnginePipeline:
        raise NotImplementedError


class SourceFactory(Protocol):
    def __call__(self, spec: str, config: EngineConfig, realtime: bool) -> FrameSource:
        raise NotImplementedError


def make_pipeline(
    config: EngineConfig, on_event: EventCallback, stages: LoadedStages
) -> EnginePipeline:
    """The real pipeline (a `PipelineFactory`)."""
    from engine.pipeline import Pipeline

    return Pipeline(
        config,
        on_event,
        transcriber=stages.transcriber,
        speaker_identifier=stages.speaker_identifier,
        translator=stages.translator,
    )


def open_source(spec: str, config: EngineConfig, realtime: bool) -> FrameSource:
    """The real audio source for an input spec (a `SourceFactory`)."""
    from engine.audio.platform_capture import open_input  # files, mics, `system` audio

    return open_input(spec, realtime=realtime, options=config.audio)
