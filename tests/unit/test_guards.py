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


# The guards as one pure function: every rule fires on its own input, whatever the decode was
# conditioned on (the recogniser applies `check` to prompted and unprompted decodes alike).
SURE = {"no_speech_prob": 0.01, "avg_logprob": -0.2}


def test_check_keeps_plain_speech():
    from engine.asr.guards import Verdict, check

    assert check("Go forward ten meters.", **SURE) == Verdict("Go forward ten meters.")
    # a confident "Thank you." is real speech, not the silence hallucination
    assert check("Thank you.", no_speech_prob=0.005, avg_logprob=-0.305) == Verdict("Thank you.")


def test_check_rejects_empty_and_silence():
    from engine.asr.guards import check

    assert check("  ... ", **SURE).rejected == "empty"
    verdict = check("Go forward.", no_speech_prob=0.9, avg_logprob=-1.4)
    assert (verdict.text, verdict.rejected) == ("", "no-speech")
    # sure of speech but unsure of the words: kept (the fallback already had its chance)
    assert check("Go forward.", no_speech_prob=0.9, avg_logprob=-0.4).rejected is None


def test_check_cuts_a_loop_and_rejects_what_stays_repetitive():
    from engine.asr.guards import check

    looped = "They were wrong. They were wrong. They were wrong. They were wrong."
    assert check(looped, **SURE).text == "They were wrong."
    assert check("la " * 60, **SURE).text == "la la la"
    # a loop longer than the n-grams `trim_repetition` looks at is left to the compression ratio
    long_loop = " ".join(f"word{i}" for i in range(13))
    assert check(" ".join([long_loop] * 6), **SURE).rejected == "repetitive"
    assert check("1,5,5,5,5,5,5,5,5,5,5,", **SURE).rejected == "repetitive"


def test_check_blocklist_only_when_whisper_doubts():
    from engine.asr.guards import check

    assert check("Thanks for watching!", no_speech_prob=0.3, avg_logprob=-0.2).rejected == (
        "blocklisted"
    )
    assert check("Thank you.", no_speech_prob=0.01, avg_logprob=-0.8).rejected == "blocklisted"


def test_check_thresholds_come_from_the_options():
    from engine.asr.guards import check
    from engine.config import AsrOptions

    unsure = {"no_speech_prob": 0.7, "avg_logprob": -1.2}
    assert check("Go forward.", **unsure).rejected == "no-speech"
    lenient = AsrOptions(no_speech_threshold=0.8)
    assert check("Go forward.", **unsure, options=lenient).rejected is None
    off = AsrOptions(hallucination_guard=False)
    assert check("Thanks for watching!", no_speech_prob=0.9, avg_logprob=-2, options=off).text
