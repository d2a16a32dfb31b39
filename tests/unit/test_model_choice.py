"""Which translation model a pair needs (engine.models.choose): the smallest good variant,
installed models first, never the 3 GB fp32 ONNX export when an int8 one can be had."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import TranslationOptions
from engine.errors import ConfigError
from engine.models.choose import translation_models_for
from engine.models.store import ModelStore
from engine.translate import create_translator, default_model
from engine.translate import languages as lang_table
from engine.translate.ct2 import Ct2Translator

CT2_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "ct2" / "m2m100"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelStore:
    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path / "home"))
    return ModelStore(tmp_path / "home" / "data" / "models", offline=True, use_packaged=False)


@pytest.mark.parametrize(("source", "target"), [("en", "de"), ("en", "es"), ("zh", "en")])
def test_nothing_installed_picks_the_smallest_download(store, source, target) -> None:
    pair = translation_models_for(source, target, store=store)
    assert pair.choice is not None and pair.choice.model_id == "m2m100-418m-ct2-int8"
    assert pair.choice.runtime == "ctranslate2" and not pair.choice.installed
    assert pair.needs_download and pair.download_bytes < 600_000_000
    ids = [o.model_id for o in pair.options]
    assert "m2m100-418m-onnx" in ids and ids.index("m2m100-418m-onnx") == len(ids) - 1
    sizes = [o.size_bytes or 0 for o in pair.options]
    assert sizes == sorted(sizes)


def test_family_and_languages_restrict_the_options(store) -> None:
    nllb = translation_models_for("en", "de", store=store, family="nllb")
    assert nllb.choice is not None and nllb.choice.model_id == "nllb-200-distilled-600m-ct2-int8"
    assert {o.family for o in nllb.options} == {"nllb"}
    only_nllb = next(x for x in lang_table.LANGUAGES if x.nllb and x.whisper and not x.m2m100)
    pair = translation_models_for("en", only_nllb.code, store=store)
    assert pair.choice is not None and pair.choice.family == "nllb"
    assert translation_models_for("en", only_nllb.code, store=store, family="m2m100").choice is None
    with pytest.raises(ConfigError, match="Unknown language code"):
        translation_models_for("en", "klingon", store=store)


def test_an_installed_model_wins_and_is_what_the_translator_loads(store) -> None:
    """The tiny CTranslate2 fixture imported as the catalogue's M2M100 int8 export: chosen with
    no download, and create_translator with no model named loads it."""
    store.import_folder(CT2_FIXTURE, "m2m100-418m-ct2-int8")
    pair = translation_models_for(None, "de", store=store)
    assert pair.choice is not None and pair.choice.installed and pair.download_bytes == 0
    options = TranslationOptions(target_lang="de", backend="m2m100", quantized=False)
    assert default_model(options) == "m2m100-418m-ct2-int8"
    translator = create_translator(options)
    assert isinstance(translator, Ct2Translator)
    assert translator.translate(["the cat sits on the mat"], "en", "de")[0].text == (
        "the cat sits on the mat"
    )
