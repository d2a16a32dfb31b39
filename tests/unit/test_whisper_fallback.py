"""The temperature fallback of `WhisperTranscriber.transcribe`, on a scripted decoder.

The decoder answers each attempt (T=0 beam, T=0.3, T=0.6) with a fixed text and score, so the
choice among attempts that all miss the log-prob threshold is exact.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from engine.asr.whisper import INTERRUPTED, WhisperTranscriber
from engine.config import AsrOptions

WORDS = {1: "go", 2: "forward", 3: "ten", 4: "meters", 5: "gopher", 6: "word"}


class Tokenizer:
    timestamp_begin = 1000
    eot = 999

    def decode(self, tokens: list[int]) -> str:
        return " ".join(WORDS[t] for t in tokens)


class Decoder:
    """attempt -> (token ids, length-normalised score)"""

    def __init__(self, attempts: list[tuple[list[int], float]]) -> None:
        self.attempts = attempts
        self.temperatures: list[float] = []

    def generate(self, encoder_output, prompts, **kwargs):
        temperature = kwargs["sampling_temperature"] if kwargs["sampling_topk"] != 1 else 0.0
        ids, score = self.attempts[len(self.temperatures)]
        self.temperatures.append(temperature)
        return [SimpleNamespace(sequences_ids=[ids], scores=[score], no_speech_prob=0.05)]


def scripted_transcriber(decoder: Decoder) -> WhisperTranscriber:
    t = WhisperTranscriber.__new__(WhisperTranscriber)  # no model load
    t.options = AsrOptions()
    t.language = "en"
    t.multilingual = True
    t._suppress = []
    t._tokenizer_cls = lambda *args, **kwargs: Tokenizer()
    t.model = SimpleNamespace(
        feature_extractor=lambda audio: np.zeros((80, len(audio) // 160), np.float32),
        encode=lambda features: features,
        get_prompt=lambda tokenizer, previous, without_timestamps: [50258, 50259, 50359],
        hf_tokenizer=None,
        model=decoder,
    )
    return t


# When every attempt misses the thresholds, the likeliest one is kept (not the last, noisiest).
def test_fallback_keeps_the_most_likely_attempt():
    decoder = Decoder(
        [
            ([1, 2, 3, 4], -1.30),  # T=0: "go forward ten meters", avg -1.04 (just below -1)
            ([5, 6], -2.40),  # T=0.3: avg -1.6
            ([5], -3.00),  # T=0.6: avg -1.5
        ]
    )
    hyp = scripted_transcriber(decoder).transcribe(np.zeros(32_000, np.float32), final=True)
    assert decoder.temperatures == [0.0, 0.3, 0.6]  # all three attempts ran
    assert hyp.text == "go forward ten meters" and hyp.temperature == 0.0


def test_fallback_stops_at_the_first_good_attempt():
    decoder = Decoder([([1, 2], -1.8), ([3, 4], -0.3), ([5], -0.1)])
    hyp = scripted_transcriber(decoder).transcribe(np.zeros(32_000, np.float32), final=True)
    assert decoder.temperatures == [0.0, 0.3]
    assert hyp.text == "ten meters" and hyp.temperature == 0.3


def test_partials_never_fall_back():
    decoder = Decoder([([1, 2], -1.8), ([3, 4], -0.3)])
    hyp = scripted_transcriber(decoder).transcribe(np.zeros(32_000, np.float32), final=False)
    assert decoder.temperatures == [0.0]
    assert hyp.text == "go forward"


def test_only_partials_decode_over_the_short_encoder_window():
    """2 s of audio: a partial encodes speech + 2 s (4 s); a greedy decode (a revision, a
    hurried final) and a beam final keep the 10 s minimum that stops short-window loops."""
    for kind, seconds in (
        ({"final": False, "partial": True}, 4),
        ({"final": False}, 10),
        ({"final": True}, 10),
    ):
        frames: list[int] = []
        t = scripted_transcriber(Decoder([([1, 2], -0.2)]))
        t.model.encode = lambda features, frames=frames: (
            frames.append(features.shape[1]) or features
        )
        t.transcribe(np.zeros(32_000, np.float32), **kind)
        assert frames == [seconds * 100], (kind, frames)


def test_a_stopped_decode_ends_after_the_encoder_pass_with_no_text():
    decoder = Decoder([([1, 2], -0.2)])
    hyp = scripted_transcriber(decoder).transcribe(
        np.zeros(32_000, np.float32), final=False, stop=lambda: True
    )
    assert decoder.temperatures == []  # the decoder never ran
    assert hyp.text == "" and hyp.rejected == INTERRUPTED


def test_a_final_decode_can_be_stopped_between_fallback_attempts():
    answers = iter([False, True])  # after the encoder: go on; before the T=0.3 retry: stop
    decoder = Decoder([([1, 2], -1.8), ([3, 4], -0.3)])
    hyp = scripted_transcriber(decoder).transcribe(
        np.zeros(32_000, np.float32), final=True, stop=lambda: next(answers)
    )
    assert decoder.temperatures == [0.0]
    assert hyp.rejected == INTERRUPTED
