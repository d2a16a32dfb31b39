"""Splitting text into sentences: translation and speech both work sentence by sentence."""

from __future__ import annotations

import re

# Sentence ends, by how the script writes them (closing quotes and brackets stay with the
# sentence they close):
# - marks that end a sentence only before white space (so "3.5" and "e.g.x" stay whole): Latin
#   . ! ? and the ellipsis, the double marks, and ASCII-like marks of other scripts;
# - marks that end a sentence wherever they stand, because their scripts may not put a space
#   after them (CJK) or because they are never used inside a word or number: CJK full-width
#   。！？；．｡, Devanagari/Bengali danda । ॥ (Hindi, Marathi, Nepali, Bengali...), Arabic
#   question mark ؟ (Arabic, Persian, Urdu), Urdu full stop ۔, Ethiopic full stop ። and
#   question mark ፧ and paragraph ፨ (Amharic, Tigrinya), Armenian full stop ։, Greek question
#   mark ; (U+037E), Myanmar ။, Khmer ។ ៕, Sinhala ෴, Tibetan gter tsheg ༎.
_SPACED_ENDS = ".!?…‼⁇⁈⁉"
_ANY_ENDS = "。！？；．｡।॥؟۔።፧፨։\u037e။។៕෴༎"
_CLOSERS = "\"'”’»›)]）」』】〉》"
_GREEK = "\u0370-\u03ff\u1f00-\u1fff"
_BOUNDARY = re.compile(
    f"[{re.escape(_SPACED_ENDS)}][{re.escape(_CLOSERS)}]*(?=\\s)"
    # a quoted sentence followed by Japanese quotative と/って continues ("「はい。」と言った")
    f"|[{_ANY_ENDS}](?:[{re.escape(_CLOSERS)}]+(?!と|って))?(?![{re.escape(_CLOSERS)}])"
    # Greek's question mark is normalised (NFC) to ';': after a Greek letter it ends a question
    f"|(?<=[{_GREEK}]);[{re.escape(_CLOSERS)}]*(?=\\s)"
)


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
    The end marks of every script Whisper writes with punctuation are known (see _ANY_ENDS);
    scripts without sentence punctuation (Thai, Lao) come back as one sentence.
    """
    text = text.strip()
    parts: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        parts.append(text[start : match.end()].strip())
        start = match.end()
    parts.append(text[start:].strip())
    sentences: list[str] = []
    for part in parts:
        if not part:
            continue
        if sentences and sentences[-1].split()[-1].lower() in _ABBREVIATIONS:
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences
