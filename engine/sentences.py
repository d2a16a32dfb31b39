"""Splitting text into sentences: translation and speech both work sentence by sentence."""

from __future__ import annotations

import re

# Sentence ends: . ! ? … followed by space/end (not inside numbers like 3.5), or CJK ends.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？；])")


_ABBREVIATIONS = frozenset(
    [
        "mr.",
        "mrs.",
        "ms.",
        "dr.",
        "prof.",
        "st.",
        "sr.",
        "jr.",
        "vs.",
        "etc.",
        "e.g.",
        "i.e.",
        "no.",
        "fig.",
        "approx.",
        "sra.",
        "dra.",
        "hr.",
        "fr.",
        "mme.",
        "mlle.",
    ]
)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences (non-empty, stripped); a text without an end mark is one.

    A period after a common title or abbreviation ("Dr.", "e.g.") does not end a sentence.
    """
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip())]
    sentences: list[str] = []
    for part in parts:
        if not part:
            continue
        if sentences and sentences[-1].split()[-1].lower() in _ABBREVIATIONS:
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences
