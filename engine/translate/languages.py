"""One table of languages across Whisper, M2M100 and NLLB-200 codes.

The app speaks Whisper codes (what the recogniser detects); each translation backend has its own
codes: M2M100 uses two/three-letter codes (`zh`, `ast`), NLLB-200 uses FLORES-200 codes
(`zho_Hans`). A language's app code is its Whisper code, or its M2M100 code for the languages
Whisper lacks. Every function here accepts any of the three spellings.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from engine.errors import ConfigError

BACKENDS = ("m2m100", "nllb", "whisper")


@dataclass(frozen=True)
class Language:
    """code: the app's code; whisper/m2m100/nllb: that system's code, None when it lacks it."""

    code: str
    name: str
    whisper: str | None
    m2m100: str | None
    nllb: str | None


def _lang(name: str, whisper: str | None, m2m100: str | None, nllb: str | None) -> Language:
    code = whisper or m2m100 or nllb
    assert code is not None
    return Language(code, name, whisper, m2m100, nllb)


# (name, Whisper, M2M100, NLLB-200). Whisper spells Javanese "jw"; M2M100 "jv".
LANGUAGES: tuple[Language, ...] = (
    _lang("Afrikaans", "af", "af", "afr_Latn"),
    _lang("Amharic", "am", "am", "amh_Ethi"),
    _lang("Arabic", "ar", "ar", "arb_Arab"),
    _lang("Assamese", "as", None, "asm_Beng"),
    _lang("Asturian", None, "ast", "ast_Latn"),
    _lang("Azerbaijani", "az", "az", "azj_Latn"),
    _lang("Bashkir", "ba", "ba", "bak_Cyrl"),
    _lang("Belarusian", "be", "be", "bel_Cyrl"),
    _lang("Bulgarian", "bg", "bg", "bul_Cyrl"),
    _lang("Bengali", "bn", "bn", "ben_Beng"),
    _lang("Tibetan", "bo", None, "bod_Tibt"),
    _lang("Breton", "br", "br", None),
    _lang("Bosnian", "bs", "bs", "bos_Latn"),
    _lang("Catalan", "ca", "ca", "cat_Latn"),
    _lang("Cebuano", None, "ceb", "ceb_Latn"),
    _lang("Czech", "cs", "cs", "ces_Latn"),
    _lang("Welsh", "cy", "cy", "cym_Latn"),
    _lang("Danish", "da", "da", "dan_Latn"),
    _lang("German", "de", "de", "deu_Latn"),
    _lang("Greek", "el", "el", "ell_Grek"),
    _lang("English", "en", "en", "eng_Latn"),
    _lang("Spanish", "es", "es", "spa_Latn"),
    _lang("Estonian", "et", "et", "est_Latn"),
    _lang("Basque", "eu", None, "eus_Latn"),
    _lang("Persian", "fa", "fa", "pes_Arab"),
    _lang("Fulah", None, "ff", "fuv_Latn"),
    _lang("Finnish", "fi", "fi", "fin_Latn"),
    _lang("Faroese", "fo", None, "fao_Latn"),
    _lang("French", "fr", "fr", "fra_Latn"),
    _lang("Western Frisian", None, "fy", None),
    _lang("Irish", None, "ga", "gle_Latn"),
    _lang("Scottish Gaelic", None, "gd", "gla_Latn"),
    _lang("Galician", "gl", "gl", "glg_Latn"),
    _lang("Gujarati", "gu", "gu", "guj_Gujr"),
    _lang("Hausa", "ha", "ha", "hau_Latn"),
    _lang("Hawaiian", "haw", None, None),
    _lang("Hebrew", "he", "he", "heb_Hebr"),
    _lang("Hindi", "hi", "hi", "hin_Deva"),
    _lang("Croatian", "hr", "hr", "hrv_Latn"),
    _lang("Haitian Creole", "ht", "ht", "hat_Latn"),
    _lang("Hungarian", "hu", "hu", "hun_Latn"),
    _lang("Armenian", "hy", "hy", "hye_Armn"),
    _lang("Indonesian", "id", "id", "ind_Latn"),
    _lang("Igbo", None, "ig", "ibo_Latn"),
    _lang("Ilocano", None, "ilo", "ilo_Latn"),
    _lang("Icelandic", "is", "is", "isl_Latn"),
    _lang("Italian", "it", "it", "ita_Latn"),
    _lang("Japanese", "ja", "ja", "jpn_Jpan"),
    _lang("Javanese", "jw", "jv", "jav_Latn"),
    _lang("Georgian", "ka", "ka", "kat_Geor"),
    _lang("Kazakh", "kk", "kk", "kaz_Cyrl"),
    _lang("Khmer", "km", "km", "khm_Khmr"),
    _lang("Kannada", "kn", "kn", "kan_Knda"),
    _lang("Korean", "ko", "ko", "kor_Hang"),
    _lang("Latin", "la", None, None),
    _lang("Luxembourgish", "lb", "lb", "ltz_Latn"),
    _lang("Ganda", None, "lg", "lug_Latn"),
    _lang("Lingala", "ln", "ln", "lin_Latn"),
    _lang("Lao", "lo", "lo", "lao_Laoo"),
    _lang("Lithuanian", "lt", "lt", "lit_Latn"),
    _lang("Latvian", "lv", "lv", "lvs_Latn"),
    _lang("Malagasy", "mg", "mg", "plt_Latn"),
    _lang("Maori", "mi", None, "mri_Latn"),
    _lang("Macedonian", "mk", "mk", "mkd_Cyrl"),
    _lang("Malayalam", "ml", "ml", "mal_Mlym"),
    _lang("Mongolian", "mn", "mn", "khk_Cyrl"),
    _lang("Marathi", "mr", "mr", "mar_Deva"),
    _lang("Malay", "ms", "ms", "zsm_Latn"),
    _lang("Maltese", "mt", None, "mlt_Latn"),
    _lang("Burmese", "my", "my", "mya_Mymr"),
    _lang("Nepali", "ne", "ne", "npi_Deva"),
    _lang("Dutch", "nl", "nl", "nld_Latn"),
    _lang("Norwegian Nynorsk", "nn", None, "nno_Latn"),
    _lang("Norwegian", "no", "no", "nob_Latn"),
    _lang("Northern Sotho", None, "ns", "nso_Latn"),
    _lang("Occitan", "oc", "oc", "oci_Latn"),
    _lang("Oriya", None, "or", "ory_Orya"),
    _lang("Punjabi", "pa", "pa", "pan_Guru"),
    _lang("Polish", "pl", "pl", "pol_Latn"),
    _lang("Pashto", "ps", "ps", "pbt_Arab"),
    _lang("Portuguese", "pt", "pt", "por_Latn"),
    _lang("Romanian", "ro", "ro", "ron_Latn"),
    _lang("Russian", "ru", "ru", "rus_Cyrl"),
    _lang("Sanskrit", "sa", None, "san_Deva"),
    _lang("Sindhi", "sd", "sd", "snd_Arab"),
    _lang("Sinhala", "si", "si", "sin_Sinh"),
    _lang("Slovak", "sk", "sk", "slk_Latn"),
    _lang("Slovenian", "sl", "sl", "slv_Latn"),
    _lang("Shona", "sn", None, "sna_Latn"),
    _lang("Somali", "so", "so", "som_Latn"),
    _lang("Albanian", "sq", "sq", "als_Latn"),
    _lang("Serbian", "sr", "sr", "srp_Cyrl"),
    _lang("Swati", None, "ss", "ssw_Latn"),
    _lang("Sundanese", "su", "su", "sun_Latn"),
    _lang("Swedish", "sv", "sv", "swe_Latn"),
    _lang("Swahili", "sw", "sw", "swh_Latn"),
    _lang("Tamil", "ta", "ta", "tam_Taml"),
    _lang("Telugu", "te", None, "tel_Telu"),
    _lang("Tajik", "tg", None, "tgk_Cyrl"),
    _lang("Thai", "th", "th", "tha_Thai"),
    _lang("Turkmen", "tk", None, "tuk_Latn"),
    _lang("Tagalog", "tl", "tl", "tgl_Latn"),
    _lang("Tswana", None, "tn", "tsn_Latn"),
    _lang("Turkish", "tr", "tr", "tur_Latn"),
    _lang("Tatar", "tt", None, "tat_Cyrl"),
    _lang("Ukrainian", "uk", "uk", "ukr_Cyrl"),
    _lang("Urdu", "ur", "ur", "urd_Arab"),
    _lang("Uzbek", "uz", "uz", "uzn_Latn"),
    _lang("Vietnamese", "vi", "vi", "vie_Latn"),
    _lang("Wolof", None, "wo", "wol_Latn"),
    _lang("Xhosa", None, "xh", "xho_Latn"),
    _lang("Yiddish", "yi", "yi", "ydd_Hebr"),
    _lang("Yoruba", "yo", "yo", "yor_Latn"),
    _lang("Chinese", "zh", "zh", "zho_Hans"),
    _lang("Cantonese", "yue", None, "yue_Hant"),
    _lang("Zulu", None, "zu", "zul_Latn"),
)

# Other spellings people and tools use for the same languages.
ALIASES: dict[str, str] = {
    "jv": "jw",
    "nb": "no",
    "iw": "he",
    "in": "id",
    "zh-cn": "zh",
    "zh-hans": "zh",
    "zh_cn": "zh",
    "pt-br": "pt",
    "pt-pt": "pt",
    "en-us": "en",
    "en-gb": "en",
}

_BY_KEY: dict[str, Language] = {}
for _language in LANGUAGES:
    for _key in (_language.code, _language.whisper, _language.m2m100, _language.nllb):
        if _key:
            _BY_KEY.setdefault(_key.lower(), _language)
for _alias, _target in ALIASES.items():
    _BY_KEY.setdefault(_alias, _BY_KEY[_target])

_BACKEND_NAMES = {"m2m100": "M2M100", "nllb": "NLLB-200", "whisper": "Whisper"}


def find(code: str) -> Language:
    """The language of a Whisper, M2M100 or NLLB code (or a common alias); ConfigError if none."""
    language = _BY_KEY.get(code.strip().lower()) if isinstance(code, str) else None
    if language is None:
        raise ConfigError(
            f"Unknown language code '{code}'. Use a Whisper code such as en, de, es, zh "
            f"(or an NLLB code such as zho_Hans); {len(LANGUAGES)} languages are known."
        )
    return language


def _code_for(language: Language, backend: str) -> str | None:
    if backend not in BACKENDS:
        raise ConfigError(
            f"Unknown translation backend '{backend}' (one of {', '.join(BACKENDS)})."
        )
    return getattr(language, backend)


def to_backend(code: str, backend: str) -> str:
    """The backend's own code for a language; ConfigError when the backend lacks it."""
    language = find(code)
    result = _code_for(language, backend)
    if result is None:
        raise ConfigError(
            f"{_BACKEND_NAMES[backend]} does not know {language.name} ('{code}'); "
            f"{_suggest(language, backend)}"
        )
    return result


