"""Local agreement: committed words only grow while partials are shown; the final is its own
decode unless it holds fewer words than were committed."""

from engine.asr.agreement import LocalAgreement
from engine.asr.text import join_units, split_units


def test_commits_what_two_hypotheses_agree_on():
    la = LocalAgreement()
    s1 = la.update(["the", "quick"])
    assert s1.committed == () and s1.tentative == ("the", "quick")
    s2 = la.update(["the", "quick", "brown", "fox"])
    assert s2.committed == ("the", "quick")
    assert s2.tentative == ("brown", "fox")
    s3 = la.update(["the", "quick", "brown", "fax", "jumps"])
    assert s3.committed == ("the", "quick", "brown")
    assert s3.tentative == ("fax", "jumps")


def test_comparison_ignores_case_and_punctuation():
    la = LocalAgreement()
    la.update(["Hello,", "world"])
    state = la.update(["hello", "world", "again"])
    assert state.committed == ("hello", "world")


def test_committed_words_never_change_when_whisper_changes_its_mind():
    la = LocalAgreement()
    la.update(["go", "forward", "ten"])
    la.update(["go", "forward", "ten", "meters"])
    assert la.committed == ["go", "forward", "ten"]
    state = la.update(["Go", "for", "it", "ten", "meters", "now"])
    assert state.committed[:3] == ("go", "forward", "ten")


def test_the_final_is_its_own_decode_and_may_correct_committed_words():
    """The final decodes the whole segment with the beam and a wider window: a partial's slip
    that two partials agreed on ("Pray again") does not survive into it."""
    la = LocalAgreement()
    la.update(["Pray", "again"])
    la.update(["Pray", "again.", "Fail"])
    assert la.committed == ["Pray", "again."]
    assert la.finalize(["Try", "again.", "Fail", "better."]) == ["Try", "again.", "Fail", "better."]


def test_successive_partials_only_extend_the_committed_prefix():
    hyps = [
        "feels",
        "feels like",
        "feels like these days",
        "feels like these days go",
        "feels like these days go on",
        "Feels like these days go on forever.",
    ]
    la = LocalAgreement()
    previous: tuple[str, ...] = ()
    for h in hyps:
        state = la.update(h.split())
        assert state.committed[: len(previous)] == previous
        previous = state.committed
    assert la.finalize(hyps[-1].split()) == hyps[-1].split()


def test_final_shorter_than_committed_keeps_committed_words():
    """A final decode that dropped words (or was rejected: no words) loses nothing the
    partials agreed on."""
    la = LocalAgreement()
    la.update(["one", "two", "three"])
    la.update(["one", "two", "three", "four"])
    assert la.finalize(["one"]) == ["one", "two", "three"]
    assert la.finalize([]) == ["one", "two", "three"]


def test_characters_are_units_for_chinese():
    units = split_units("你好世界", "zh")
    assert units == ["你", "好", "世", "界"]
    assert join_units(units, "zh") == "你好世界"
    assert split_units("hello world", "en") == ["hello", "world"]


def test_latin_words_inside_unspaced_scripts_stay_whole():
    units = split_units("我们用 Zoom 开会", "zh")
    assert units == ["我", "们", "用", "Zoom", "开", "会"]
    # a misdetected language must not glue English words together
    assert join_units(split_units("Go forward 10 meters.", "ja"), "ja") == "Go forward 10 meters."
