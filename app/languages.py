"""Language choices offered in the GUI (Whisper codes; the engine maps them for translation)."""

from __future__ import annotations

# Common languages both Whisper and M2M100 handle, by English name.
LANGUAGES: dict[str, str] = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sv": "Swedish",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def sorted_languages() -> list[tuple[str, str]]:
    """(code, name) sorted by name."""
    return sorted(LANGUAGES.items(), key=lambda kv: kv[1])


def language_name(code: str | None) -> str:
    if not code:
        return ""
    return LANGUAGES.get(code, code)
