"""Loaded models shared by every pipeline of the process.

A front end makes a fresh pipeline per run; loading Whisper again for each would cost seconds.
`StageCache` keeps the loaded stage objects keyed by the part of the config they were built from
and hands back those that still fit a new config. Thread-safe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any, Protocol, runtime_checkable

from engine.api import EnginePipeline, LoadedStages
from engine.config import AsrOptions, EngineConfig
from engine.errors import ConfigError

# AsrOptions fields that need the Whisper model loaded again; the others (language, task, beam
# size, partial cadence, guards) are read at decode time.
ASR_LOAD_FIELDS = ("model", "device", "compute_type", "cpu_threads")


@runtime_checkable
class _Derivable(Protocol):
    def with_options(self, options: AsrOptions) -> object:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Entry:
    options: object  # the config section the stage was loaded from
    stage: object


class StageCache:
    """Loaded transcriber, speaker identifier and translator, with the options each was built
    from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def lookup(self, config: EngineConfig) -> LoadedStages:
        """The loaded stages whose options equal this config's; a transcriber that differs only
        in decode-time options (language, task...) is derived, sharing its model."""
        with self._lock:
            entries = dict(self._entries)
        found: dict[str, Any] = {}  # stage objects, by LoadedStages field
        sections = {
            "transcriber": config.asr,
            "speaker_identifier": config.speakers,
            "translator": config.translation,
        }
        for name, options in sections.items():
            entry = entries.get(name)
            if entry is None:
                continue
            if entry.options == options:
                found[name] = entry.stage
            elif name == "transcriber" and isinstance(entry.options, AsrOptions):
                derived = _derive_transcriber(entry.options, entry.stage, config.asr)
                if derived is not None:
                    found[name] = derived
        return LoadedStages(**found)

    def complete(self, config: EngineConfig) -> bool:
        """Every cacheable stage this config needs is loaded (Start will not load anything)."""
        stages = self.lookup(config)
        return all(getattr(stages, f.name) is not None for f in fields(LoadedStages))

    def remember(self, pipeline: EnginePipeline, config: EngineConfig) -> None:
        """Keep the stages a loaded pipeline holds, keyed by their config sections."""
        pairs = (
            ("transcriber", pipeline.transcriber, config.asr),
            ("speaker_identifier", pipeline.speaker_identifier, config.speakers),
            ("translator", pipeline.translator, config.translation),
        )
        with self._lock:
            for name, stage, options in pairs:
                if stage is not None:
                    self._entries[name] = _Entry(options, stage)

    def clear(self) -> None:
        """Drop every loaded model (after models were installed or removed)."""
        with self._lock:
            self._entries.clear()


def _derive_transcriber(old: AsrOptions, transcriber: object, new: AsrOptions) -> object | None:
    if any(getattr(old, f) != getattr(new, f) for f in ASR_LOAD_FIELDS):
        return None
    if not isinstance(transcriber, _Derivable):
        return None
    try:
        return transcriber.with_options(new)
    except ConfigError:
        return None  # let a full load report the problem clearly


shared = StageCache()
"""The process-wide cache (one set of loaded models however many windows or runs)."""
