"""Hallucination guards for Whisper output (pure logic)."""

from __future__ import annotations

import re
import zlib

from engine.asr.text import normalize_unit

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


def trim_repetition(units: list[str], *, max_repeats: int = 3, max_ngram: int = 8) -> list[str]:
    """Cut a loop: an n-gram (n <= max_ngram) repeated more than max_repeats times in a row is
    kept max_repeats times... then everything after the loop is dropped (Whisper rarely
    recovers from one)."""
    norm = [normalize_unit(u) for u in units]
    for n in range(1, max_ngram + 1):
        i = 0
        while i + n * (max_repeats + 1) <= len(norm):
            gram = norm[i : i + n]
            repeats = 1
            j = i + n
            while norm[j : j + n] == gram:
                repeats += 1
                j += n
            if repeats > max_repeats:
                return units[: i + n * max_repeats]
            i += 1
    return units


_WORD = re.compile(r"\w", re.UNICODE)


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))
