"""Units for agreement: words for spaced scripts; for zh/ja/th/..., each character of those
scripts is a unit while embedded Latin words and numbers stay whole ("我们用 Zoom 开会")."""

from __future__ import annotations

import re
import unicodedata

UNSPACED_LANGS = {"zh", "ja", "th", "lo", "my", "km", "yue", "bo"}
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
# One unspaced-script character, or a run of anything else that is not a space.
_UNSPACED_UNIT = re.compile(
    r"[\u0E00-\u0EFF\u1000-\u109F\u1780-\u17FF\u0F00-\u0FFF\u3000-\u30FF\u3400-\u9FFF"
    r"\uF900-\uFAFF\uFF00-\uFFEF]|[^\s\u0E00-\u0EFF\u1000-\u109F\u1780-\u17FF\u0F00-\u0FFF"
    r"\u3000-\u30FF\u3400-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF]+"
)


def _is_spaced_word(unit: str) -> bool:
    return len(unit) > 1 or unit.isascii()


def split_units(text: str, lang: str | None) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if lang in UNSPACED_LANGS:
        return _UNSPACED_UNIT.findall(text)
    return text.split()


def join_units(units: list[str], lang: str | None) -> str:
    if lang not in UNSPACED_LANGS:
        return " ".join(units)
    out = ""
    for unit in units:
        if out and _is_spaced_word(unit) and _is_spaced_word(out[-1]):
            out += " "
        out += unit
    return out


def normalize_unit(unit: str) -> str:
    """Case- and punctuation-insensitive form used to compare units across hypotheses."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", unit).casefold())
