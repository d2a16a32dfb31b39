"""Digital silence: a capture stream of exact zeros means no signal reaches the app at all.

A denied microphone permission (macOS privacy settings, Windows "Let apps access your
microphone") does not fail the stream: the system delivers blocks of exact zeros. A real
microphone, even in a silent room, never gives exact zeros for seconds (its noise floor is
above zero), so a few seconds of nothing but 0.0 is said once, with what to check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.audio.sources import AudioBlock, FrameSource

log = logging.getLogger(__name__)

NO_SIGNAL_MESSAGE = "No signal from the microphone — check the system's microphone permission"


@dataclass(frozen=True, slots=True)
class SilenceOptions:
    """seconds: how long a stream of exact zeros lasts before it is reported (3 s: longer than
    any start-up gap of a working device, short enough to say it before the user wonders)."""

    seconds: float = 3.0
    sample_rate: int = SAMPLE_RATE


class DigitalSilenceDetector:
    """Counts consecutive exact-zero samples. `feed` returns True once, the moment the run of
    zeros reaches `seconds`; any non-zero sample resets it (and re-arms the report)."""

    def __init__(self, options: SilenceOptions | None = None) -> None:
        self.options = options or SilenceOptions()
        self._limit = int(self.options.seconds * self.options.sample_rate)
        self._zeros = 0
        self._reported = False

    @property
    def silent(self) -> bool:
        """True while the current run of zeros is at least `seconds` long."""
        return self._zeros >= self._limit

    def feed(self, samples: np.ndarray) -> bool:
        samples = np.asarray(samples)
        if samples.size == 0:
            return False
        nonzero = np.flatnonzero(samples)
        if nonzero.size:
            self._zeros = samples.size - 1 - int(nonzero[-1])  # zeros after the last sound
            self._reported = False
        else:
            self._zeros += samples.size
        if self.silent and not self._reported:
            self._reported = True
            return True
        return False


def is_microphone(spec: str) -> bool:
    """True when an input spec names a microphone (`mic`, `mic:NAME`, a PulseAudio source that
    is not a `.monitor`): only a microphone's exact zeros mean a denied permission. System
    audio is legitimately silent whenever nothing plays."""
    if spec == "mic" or spec.startswith("mic:"):
        return True
    return spec.startswith("pulse:") and not spec.endswith(".monitor")


class SilenceWatch:
    """A FrameSource that passes `source`'s blocks on unchanged and calls `on_silence(message)`
    when they have been exact zeros for `options.seconds` (again after any sound)."""

    def __init__(
        self,
        source: FrameSource,
        on_silence: Callable[[str], None],
        options: SilenceOptions | None = None,
    ) -> None:
        self.source = source
        self.name = source.name
        self.realtime = source.realtime
        self.hears_room = source.hears_room
        self.on_silence = on_silence
        self.detector = DigitalSilenceDetector(options)

    @property
    def dropped_blocks(self) -> int:
        return self.source.dropped_blocks

    def blocks(self) -> Iterator[AudioBlock]:
        for block in self.source.blocks():
            if self.detector.feed(block.samples):
                log.warning("%s: %s", self.name, NO_SIGNAL_MESSAGE)
                self.on_silence(NO_SIGNAL_MESSAGE)
            yield block

    def set_event_sink(self, emit: Callable[[Any], None]) -> None:
        """Passed on to a source that reports device changes (see `MicrophoneSource`)."""
        attach = getattr(self.source, "set_event_sink", None)
        if attach is not None:
            attach(emit)

    def set_when_lost(self, policy: Any) -> None:
        set_when_lost = getattr(self.source, "set_when_lost", None)
        if set_when_lost is not None:
            set_when_lost(policy)

    def close(self) -> None:
        self.source.close()
