"""Word units for agreement: words for spaced scripts, characters for zh/ja/th/... ."""

from __future__ import annotations

import re
import unicodedata

UNSPACED_LANGS = {"zh", "ja", "th", "lo", "my", "km", "yue", "bo"}
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def split_units(text: str, lang: str | None) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if lang in UNSPACED_LANGS:
        return [ch for ch in text if not ch.isspace()]
    return text.split()


def join_units(units: list[str], lang: str | None) -> str:
    return ("" if lang in UNSPACED_LANGS else " ").join(units)


def normalize_unit(unit: str) -> str:
    """Case- and punctuation-insensitive form used to compare units across hypotheses."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", unit).casefold())
