"""Language table: Whisper <-> M2M100 <-> NLLB codes, and clear errors for unsupported pairs."""

from __future__ import annotations

import pytest

from engine.errors import ConfigError
from engine.translate import languages as L
from engine.translate.m2m100_tokenizer import M2M100_LANGUAGE_CODES, NLLB_LANGUAGE_CODES


def _whisper_codes() -> tuple[str, ...]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return tuple(_LANGUAGE_CODES)


def test_codes_exist_in_each_system() -> None:
    whisper = set(_whisper_codes())
    m2m = set(M2M100_LANGUAGE_CODES["m2m100"])
    nllb = set(NLLB_LANGUAGE_CODES)
    for language in L.LANGUAGES:
        assert language.whisper is None or language.whisper in whisper, language
        assert language.m2m100 is None or language.m2m100 in m2m, language
        assert language.nllb is None or language.nllb in nllb, language


def test_every_whisper_and_m2m100_language_is_in_the_table() -> None:
    table_whisper = {x.whisper for x in L.LANGUAGES if x.whisper}
    table_m2m = {x.m2m100 for x in L.LANGUAGES if x.m2m100}
    assert table_whisper == set(_whisper_codes())
    assert table_m2m == set(M2M100_LANGUAGE_CODES["m2m100"])
    both = [x for x in L.LANGUAGES if x.whisper and x.m2m100]
    assert len(both) == 84  # every M2M100 language Whisper also recognises
    assert all(x.nllb for x in both if x.code != "br")  # NLLB lacks only Breton of those


def test_codes_are_unique() -> None:
    for attr in ("code", "whisper", "m2m100", "nllb"):
        values = [getattr(x, attr) for x in L.LANGUAGES if getattr(x, attr)]
        assert len(values) == len(set(values)), attr


@pytest.mark.parametrize(
    ("code", "whisper", "m2m100", "nllb"),
    [
        ("zh", "zh", "zh", "zho_Hans"),
        ("en", "en", "en", "eng_Latn"),
        ("de", "de", "de", "deu_Latn"),
        ("es", "es", "es", "spa_Latn"),
        ("fr", "fr", "fr", "fra_Latn"),
        ("pt", "pt", "pt", "por_Latn"),
        ("ja", "ja", "ja", "jpn_Jpan"),
        ("ko", "ko", "ko", "kor_Hang"),
        ("ru", "ru", "ru", "rus_Cyrl"),
        ("ar", "ar", "ar", "arb_Arab"),
        ("uk", "uk", "uk", "ukr_Cyrl"),
        ("fa", "fa", "fa", "pes_Arab"),
        ("jw", "jw", "jv", "jav_Latn"),
        ("jv", "jw", "jv", "jav_Latn"),
        ("zho_Hans", "zh", "zh", "zho_Hans"),
        ("ZHO_HANS", "zh", "zh", "zho_Hans"),
        ("eng_Latn", "en", "en", "eng_Latn"),
        ("nb", "no", "no", "nob_Latn"),
        ("zh-CN", "zh", "zh", "zho_Hans"),
    ],
)
def test_conversions(code: str, whisper: str, m2m100: str, nllb: str) -> None:
    assert L.to_whisper(code) == whisper
    assert L.to_m2m100(code) == m2m100
    assert L.to_nllb(code) == nllb
    assert L.app_code(code) == whisper


def test_languages_without_whisper_code_use_their_m2m100_code() -> None:
    assert L.app_code("ast") == "ast"
    assert L.to_nllb("zu") == "zul_Latn"
    with pytest.raises(ConfigError, match="Whisper does not know Zulu"):
        L.to_whisper("zu")


def test_check_pair_returns_backend_codes() -> None:
    assert L.check_pair("de", "en", "m2m100") == ("de", "en")
    assert L.check_pair("de", "zh", "nllb") == ("deu_Latn", "zho_Hans")
    assert L.check_pair("es", "en", "whisper") == ("es", "en")
    assert L.check_pair("yue", "en", "nllb") == ("yue_Hant", "eng_Latn")


def test_unknown_code_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="Unknown language code 'xx'"):
        L.check_pair("xx", "en", "m2m100")
    with pytest.raises(ConfigError, match="Unknown language code"):
        L.find("")


def test_unsupported_pairs_name_the_language_and_an_alternative() -> None:
    with pytest.raises(ConfigError, match=r"M2M100 does not know Latin.*no offline translator"):
        L.check_pair("la", "en", "m2m100")
    with pytest.raises(ConfigError, match=r"M2M100 does not know Cantonese.*nllb translator"):
        L.check_pair("en", "yue", "m2m100")
    with pytest.raises(ConfigError, match=r"NLLB-200 does not know Breton.*m2m100 translator"):
        L.check_pair("br", "en", "nllb")
    with pytest.raises(ConfigError, match="only translate into English, not into German"):
        L.check_pair("es", "de", "whisper")
    with pytest.raises(ConfigError, match="Unknown translation backend 'marian'"):
        L.check_pair("es", "de", "marian")


def test_supported_lists() -> None:
    assert len(L.supported("m2m100")) == 100
    assert len(L.supported("whisper")) == 100
    nllb = {x.nllb for x in L.supported("nllb")}
    assert "zho_Hans" in nllb and "eng_Latn" in nllb
