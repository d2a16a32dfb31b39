"""The speaker-identification contract shared by every backend."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from engine.audio import SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class SpeakerMatch:
    """Who spoke one segment.

    label: an enrolled name, an anonymous session label ("S1", "S2", ... or what it was renamed
        to), or None when the segment was too short / too unlike everyone to tell.
    similarity: cosine similarity between the segment and the matched speaker (for a new
        speaker: to the nearest existing one, 0.0 when there was none).
    is_new: this segment is the first of `label` in the session.
    enrolled: `label` is an enrolled profile (a name given with `dragoman speakers enroll`).
    """

    label: str | None
    similarity: float
    is_new: bool
    enrolled: bool


@runtime_checkable
class SpeakerIdentifier(Protocol):
    """Per final segment: who is speaking. Labels stay stable for the whole session."""

    def identify(self, audio: np.ndarray, duration_s: float | None = None) -> SpeakerMatch:
        """audio: 16 kHz mono float32 of one segment; duration_s: its speech duration
        (default len(audio) / 16 kHz)."""
        raise NotImplementedError

    def rename(self, old_label: str, new_name: str) -> None:
        """Rename a session speaker; later segments of that speaker carry `new_name`."""
        raise NotImplementedError

    def reset(self, taken: Iterable[str] = ()) -> None:
        """Start a new session with the loaded model: forget the session's speakers (enrolled
        profiles stay); new ones count from S1, skipping the labels in `taken`."""
        raise NotImplementedError

    @property
    def labels(self) -> tuple[str, ...]:
        """Labels heard so far in this session, in order of first appearance."""
        raise NotImplementedError

    @property
    def backend_in_use(self) -> str:
        """Where embeddings are computed now: "local" or "remote" (after a fallback: local)."""
        raise NotImplementedError


@runtime_checkable
class SpeakerEmbedder(Protocol):
    """Audio -> one L2-normalised speaker embedding (None when there is no voice in it)."""

    model_id: str

    def embed(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray | None:
        raise NotImplementedError
