"""Which language a segment is in, when the language is detected (issue 12, defect 10).

Whisper guesses the language of each decode from the audio alone. On a second of speech the
guess is often wild, and sometimes confidently so: in a German session of espeak-ng sentences,
"Danke schön." came back "th" 0.28, "Die Zahlen sind besser als erwartet." "ro" 0.34 and
"Genau." "zh" 0.37, with "de" at 0.01-0.13 (Whisper base, a 10 s window; the full 30 s window
does no better: 17 of 25 right against 16 of 25). Before, the session's languages were used only
once one had been heard at >= 0.75 confidence and only against a guess below 0.5, so a German
session whose sentences never reached 0.75 had no prior at all and each short line took its own
wild guess.

`LanguagePrior` keeps what the session has sounded like lately: every final's own language
probabilities, weighted by its duration, as log evidence that fades with a half-life of
`HALF_LIFE_S` of speech (the last few lines count, so a meeting that moves to another language
follows it). A new guess is weighed by that prior: the chosen language maximises
`p_segment(l) * (prior(l) + NEW_WEIGHT)`. A language not heard lately needs about a hundred
times the probability of the recent one to win, unless the segment is itself clear
(`STRONG_PROB` on at least `STRONG_MIN_S` of speech): a real switch of language is taken at
once. On the first line nothing is known yet, so its own guess stands.

Measured on 115 decisions (Whisper base, 10 s windows; sessions of 7-10 espeak-ng sentences in
de/es/fr, the 8 shared English clips, and five two-language sessions): 85 right, against 73 for
each line's own guess and 80 with a 30 s half-life (evidence that lasts makes a switch of
language stick less). Every English clip is right either way (real speech is detected with
0.7-1.0); espeak-ng's French stays poorly recognised (2 of 7). Tuned on that same set; through
the whole engine (Silero segments, 47 lines of de, es, fr, en and en-then-de sessions) 37 lines
are tagged right, against 32 before.
Rejected: picking among the top three languages by the decode's average log-probability (17 of
32 single lines against 18 for Whisper's own guess).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping

STRONG_PROB = 0.5  # a segment's own guess this sure, on ...
STRONG_MIN_S = 1.5  # ... this much speech, is taken as said (a change of language)
NEW_WEIGHT = 0.01  # prior weight every language has, heard or not
HALF_LIFE_S = 3.0  # of speech: evidence this old counts half (the last few lines count)
FLOOR = 1e-4  # probability below which a language counts as absent
HEARD_WEIGHT = 0.1  # a language with this much of the prior counts as heard (iteration)


class LanguagePrior:
    """The languages a session has had so far, as fading evidence (see the module doc).

    heard: languages known to have been spoken (together they count as STRONG_MIN_S of clear
    speech, shared equally).
    Used by one thread (the recogniser's); not locked.
    """

    def __init__(self, heard: Iterable[str] = ()) -> None:
        self._evidence: dict[str, float] = {}  # faded, duration-weighted log probabilities
        self._absent = 0.0  # the evidence of a language absent from every observation
        codes = list(dict.fromkeys(heard))
        if codes:
            self.observe({code: 1.0 / len(codes) for code in codes}, STRONG_MIN_S)

    def observe(self, probs: Mapping[str, float], audio_s: float) -> None:
        """Add one final's own language probabilities over `audio_s` seconds of speech."""
        if not probs or audio_s <= 0:
            return
        fade = 0.5 ** (audio_s / HALF_LIFE_S)
        absent = audio_s * math.log(FLOOR)
        for code in set(self._evidence) | set(probs):
            old = self._evidence.get(code, self._absent)  # a new code was absent before
            p = max(probs.get(code, 0.0), FLOOR)
            self._evidence[code] = old * fade + audio_s * math.log(p)
        self._absent = self._absent * fade + absent

    def weights(self) -> dict[str, float]:
        """The prior: each language's share (sums to 1; empty before anything was heard)."""
        if not self._evidence:
            return {}
        top = max(self._evidence.values())
        raw = {code: math.exp(value - top) for code, value in self._evidence.items()}
        total = sum(raw.values())
        return {code: value / total for code, value in raw.items()}

    def choose(self, probs: Mapping[str, float], audio_s: float) -> tuple[str, float]:
        """The language of a segment whose own guess is `probs`, and its probability (the
        segment's own when it stands alone, else the prior-weighted one)."""
        if not probs:
            raise ValueError("no language probabilities to choose from")
        best = max(probs, key=probs.__getitem__)
        prior = self.weights()
        if not prior or (probs[best] >= STRONG_PROB and audio_s >= STRONG_MIN_S):
            return best, probs[best]
        scores = {code: p * (prior.get(code, 0.0) + NEW_WEIGHT) for code, p in probs.items()}
        chosen = max(scores, key=scores.__getitem__)
        return chosen, scores[chosen] / sum(scores.values())

    def __iter__(self) -> Iterator[str]:
        """The languages heard so far (a tenth of the prior or more), likeliest first."""
        weights = self.weights()
        heard = [code for code, w in weights.items() if w >= HEARD_WEIGHT]
        return iter(sorted(heard, key=weights.__getitem__, reverse=True))

    def __bool__(self) -> bool:
        return bool(self._evidence)
