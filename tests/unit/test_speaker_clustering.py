"""Online speaker clustering on synthetic embeddings (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import SpeakerOptions
from engine.errors import ConfigError
from engine.speakers.base import SpeakerMatch
from engine.speakers.clustering import SpeakerClusterer

DIM = 256


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _voice(seed: int) -> np.ndarray:
    """A random non-negative unit vector, like Resemblyzer's ReLU embeddings."""
    return _unit(np.random.default_rng(seed).random(DIM) ** 4)


def _near(base: np.ndarray, similarity: float, seed: int) -> np.ndarray:
    """A unit vector with exactly `similarity` cosine to `base`."""
    noise = np.random.default_rng(seed).standard_normal(DIM)
    noise -= (noise @ base) * base
    noise = _unit(noise)
    return similarity * base + np.sqrt(1 - similarity**2) * noise


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(_unit(a) @ _unit(b))


@pytest.fixture
def voices() -> list[np.ndarray]:
    # Make the test voices clearly different from each other (cosine < 0.5).
    out: list[np.ndarray] = []
    seed = 0
    while len(out) < 3:
        seed += 1
        cand = _voice(seed)
        cand = _unit(cand - 0.6 * sum((cand @ v) * v for v in out)) if out else cand
        if all(_cos(cand, v) < 0.5 for v in out):
            out.append(cand)
    return out


