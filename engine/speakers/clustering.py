"""Online speaker clustering: pure logic on embeddings, no model (unit-tested on its own).

Per segment embedding:
1. an enrolled speaker whose profile is at least `match_threshold` similar wins;
2. else, for a segment of at least `min_segment_s`, the nearest anonymous speaker if at least
   `new_speaker_threshold` similar (its centroid becomes the running mean of its segments),
   else a new anonymous speaker S1, S2, ...;
3. a shorter segment never creates or moves a speaker: it joins the nearest speaker (enrolled
   or anonymous) when at least `short_segment_threshold` similar;
4. else it continues the turn of the previous segment's speaker ("Okay." after one's own
   sentence) when its voice does not contradict that: at least `continuation_threshold` similar
   to that speaker, and no other speaker more similar by more than `continuation_margin`;
5. else its label is None (the front end shows it as an unknown speaker, never as a person).
Labels never change except through `rename`, so they stay stable through the session; `reset`
starts a new session (new anonymous speakers count from S1 again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from engine.config import SpeakerOptions
from engine.errors import ConfigError
from engine.speakers.base import SpeakerMatch

NO_MATCH = SpeakerMatch(label=None, similarity=0.0, is_new=False, enrolled=False)


def normalize(vector: np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm <= 0.0:
        raise ValueError("a speaker embedding must be finite and non-zero")
    return v / norm


@dataclass
class _Speaker:
    label: str
    enrolled: bool
    total: np.ndarray  # sum of the unit embeddings that formed it (the profile when enrolled)
    count: int = 1
    heard: bool = False

    @property
    def centroid(self) -> np.ndarray:
        return self.total / max(float(np.linalg.norm(self.total)), 1e-12)


class SpeakerClusterer:
    """Assigns segment embeddings to enrolled or anonymous speakers. Not thread-safe."""

    def __init__(
        self,
        options: SpeakerOptions | None = None,
        enrolled: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.options = options or SpeakerOptions()
        self._enrolled = {name: normalize(emb) for name, emb in (enrolled or {}).items()}
        self._speakers: list[_Speaker] = []
        self._order: list[_Speaker] = []  # heard speakers in order of first appearance
        self._next_index = 1
        self._taken: frozenset[str] = frozenset()  # casefolded labels a new speaker must avoid
        self._previous: _Speaker | None = None  # the speaker of the last segment, if known
        self.reset()

    def reset(self, taken: Iterable[str] = ()) -> None:
        """Start a new session: forget the anonymous speakers, renames and the running turn
        (enrolled profiles stay). New speakers count from S1 again, skipping the labels in
        `taken` (those a continued transcript already shows for other people)."""
        self._speakers = [_Speaker(name, True, emb) for name, emb in self._enrolled.items()]
        self._order = []
        self._next_index = 1
        self._taken = frozenset(label.casefold() for label in taken)
        self._previous = None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self._order)

    @property
    def enrolled_names(self) -> tuple[str, ...]:
        return tuple(s.label for s in self._speakers if s.enrolled)

    def _nearest(self, embedding: np.ndarray, *, enrolled: bool | None) -> tuple[_Speaker, float]:
        best: tuple[_Speaker | None, float] = (None, -1.0)
        for speaker in self._speakers:
            if enrolled is not None and speaker.enrolled != enrolled:
                continue
            sim = float(speaker.centroid @ embedding)
            if sim > best[1]:
                best = (speaker, sim)
        return best  # type: ignore[return-value]

    def _matched(self, speaker: _Speaker, similarity: float) -> SpeakerMatch:
        is_new = not speaker.heard
        if is_new:
            speaker.heard = True
            self._order.append(speaker)
        return SpeakerMatch(speaker.label, similarity, is_new, speaker.enrolled)

    def _new_label(self) -> str:
        taken = {s.label.casefold() for s in self._speakers} | self._taken
        while f"s{self._next_index}" in taken:
            self._next_index += 1
        label = f"S{self._next_index}"
        self._next_index += 1
        return label

    def assign(self, embedding: np.ndarray | None, duration_s: float) -> SpeakerMatch:
        """The speaker of one segment (None embedding: no voice in it -> label None)."""
        match = self._assign(embedding, duration_s)
        self._previous = next((s for s in self._speakers if s.label == match.label), None)
        return match

    def _assign(self, embedding: np.ndarray | None, duration_s: float) -> SpeakerMatch:
        if embedding is None:
            return NO_MATCH
        emb = normalize(embedding)
        opts = self.options
        if duration_s < opts.min_segment_s:
            return self._assign_short(emb)

        person, person_sim = self._nearest(emb, enrolled=True)
        if person is not None and person_sim >= opts.match_threshold:
            return self._matched(person, person_sim)
        anon, anon_sim = self._nearest(emb, enrolled=False)
        if anon is not None and anon_sim >= opts.new_speaker_threshold:
            anon.total = anon.total + emb
            anon.count += 1
            return self._matched(anon, anon_sim)
        speaker = _Speaker(self._new_label(), False, emb)
        self._speakers.append(speaker)
        nearest = max(person_sim, anon_sim, 0.0)
        match = self._matched(speaker, nearest)
        return match

    def _assign_short(self, emb: np.ndarray) -> SpeakerMatch:
        """A segment too short to found a speaker: the nearest speaker when clearly similar,
        else the previous segment's speaker when nothing in the voice contradicts it."""
        opts = self.options
        speaker, sim = self._nearest(emb, enrolled=None)
        if speaker is None:
            return NO_MATCH
        if sim >= opts.short_segment_threshold:
            return self._matched(speaker, sim)
        previous = self._previous
        if previous is not None:
            previous_sim = float(previous.centroid @ emb)
            if (
                previous_sim >= opts.continuation_threshold
                and sim - previous_sim <= opts.continuation_margin
            ):
                return self._matched(previous, previous_sim)
        return SpeakerMatch(None, max(sim, 0.0), False, False)

    def rename(self, old_label: str, new_name: str) -> None:
        """Give a speaker a new label for the rest of the session (profiles are untouched)."""
        new_name = new_name.strip()
        if not new_name:
            raise ConfigError("A speaker name cannot be empty.")
        speaker = next((s for s in self._speakers if s.label == old_label), None)
        if speaker is None:
            raise ConfigError(f"No speaker called {old_label!r} in this session.")
        if new_name == old_label:
            return
        if any(
            s.label.casefold() == new_name.casefold() for s in self._speakers if s is not speaker
        ):
            raise ConfigError(f"The name {new_name!r} is already used by another speaker.")
        speaker.label = new_name
