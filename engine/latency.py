"""Per-stage latency of the last utterance, as a listener experiences it.

Pure arithmetic on the events' monotonic stamps (engine/events.py): a front end feeds every
event to `LatencyTracker.observe` and shows `latest`. Nothing here measures time itself.

- recognition: end of speech (the last audio sample, else the VAD's end) -> final text emitted;
- translation: final text decoded -> its translation done;
- speech: translation (else final text) done -> playback started (else synthesis time).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, replace

from engine.events import Event, Final, SpeechOutput, Translation


@dataclass(frozen=True, slots=True)
class UtteranceLatency:
    """Seconds each stage added for the last utterance; None = the stage has not reported."""

    recognition_s: float | None = None
    translation_s: float | None = None
    speech_s: float | None = None

    def parts(self) -> list[tuple[str, float]]:
        """(short stage name, seconds) for the stages that reported, in pipeline order."""
        named = (("ASR", self.recognition_s), ("MT", self.translation_s), ("Speech", self.speech_s))
        return [(name, value) for name, value in named if value is not None]


class LatencyTracker:
    """Keeps the latency of the newest utterance; a new final starts a new one."""

    def __init__(self) -> None:
        self.latest = UtteranceLatency()
        self._translated: collections.deque[int] = collections.deque(maxlen=256)

    def reset(self) -> None:
        self.latest = UtteranceLatency()
        self._translated.clear()

    def observe(self, event: Event) -> bool:
        """Update from one engine event; True when `latest` changed."""
        if isinstance(event, Final):
            t = event.times
            if t.asr_done_at is None:
                return False
            end = t.audio_end_at or t.vad_end_at
            if end is None:
                return False
            done = t.emitted_at or max(t.asr_done_at, t.vad_end_at or 0.0)
            self.latest = UtteranceLatency(recognition_s=max(done - end, 0.0))
            return True
        if isinstance(event, Translation):
            if event.segment_id in self._translated:
                return False  # the translation of a revision (FinalRevised): not a latency
            self._translated.append(event.segment_id)
            t = event.times
            if t.translation_done_at is None or t.asr_done_at is None:
                return False
            self.latest = replace(
                self.latest, translation_s=max(t.translation_done_at - t.asr_done_at, 0.0)
            )
            return True
        if isinstance(event, SpeechOutput):
            t = event.times
            start = t.translation_done_at or t.asr_done_at
            value: float | None
            if t.playback_start_at is not None and start is not None:
                value = max(t.playback_start_at - start, 0.0)
            elif t.synthesis_done_at is not None and t.synthesis_start_at is not None:
                value = max(t.synthesis_done_at - t.synthesis_start_at, 0.0)
            else:
                value = None
            self.latest = replace(self.latest, speech_s=value)
            return True
        return False