def test_first_segment_creates_s1(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer()
    match = c.assign(voices[0], 2.0)
    assert match == SpeakerMatch("S1", 0.0, True, False)
    assert c.labels == ("S1",)


def test_people_get_stable_distinct_labels(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(SpeakerOptions(new_speaker_threshold=0.7))
    order = [0, 1, 0, 2, 1, 1, 0, 2, 2, 0]
    labels = [c.assign(_near(voices[v], 0.85, i), 2.0).label for i, v in enumerate(order)]
    by_voice = {v: {lab for lab, w in zip(labels, order, strict=True) if w == v} for v in range(3)}
    assert by_voice == {0: {"S1"}, 1: {"S2"}, 2: {"S3"}}
    assert c.labels == ("S1", "S2", "S3")


def test_is_new_only_on_first_segment(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer()
    first = c.assign(_near(voices[0], 0.9, 1), 2.0)
    second = c.assign(_near(voices[0], 0.9, 2), 2.0)
    assert first.is_new and not second.is_new
    assert second.label == first.label
    assert second.similarity == pytest.approx(
        _cos(_near(voices[0], 0.9, 1), _near(voices[0], 0.9, 2)), abs=1e-9
    )


def test_centroid_is_running_mean(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(SpeakerOptions(new_speaker_threshold=0.5))
    a, b = _near(voices[0], 0.8, 1), _near(voices[0], 0.8, 2)
    c.assign(a, 2.0)
    c.assign(b, 2.0)
    probe = _near(voices[0], 0.8, 3)
    match = c.assign(probe, 2.0)
    assert match.similarity == pytest.approx(_cos(a + b, probe), abs=1e-9)


def test_between_thresholds_joins_nearest_below_creates(voices: list[np.ndarray]) -> None:
    opts = SpeakerOptions(new_speaker_threshold=0.7, match_threshold=0.8)
    c = SpeakerClusterer(opts)
    c.assign(voices[0], 2.0)
    assert c.assign(_near(voices[0], 0.72, 5), 2.0).label == "S1"  # >= new_speaker_threshold
    created = c.assign(_near(voices[0], 0.5, 6), 2.0)
    assert created.label == "S2" and created.is_new
    centroid = voices[0] + _near(voices[0], 0.72, 5)
    assert created.similarity == pytest.approx(_cos(centroid, _near(voices[0], 0.5, 6)), abs=1e-9)


def test_enrolled_speaker_wins_when_similar_enough(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(SpeakerOptions(match_threshold=0.75), {"Alice": voices[0]})
    m = c.assign(_near(voices[0], 0.8, 1), 2.0)
    assert m == SpeakerMatch("Alice", pytest.approx(0.8), True, True)
    assert c.assign(_near(voices[0], 0.9, 2), 2.0) == SpeakerMatch(
        "Alice", pytest.approx(0.9), False, True
    )
    # Someone else: an anonymous speaker, never the enrolled name.
    assert c.assign(voices[1], 2.0).label == "S1"
    assert c.labels == ("Alice", "S1")
    assert c.enrolled_names == ("Alice",)


def test_enrolled_below_match_threshold_is_clustered(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(
        SpeakerOptions(match_threshold=0.8, new_speaker_threshold=0.7), {"Alice": voices[0]}
    )
    m = c.assign(_near(voices[0], 0.72, 1), 2.0)
    assert m.label == "S1" and not m.enrolled and m.similarity == pytest.approx(0.72)


def test_enrolled_profile_is_not_moved_by_segments(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(SpeakerOptions(match_threshold=0.75), {"Alice": voices[0]})
    for i in range(5):
        c.assign(_near(voices[0], 0.8, i), 2.0)
    probe = _near(voices[0], 0.8, 99)
    assert c.assign(probe, 2.0).similarity == pytest.approx(0.8)


def test_short_segment_joins_nearest_or_stays_unknown(voices: list[np.ndarray]) -> None:
    opts = SpeakerOptions(min_segment_s=1.0, short_segment_threshold=0.7)
    c = SpeakerClusterer(opts)
    # Nobody known yet: a short segment never creates a speaker.
    assert c.assign(voices[0], 0.5).label is None
    assert c.labels == ()
    c.assign(voices[0], 2.0)
    c.assign(voices[1], 2.0)
    short = c.assign(_near(voices[1], 0.75, 3), 0.6)
    assert short.label == "S2" and not short.is_new
    # Too unlike anyone: unknown, and it creates nobody.
    unknown = c.assign(voices[2], 0.6)
    assert unknown.label is None and not unknown.is_new
    assert c.labels == ("S1", "S2")


def test_short_segment_does_not_move_centroid(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(SpeakerOptions(short_segment_threshold=0.5))
    c.assign(voices[0], 2.0)
    c.assign(_near(voices[0], 0.6, 1), 0.5)
    probe = _near(voices[0], 0.8, 2)
    assert c.assign(probe, 2.0).similarity == pytest.approx(0.8)


def test_short_segment_can_reach_enrolled(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(SpeakerOptions(short_segment_threshold=0.7), {"Bob": voices[1]})
    m = c.assign(_near(voices[1], 0.9, 1), 0.4)
    assert m.label == "Bob" and m.enrolled and m.is_new


def test_no_embedding_means_unknown() -> None:
    c = SpeakerClusterer()
    assert c.assign(None, 3.0) == SpeakerMatch(None, 0.0, False, False)


def test_rename_keeps_later_segments(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer()
    c.assign(voices[0], 2.0)
    c.assign(voices[1], 2.0)
    c.rename("S1", "Carol")
    assert c.assign(_near(voices[0], 0.9, 1), 2.0).label == "Carol"
    assert c.labels == ("Carol", "S2")
    # New anonymous speakers keep counting; a label renamed away is not reused.
    assert c.assign(voices[2], 2.0).label == "S3"


def test_new_labels_skip_names_in_use(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(enrolled={"s1": voices[2]})
    assert c.assign(voices[0], 2.0).label == "S2"


def test_rename_errors(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(enrolled={"Alice": voices[2]})
    c.assign(voices[0], 2.0)
    c.assign(voices[1], 2.0)
    with pytest.raises(ConfigError, match="No speaker"):
        c.rename("S9", "Zed")
    with pytest.raises(ConfigError, match="already used"):
        c.rename("S1", "s2")
    with pytest.raises(ConfigError, match="already used"):
        c.rename("S1", "alice")
    with pytest.raises(ConfigError, match="empty"):
        c.rename("S1", "  ")
    c.rename("S1", "S1")  # no-op
    assert c.labels == ("S1", "S2")


def test_zero_embedding_is_rejected() -> None:
    with pytest.raises(ValueError):
        SpeakerClusterer().assign(np.zeros(DIM), 2.0)
