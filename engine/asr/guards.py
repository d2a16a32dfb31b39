"""Hallucination guards for Whisper output (pure logic).

`check(text, no_speech_prob=..., avg_logprob=..., options=...)` is the whole policy the
recogniser applies to every decode (partials, finals, revisions, with or without a prompt):
it returns the text to keep (possibly with a loop cut off) or why the text was rejected.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from engine.asr.text import normalize_unit
from engine.config import AsrOptions

# Well-known texts Whisper invents from silence, music or noise (normalised, exact match).
SILENCE_HALLUCINATIONS = {
    "thank you",
    "thank you.",
    "thanks",
    "thank you very much",
    "thanks for watching",
    "thank you for watching",
    "thanks for watching and see you next time",
    "please subscribe",
    "subscribe",
    "like and subscribe",
    "bye",
    "bye bye",
    "you",
    "the end",
    "so",
    "okay",
    "oh",
    "hmm",
    "music",
    "applause",
    "silence",
    "subtitles by the amaraorg community",
    "subtitles by",
    "transcription by castingwords",
    "thank you for watching please subscribe",
    "see you next time",
    "ご視聴ありがとうございました",
    "字幕",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "谢谢观看",
    "谢谢",
    "謝謝觀看",
    "untertitel der amaraorg community",
    "untertitel im auftrag des zdf",
    "sous-titrage société radiocanada",
    "sous-titres réalisés para la communauté damaraorg",
    "subtítulos realizados por la comunidad de amaraorg",
    "gracias",
    "merci",
}
_BLOCK_PREFIXES = (
    "subtitles by",
    "字幕",
    "untertitel",
    "sous-titr",
    "subtítulos",
    "transcribed by",
)


def _norm_text(text: str) -> str:
    words = [normalize_unit(w) for w in text.split()]
    return " ".join(w for w in words if w) or normalize_unit(text)


def is_blocklisted(text: str) -> bool:
    norm = _norm_text(text)
    if not norm:
        return True
    if norm in {_norm_text(h) for h in SILENCE_HALLUCINATIONS}:
        return True
    lowered = text.strip().casefold()
    return any(lowered.startswith(p) for p in _BLOCK_PREFIXES)


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(len(zlib.compress(data)), 1)


def _allowed_repeats(n: int) -> int:
    """How often an n-gram may follow itself in real speech ("five five five", "thank you
    thank you"); a longer phrase said twice in a row is Whisper looping."""
    return 3 if n == 1 else 2 if n == 2 else 1


_STUTTER = re.compile(r"^(\w{1,3})(?:[-.,]\1){3,}", re.UNICODE)


def trim_repetition(units: list[str], *, max_ngram: int = 12) -> list[str]:
    """Cut a decoding loop: keep the first occurrences an n-gram may have, drop the rest of the
    text (Whisper rarely recovers from a loop). Also cuts "D-D-D-D-D"-style stutters."""
    for i, unit in enumerate(units):
        if _STUTTER.match(unit):
            return units[:i]
    norm = [normalize_unit(u) for u in units]
    cut = len(units)
    for n in range(1, max_ngram + 1):
        allowed = _allowed_repeats(n)
        i = 0
        while i + n * (allowed + 1) <= min(len(norm), cut):
            gram = norm[i : i + n]
            if not any(gram):
                i += 1
                continue
            repeats, j = 1, i + n
            while norm[j : j + n] == gram:
                repeats += 1
                j += n
            if repeats > allowed:
                cut = min(cut, i + n * allowed)
                break
            i += 1
    return units[:cut]


_WORD = re.compile(r"\w", re.UNICODE)
_TOKEN = re.compile(r"\w+", re.UNICODE)


def glued_loop(text: str) -> bool:
    """A loop hidden inside one "word" (digits or syllables glued by punctuation): the words
    split on spaces look fine, the word-character runs repeat like a loop."""
    for word in text.split():
        tokens = [t for t in _TOKEN.findall(word) if t.strip("0")]  # "1,000,000,000,000"
        if len(tokens) > 4 and len(trim_repetition(tokens)) < len(tokens):
            return True
    return False


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the guards made of one decode: the text to keep, or why none is kept
    (`rejected` is "empty", "no-speech", "repetitive" or "blocklisted"; then `text` is "")."""

    text: str
    rejected: str | None = None


def check(
    text: str,
    *,
    no_speech_prob: float,
    avg_logprob: float,
    options: AsrOptions | None = None,
) -> Verdict:
    """Apply every hallucination guard to one decoded text (see `Verdict`)."""
    opts = options or AsrOptions()
    if not opts.hallucination_guard:
        return Verdict(text)
    if not has_words(text):
        return Verdict("", "empty")
    if no_speech_prob > opts.no_speech_threshold and avg_logprob < opts.log_prob_threshold:
        return Verdict("", "no-speech")
    words = text.split()
    trimmed = trim_repetition(words)
    if len(trimmed) < len(words):
        text = " ".join(trimmed)
    if compression_ratio(text) > opts.compression_ratio_threshold:
        return Verdict("", "repetitive")
    if glued_loop(text):  # "1,5,5,5,5,5,5,5,5," is one word to the trim above
        return Verdict("", "repetitive")
    # a real "Thank you." is common in meetings: drop the phrase only when Whisper doubts it
    if is_blocklisted(text) and (no_speech_prob > 0.2 or avg_logprob < -0.5):
        return Verdict("", "blocklisted")
    return Verdict(text)
