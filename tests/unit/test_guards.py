"""Hallucination guards and WER normalisation (pure logic)."""

from engine.asr.guards import compression_ratio, is_blocklisted, trim_repetition
from engine.metrics import normalize_text, wer


def test_blocklist_catches_silence_hallucinations():
    for text in [
        "Thank you.",
        "Thanks for watching!",
        "Subtitles by the Amara.org community",
        "字幕由 Amara.org 社区提供",
        "  you  ",
        "ご視聴ありがとうございました",
    ]:
        assert is_blocklisted(text), text
    for text in ["Thank you for the report on the budget.", "Go forward ten meters."]:
        assert not is_blocklisted(text), text


def test_repetition_loops_are_cut():
    loop = [
        "But",
        "Morgan",
        "wants",
        "to",
        "make",
        "it",
        "hard.",
        "But",
        "Morgan",
        "wants",
        "to",
        "make",
        "it",
        "hard.",
        "But",
    ]
    assert trim_repetition(loop) == ["But", "Morgan", "wants", "to", "make", "it", "hard."]
    assert trim_repetition(["5", "5", "5", "5", "5", "5", "5", "5", "5"]) == ["5", "5", "5"]
    assert trim_repetition(["D-D-D-D-D-D"]) == []
    # real speech with small repeats survives
    for ok in ["five five", "thank you thank you", "go on and on and on forever"]:
        assert trim_repetition(ok.split()) == ok.split()


def test_compression_ratio_flags_loops():
    assert compression_ratio("la " * 100) > 2.4
    assert compression_ratio("Feels like these days go on forever.") < 2.4


def test_wer_normalises_case_punctuation_and_numbers():
    assert normalize_text("Go forward 10 meters.") == ["go", "forward", "ten", "meters"]
    assert wer("go forward ten meters", "Go forward 10 meters.") == 0.0
    assert wer("eight of spades", "8 of spades, 4") == 1 / 3
    assert normalize_text("21 cats") == ["twenty", "one", "cats"]


def test_loops_glued_inside_one_word_are_seen():
    from engine.asr.guards import glued_loop

    assert glued_loop("1,5,5,5,5,5,5,5,5,5,5,")
    for ok in ["1,000,000,000,000 dollars", "1,2,3,4,5,6", "well-to-do", "Go forward 10 meters."]:
        assert not glued_loop(ok), ok
