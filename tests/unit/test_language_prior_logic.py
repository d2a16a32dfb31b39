"""LanguagePrior without models: what a session has sounded like weighs each new guess."""

import pytest

from engine.asr.language import STRONG_MIN_S, LanguagePrior


def guess(**probs: float) -> dict[str, float]:
    """A distribution like Whisper's: the given languages, the rest spread over 40 others."""
    rest = max(0.0, 1.0 - sum(probs.values())) / 40
    return {**{f"o{i}": rest for i in range(40)}, **probs}


def test_the_first_line_takes_its_own_guess():
    assert LanguagePrior().choose(guess(th=0.28, de=0.05), 1.0) == ("th", 0.28)


def test_a_wild_short_guess_keeps_the_session_language():
    prior = LanguagePrior()
    for _ in range(3):  # German lines Whisper was never sure of
        prior.observe(guess(de=0.4, ro=0.2, th=0.1), 2.0)
    lang, probability = prior.choose(guess(th=0.28, en=0.15, de=0.03), 1.0)
    assert lang == "de" and 0 < probability < 1


def test_a_clear_line_changes_the_language_at_once():
    prior = LanguagePrior(["de"])
    for _ in range(5):
        prior.observe(guess(de=0.9), 3.0)
    assert prior.choose(guess(en=0.95, de=0.01), STRONG_MIN_S) == ("en", 0.95)
    # the same guess on a short line is not enough against a long German session
    assert prior.choose(guess(en=0.3, de=0.05), 0.8)[0] == "de"


def test_old_evidence_fades_so_a_meeting_can_move_on():
    prior = LanguagePrior()
    prior.observe(guess(de=0.9), 3.0)
    for _ in range(20):  # a minute of English
        prior.observe(guess(en=0.9), 3.0)
    assert list(prior) == ["en"]
    assert prior.choose(guess(de=0.3, en=0.2), 1.0)[0] == "en"


def test_heard_languages_share_the_prior():
    prior = LanguagePrior(["en", "de"])
    weights = prior.weights()
    assert weights["en"] == pytest.approx(0.5) and weights["de"] == pytest.approx(0.5)
    assert prior.choose(guess(de=0.3, th=0.4), 1.0)[0] == "de"
    assert not LanguagePrior() and not LanguagePrior([]).weights()


def test_choose_needs_probabilities():
    with pytest.raises(ValueError):
        LanguagePrior().choose({}, 1.0)