def to_whisper(code: str) -> str:
    return to_backend(code, "whisper")


def to_m2m100(code: str) -> str:
    return to_backend(code, "m2m100")


def to_nllb(code: str) -> str:
    return to_backend(code, "nllb")


def app_code(code: str) -> str:
    """The app's code (Whisper's where it has one) for any spelling: `zho_Hans` -> `zh`."""
    return find(code).code


def supported(backend: str) -> tuple[Language, ...]:
    """The languages a backend can translate from and to."""
    return tuple(x for x in LANGUAGES if _code_for(x, backend) is not None)


def check_pair(source: str, target: str, backend: str) -> tuple[str, str]:
    """Validate a translation pair for a backend; returns the backend's (source, target) codes.

    Whisper translates any language it recognises into English only. Raises ConfigError with a
    message naming the language, the backend and an alternative.
    """
    if backend == "whisper":
        src = to_backend(source, "whisper")
        tgt_language = find(target)
        if tgt_language.code != "en":
            raise ConfigError(
                f"Whisper can only translate into English, not into {tgt_language.name} "
                f"('{target}'); choose the m2m100 or nllb translator for that target."
            )
        return src, "en"
    return to_backend(source, backend), to_backend(target, backend)


def _suggest(language: Language, backend: str) -> str:
    others = [b for b in ("m2m100", "nllb") if b != backend and _code_for(language, b)]
    if others:
        return f"the {' or '.join(others)} translator supports it."
    return "no offline translator supports it."


def check_model_pair(
    source: str, target: str, backend: str, model_codes: Container[str], model_name: str
) -> tuple[str, str]:
    """`check_pair`, then both codes must be in this model's own languages (a model may know
    fewer than its family); ConfigError naming the model otherwise."""
    src, tgt = check_pair(source, target, backend)
    for code, original in ((src, source), (tgt, target)):
        if code not in model_codes:
            raise ConfigError(f"The translation model {model_name} has no language '{original}'.")
    return src, tgt
