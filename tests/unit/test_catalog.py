"""The model catalogue: the shipped resources/models.toml and the validation rules."""

from __future__ import annotations

import re

import pytest

from engine.errors import ModelError
from engine.models import packaged
from engine.models.catalog import STAGES, load_catalog, parse_catalog, valid_id
from engine.models.cli import format_languages, format_size


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_shipped_catalogue_covers_every_stage(catalog) -> None:
    assert {e.stage for e in catalog.entries} == set(STAGES)
    ids = [e.id for e in catalog.entries]
    assert len(ids) == len(set(ids)) and all(valid_id(i) for i in ids)
    for wanted in (
        "whisper-tiny",
        "whisper-base",
        "whisper-small",
        "whisper-medium",
        "whisper-large-v3",
        "m2m100-418m-onnx",
        "nllb-200-distilled-600m-onnx-int8",
        "piper-de_DE-thorsten-medium",
        "piper-es_ES-davefx-medium",
        "piper-fr_FR-siwis-medium",
        "piper-zh_CN-huayan-medium",
        "piper-en_US-lessac-medium",
    ):
        assert catalog.get(wanted) is not None, wanted


def test_every_packaged_model_is_in_the_catalogue(catalog) -> None:
    for found in packaged.discover():
        entry = catalog.get(found.model_id)
        assert entry is not None, found.model_id
        assert entry.stage == found.stage and entry.packaged is not None


def test_offline_defaults_have_packaged_sources(catalog) -> None:
    for model_id in (
        "whisper-base",
        "whisper-tiny.en",
        "silero-vad-v6",
        "piper-en_US-joe-medium",
        "resemblyzer-voice-encoder",
    ):
        entry = catalog[model_id]
        assert entry.packaged is not None and entry.packaged.pip


def test_whisper_base_sizes_match_the_packaged_copy(catalog) -> None:
    files = {f.local: f for f in catalog["whisper-base"].files}
    assert files["model.bin"].size == packaged.WHISPER_BASE_BIN_SIZE
    assert catalog["default"].id == catalog["base"].id == "whisper-base"


def test_entries_are_well_formed(catalog) -> None:
    for entry in catalog.entries:
        assert entry.description and entry.licence and entry.languages
        if entry.repo:
            assert entry.downloadable and entry.revision
        for f in entry.files:
            assert f.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", f.sha256)
        if entry.main:
            assert entry.main in {f.local for f in entry.files}
        if entry.stage == "tts":
            assert entry.main and entry.main.endswith(".onnx")
            assert {f.local for f in entry.files} == {entry.main, entry.main + ".json"}


def test_nmt_exports_carry_tokenizer_and_graphs(catalog) -> None:
    for entry in catalog.by_stage("nmt"):
        names = {f.local for f in entry.files}
        assert "sentencepiece.bpe.model" in names and "config.json" in names
        if "model.bin" in names:  # a CTranslate2 export: weights and the token list
            assert names & {"shared_vocabulary.json", "shared_vocabulary.txt"}
            assert entry.id.endswith("-ct2-int8")
            continue
        assert any(n.startswith("encoder_model") for n in names)
        assert any(n.startswith("decoder_model_merged") for n in names)
        assert all(f.path.startswith("onnx/") for f in entry.files if f.local.endswith(".onnx"))
    m2m = catalog["m2m100-418m-onnx"]
    assert len(m2m.languages) == 100 and {"en", "de", "es", "zh", "fr"} <= set(m2m.languages)
    assert "vocab.json" in {f.local for f in m2m.files}
    assert "NC" in catalog["nllb"].licence  # NLLB is non-commercial: say so


def test_size_bytes_exact_or_approximate(catalog) -> None:
    tiny = catalog["whisper-tiny"]
    assert tiny.size_bytes == sum(f.size for f in tiny.files if f.size)
    assert catalog["m2m100-418m-onnx"].size_bytes == catalog["m2m100-418m-onnx"].approx_bytes
    assert format_size(75_538_270) == "75.5 MB" and format_size(3_000_000_000, False) == "~3.0 GB"
    assert format_size(None) == "?"
    assert format_languages(("*",)) == "multilingual"
    assert format_languages(tuple(catalog["m2m100"].languages)).endswith("(100)")


def test_unknown_id_error_says_what_to_do(catalog) -> None:
    with pytest.raises(ModelError, match="dragoman models list"):
        catalog["no-such-model"]


BASE = """
[[model]]
id = "x"
stage = "asr"
repo = "o/r"
languages = ["en"]
licence = "MIT"
description = "d"
files = [{ path = "model.bin" }]
"""


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('stage = "asr"', 'stage = "ocr"'), "stage must be one of"),
        (('id = "x"', 'id = "../x"'), "id may only contain"),
        (('path = "model.bin"', 'path = "../model.bin"'), "must be relative"),
        (('path = "model.bin"', 'path = "model.bin", sha256 = "abc"'), "64 hex digits"),
        (('path = "model.bin"', 'path = "model.bin", size = -1'), "non-negative"),
        (('languages = ["en"]', "languages = []"), "non-empty list"),
        (('repo = "o/r"', 'repo = "noslash"'), "owner/name"),
        (('files = [{ path = "model.bin" }]', "files = []"), "must list its files"),
        (('licence = "MIT"', 'licence = "MIT"\nweird = 1'), "unknown keys"),
        (('repo = "o/r"\n', ""), "needs a 'repo'"),
        (
            (
                'files = [{ path = "model.bin" }]',
                'files = [{ path = "a/model.bin" }, { path = "b/model.bin" }]',
            ),
            "same local name",
        ),
        (('description = "d"', 'description = "d"\nmain = "other.onnx"'), "not one of its files"),
    ],
)
def test_invalid_entries_are_refused_by_name(edit: tuple[str, str], message: str) -> None:
    text = BASE.replace(*edit)
    assert text != BASE
    with pytest.raises(ModelError, match=message):
        parse_catalog(text)


def test_duplicate_ids_and_aliases_are_refused() -> None:
    with pytest.raises(ModelError, match="already used"):
        parse_catalog(BASE + BASE)
    with pytest.raises(ModelError, match="already used"):
        parse_catalog(BASE + BASE.replace('id = "x"', 'id = "y"\naliases = ["x"]'))


def test_bad_toml_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="not valid TOML"):
        parse_catalog("[[model]\n")


def test_local_name_and_lookup() -> None:
    cat = parse_catalog(
        BASE.replace(
            '{ path = "model.bin" }', '{ path = "onnx/enc.onnx" }, { path = "c.json", size = 3 }'
        ).replace('id = "x"', 'id = "x"\naliases = ["ex"]')
    )
    entry = cat["ex"]
    assert entry.id == "x" and [f.local for f in entry.files] == ["enc.onnx", "c.json"]
    assert entry.size_bytes is None  # one size unknown and no approx_bytes
    assert cat.by_stage("asr") == [entry] and cat.by_stage("tts") == []
