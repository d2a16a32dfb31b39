"""Auto language: on a second of speech Whisper's guess can be wild; the languages the session
already had win when Whisper is unsure, and never override a confident guess."""

import numpy as np

from engine.audio.io import load_audio


def test_session_language_rescues_an_unsure_guess(speech_dir, whisper_auto):
    audio = load_audio(speech_dir / "chan3.wav")
    short = audio[int(16.3 * 16000) : int(17.5 * 16000)]  # "I didn't even..." — 1.2 s
    alone = whisper_auto.transcribe(short)
    guided = whisper_auto.transcribe(short, session_languages=("en",))
    print(
        f"alone: {alone.lang} ({alone.lang_probability:.2f}) {alone.text!r}; "
        f"session en: {guided.lang} {guided.text!r}"
    )
    assert alone.lang != "en" and alone.lang_probability < 0.5
    assert guided.lang == "en"


def test_a_confident_guess_or_a_known_language_beats_the_session(speech_dir, whisper_auto):
    audio = load_audio(speech_dir / "goforward.wav")
    hyp = whisper_auto.transcribe(np.asarray(audio), session_languages=("de",))
    assert hyp.lang == "en" and hyp.lang_probability > 0.5
    # an unsure guess of a language the session already had is trusted as it is
    short = load_audio(speech_dir / "chan3.wav")[int(16.3 * 16000) : int(17.5 * 16000)]
    alone = whisper_auto.transcribe(short)
    assert whisper_auto.transcribe(short, session_languages=("en", alone.lang)).lang == alone.lang
