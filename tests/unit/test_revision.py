"""Revisions as pure logic (engine.asr.revision): words back to their segments, and a revised
text kept only when it is not worse (no models)."""

from __future__ import annotations

from engine.asr.revision import Span, assign_words, judge, segment_text
from engine.events import Word

SPANS = [Span(1, 0.0, 2.0), Span(2, 2.5, 4.0), Span(3, 4.0, 6.0)]


def w(text: str, start: float, end: float) -> Word:
    return Word(text, start, end, 0.9)


def test_each_word_goes_to_the_segment_holding_its_midpoint():
    words = [w("Fail", 0.2, 0.6), w("again.", 1.7, 2.2), w("Try", 3.8, 4.3), w("again.", 4.5, 5)]
    got = assign_words(words, SPANS)
    # "again." ends in the pause but its midpoint (1.95 s) is in segment 1; "Try" straddles
    # the 4.0 s boundary with its midpoint (4.05 s) in segment 3
    assert {k: [x.text for x in v] for k, v in got.items()} == {
        1: ["Fail", "again."],
        2: [],
        3: ["Try", "again."],
    }


def test_a_word_in_a_pause_or_outside_every_segment_goes_to_the_nearest():
    words = [
        w("early", -0.5, -0.1),
        w("pause", 2.0, 2.2),  # midpoint 2.1 s: 0.1 s after segment 1, 0.4 s before segment 2
        w("gap", 2.3, 2.5),  # midpoint 2.4 s: 0.4 s after segment 1, 0.1 s before segment 2
        w("late", 6.2, 6.6),
    ]
    got = assign_words(words, SPANS)
    assert {k: [x.text for x in v] for k, v in got.items()} == {
        1: ["early", "pause"],
        2: ["gap"],
        3: ["late"],
    }


def test_segment_text_joins_words_as_the_language_writes_them():
    assert segment_text([w("Fail", 0, 1), w("better.", 1, 2)], "en") == "Fail better."
    assert segment_text([w("我们", 0, 1), w("开会", 1, 2)], "zh") == "我们开会"


def judged(old: str, new: str, **kw):
    words = [w(t, i, i + 0.5) for i, t in enumerate(new.split())]
    return judge(old, words, "en", avg_logprob=kw.get("lp", -0.2), no_speech_prob=0.01)


def test_a_changed_text_replaces_the_old_one():
    verdict = judged("Pray again.", "Try again.")
    assert verdict.changed and verdict.text == "Try again."


def test_case_and_punctuation_alone_are_no_revision():
    verdict = judged("fail again", "Fail again.")
    assert not verdict.changed and verdict.reason == "unchanged" and verdict.text == "fail again"


def test_a_revision_that_drops_words_or_invents_many_is_refused():
    assert judged("the long period of waiting was over", "the long").reason == "drops words"
    assert judged("4 Queen of Clothes", "queen of close").reason == "drops words"
    assert judged("Ensure the period", "In short, the period").changed
    assert judged("no", "no no wait what is this thing here now").reason == "adds words"
    assert judged("Try again.", "").reason == "no words"


def test_a_revision_the_guards_reject_or_cut_is_refused():
    loop = "over and over and over and over and over and over again"
    assert judged("over and over again", loop).reason == "guard: loop"
    # a blocklisted phrase Whisper doubts (low log-probability) is no revision either
    assert judged("thank you all", "Thank you for watching.", lp=-0.9).reason.startswith("guard")


def test_a_revision_less_likely_than_the_old_text_on_the_same_window_is_refused():
    new = [w("Seven", 0, 0.4), w("of", 0.4, 0.6), w("cloves.", 0.6, 1)]
    old = [Word("Seven", 0, 0.4, 0.9), Word("of", 0.4, 0.6, 0.95), Word("clubs.", 0.6, 1, 0.9)]
    kw = {"avg_logprob": -0.2, "no_speech_prob": 0.01}
    assert judge("Seven of clubs.", new, "en", old_words=old, **kw).reason == "less likely"
    unsure = [Word("Pray", 0, 0.4, 0.2), Word("again.", 0.4, 1, 0.9)]
    fixed = [w("Try", 0, 0.4), w("again.", 0.4, 1)]
    assert judge("Pray again.", fixed, "en", old_words=unsure, **kw).changed
