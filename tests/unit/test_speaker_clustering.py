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


def _between(a: np.ndarray, b: np.ndarray, sim_a: float, sim_b: float, seed: int) -> np.ndarray:
    """A unit vector with exactly `sim_a` cosine to `a` and `sim_b` to `b` (unit vectors)."""
    e2 = _unit(b - (b @ a) * a)
    x2 = (sim_b - (b @ a) * sim_a) / (b @ e2)
    noise = np.random.default_rng(seed).standard_normal(DIM)
    noise -= (noise @ a) * a + (noise @ e2) * e2
    rest = 1 - sim_a**2 - x2**2
    assert rest >= 0
    return sim_a * a + x2 * e2 + np.sqrt(rest) * _unit(noise)


CONTINUE = SpeakerOptions(
    short_segment_threshold=0.70, continuation_threshold=0.60, continuation_margin=0.05
)


def test_the_defaults_continue_only_the_nearest_speaker(voices: list[np.ndarray]) -> None:
    """By default a short line continues the previous speaker only when that speaker is also
    the nearest one (on the shared clips, another person's short line came within 0.03)."""
    c = SpeakerClusterer()
    c.assign(voices[0], 2.0)
    c.assign(voices[1], 2.0)
    c.assign(voices[0], 2.0)
    assert c.assign(_between(voices[0], voices[1], 0.66, 0.67, 14), 0.5).label is None
    c.assign(voices[0], 2.0)  # S1's turn again (an unknown line breaks the turn)
    assert c.assign(_between(voices[0], voices[1], 0.67, 0.66, 15), 0.5).label == "S1"
    assert c.assign(_near(voices[0], 0.64, 16), 0.5).label is None


def test_short_line_continues_the_previous_speakers_turn(voices: list[np.ndarray]) -> None:
    """ "Okay." right after one's own sentence: too short and not similar enough to be sure
    on its own, but nothing in the voice says it is someone else."""
    c = SpeakerClusterer(CONTINUE)
    c.assign(voices[0], 2.0)
    c.assign(voices[1], 2.0)
    okay = _near(voices[1], 0.64, 7)
    match = c.assign(okay, 0.5)
    assert match.label == "S2" and not match.is_new
    assert match.similarity == pytest.approx(0.64)
    # the same voice after S1's line does not join S1 (it is not like S1), nor S2 (not S2's turn)
    c.assign(_near(voices[0], 0.9, 8), 2.0)
    assert c.assign(okay, 0.5).label is None


def test_short_line_contradicted_by_its_voice_stays_unknown(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(CONTINUE)
    c.assign(voices[0], 2.0)
    c.assign(voices[1], 2.0)
    c.assign(voices[0], 2.0)
    # like S1 at 0.62 but like S2 at 0.69: S2 is the more likely voice, though not sure enough
    mixed = _between(voices[0], voices[1], 0.62, 0.69, 9)
    assert c.assign(mixed, 0.5).label is None
    # too unlike the previous speaker, however nobody else is nearer
    c.assign(voices[0], 2.0)
    assert c.assign(_near(voices[0], 0.55, 10), 0.5).label is None


def test_no_continuation_across_an_unknown_line(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(CONTINUE)
    c.assign(voices[0], 2.0)
    assert c.assign(voices[2], 0.5).label is None  # somebody not known
    assert c.assign(_near(voices[0], 0.64, 11), 0.5).label is None  # whose turn? not known
    assert c.assign(None, 2.0).label is None
    c.assign(voices[0], 2.0)
    assert c.assign(None, 2.0).label is None  # no voice: the turn is not known either
    assert c.assign(_near(voices[0], 0.64, 12), 0.5).label is None


def test_continued_short_lines_do_not_move_the_speaker(voices: list[np.ndarray]) -> None:
    c = SpeakerClusterer(CONTINUE)
    c.assign(voices[0], 2.0)
    for seed in range(5):
        assert c.assign(_near(voices[0], 0.62, 20 + seed), 0.4).label == "S1"
    assert c.assign(_near(voices[0], 0.8, 30), 2.0).similarity == pytest.approx(0.8)


def test_reset_starts_a_new_session(voices: list[np.ndarray]) -> None:
    """A new session numbers its voices from S1 again (the first speaker of a second session
    was S2 while the identifier, cached with its model, kept the first session's speakers)."""
    c = SpeakerClusterer(enrolled={"Bob": voices[2]})
    c.assign(voices[0], 2.0)
    c.assign(voices[1], 2.0)
    c.rename("S1", "Carol")
    c.rename("Bob", "Robert")
    c.reset()
    assert c.labels == ()
    first = c.assign(voices[1], 2.0)
    assert first.label == "S1" and first.is_new
    assert c.assign(voices[2], 2.0).label == "Bob"  # the enrolled profile, by its own name
    assert c.assign(_near(voices[0], 0.64, 13), 0.5).label is None  # no turn carried over
    # a continued transcript: new voices skip the labels it already shows
    c.reset(taken=("S1", "s2", "Carol"))
    assert c.assign(voices[0], 2.0).label == "S3"
