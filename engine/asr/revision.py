"""Revisions as pure logic: a whole paragraph re-decoded, its words handed back to the finals
they belong to, and a revised text kept only when it is not worse (issue 8).

The recogniser decodes the span of several finals as one window and times its words
(`Transcriber.align`); `assign_words` gives every word to the segment whose time range holds the
word's midpoint (a word in a pause between two segments goes to the nearer one), and `judge`
decides per segment whether the new text replaces the old one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from engine.asr import guards
from engine.asr.text import join_units, normalize_unit, split_units
from engine.config import AsrOptions
from engine.events import Word

MAX_GROWTH_WORDS = 2.0  # a revision with more than this many times the words (+ slack) is refused
GROWTH_SLACK_WORDS = 4


@dataclass(frozen=True, slots=True)
class Span:
    """A segment's time range in seconds of the source (what `assign_words` assigns to)."""

    segment_id: int
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Judgement:
    """What to do with one segment's revised text: `text` replaces the old one when `changed`;
    otherwise `reason` says why not ("unchanged", "no words", "drops words", ...)."""

    text: str
    changed: bool
    reason: str = ""


def assign_words(words: Sequence[Word], spans: Sequence[Span]) -> dict[int, list[Word]]:
    """Every word (times in seconds of the source) to the span holding its midpoint; a word
    between two spans (or before the first, after the last) goes to the nearest one."""
    out: dict[int, list[Word]] = {s.segment_id: [] for s in spans}
    if not spans:
        return out
    for word in words:
        mid = (word.start + word.end) / 2
        best = min(spans, key=lambda s: 0.0 if s.start <= mid < s.end else _distance(s, mid))
        out[best.segment_id].append(word)
    return out


def _distance(span: Span, t: float) -> float:
    return span.start - t if t < span.start else t - span.end


def segment_text(words: Sequence[Word], lang: str | None) -> str:
    """The words of one segment joined as the language writes them."""
    units = [u for w in words for u in split_units(w.text, lang)]
    return join_units(units, lang).strip()


def normalized(text: str, lang: str | None) -> list[str]:
    """Case- and punctuation-free units: what a revision must change to count as one."""
    return [n for n in (normalize_unit(u) for u in split_units(text, lang)) if n]


def mean_logprob(words: Sequence[Word]) -> float:
    """Mean log-probability of the words (each word's probability as the decoder gave it)."""
    return sum(math.log(max(w.probability, 1e-6)) for w in words) / max(len(words), 1)


def judge(
    old_text: str,
    new_words: Sequence[Word],
    lang: str | None,
    *,
    avg_logprob: float,
    no_speech_prob: float,
    options: AsrOptions | None = None,
    old_words: Sequence[Word] = (),
) -> Judgement:
    """Whether the words a revision gave one segment replace its text (see `Judgement`).

    Refused: no words; a text the hallucination guards reject or cut (a loop); one with fewer
    words than the line (on real speech a long window mostly loses words by skipping one:
    "4 Queen of Clothes" -> "queen of close"; the loops that once doubled short lines are
    fixed at their root) or more than twice as many (a decode that invented a stretch); one
    whose normalised words are the same (punctuation and case alone are not worth a new
    translation); one less likely than the old text (`old_words`: the old text's words as the
    decoder scores them on the same window, when given)."""
    new_text = segment_text(new_words, lang)
    if not new_text:
        return Judgement(old_text, False, "no words")
    verdict = guards.check(
        new_text, no_speech_prob=no_speech_prob, avg_logprob=avg_logprob, options=options
    )
    if verdict.rejected:
        return Judgement(old_text, False, f"guard: {verdict.rejected}")
    if verdict.text != new_text:
        return Judgement(old_text, False, "guard: loop")
    old, new = normalized(old_text, lang), normalized(new_text, lang)
    if new == old:
        return Judgement(old_text, False, "unchanged")
    if len(new) < len(old):
        return Judgement(old_text, False, "drops words")
    if len(new) > MAX_GROWTH_WORDS * len(old) + GROWTH_SLACK_WORDS:
        return Judgement(old_text, False, "adds words")
    if old_words and mean_logprob(new_words) < mean_logprob(old_words):
        return Judgement(old_text, False, "less likely")
    return Judgement(new_text, True)
