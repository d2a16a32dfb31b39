"""Which translation model a language pair needs, and the smallest good variant of it.

`translation_models_for("en", "de")` answers the GUI's and the CLI's question before anything is
loaded: every catalogue translation model that can translate the pair (installed or not), and
the one to use. The rule: a model already installed (or shipped in a package) wins, because it
costs no download; among those, and otherwise among the downloadable ones, the smallest. The
catalogue only lists models good enough to use, so "smallest" never means the 3 GB fp32 ONNX
export when an int8 export of the same model can be installed instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import ConfigError
from engine.models.catalog import ModelEntry
from engine.models.store import ModelStore
from engine.translate import languages as lang_table


@dataclass(frozen=True)
class TranslationModelOption:
    """One catalogue model that can translate a pair.

    family: "m2m100" or "nllb" (which language codes it speaks); runtime: "ctranslate2" or
    "onnx"; size_bytes: download size (approximate where the catalogue does not pin it);
    installed: usable without a download (in the models directory or in a package).
    """

    model_id: str
    family: str
    runtime: str
    size_bytes: int | None
    installed: bool
    description: str
    licence: str


@dataclass(frozen=True)
class PairModels:
    """The answer for one pair: `choice` (None when no catalogue model can translate it) and
    every option, the chosen one first, then installed ones, then by size."""

    source_lang: str | None
    target_lang: str
    choice: TranslationModelOption | None
    options: tuple[TranslationModelOption, ...]

    @property
    def needs_download(self) -> bool:
        return self.choice is not None and not self.choice.installed

    @property
    def download_bytes(self) -> int:
        """Bytes to fetch before the pair can be translated (0 when installed)."""
        if self.choice is None or self.choice.installed:
            return 0
        return self.choice.size_bytes or 0


def model_family(entry: ModelEntry) -> str | None:
    """'m2m100' / 'nllb' for a translation entry, from its id (None for anything else)."""
    for family in ("m2m100", "nllb"):
        if entry.stage == "nmt" and entry.id.startswith(family):
            return family
    return None


def model_runtime(entry: ModelEntry) -> str:
    """'ctranslate2' for a CTranslate2 export (it has a model.bin), else 'onnx'."""
    return "ctranslate2" if any(f.local == "model.bin" for f in entry.files) else "onnx"


def _covers(entry: ModelEntry, family: str, source: str | None, target: str) -> bool:
    try:
        codes = (
            lang_table.check_pair(source, target, family)
            if source
            else (lang_table.to_backend(target, family),)
        )
    except ConfigError:
        return False
    return entry.multilingual or all(c in entry.languages for c in codes)


def translation_models_for(
    source_lang: str | None,
    target_lang: str,
    *,
    store: ModelStore | None = None,
    family: str | None = None,
) -> PairModels:
    """The catalogue models that translate source_lang -> target_lang, and which to use.

    source_lang None = any source (live input detects it): only the target must be known.
    family: only "m2m100" or only "nllb" models (the user chose the translator); None = both.
    Raises ConfigError for a language code nobody knows.
    """
    lang_table.find(target_lang)  # an unknown code is an error, not "no model"
    if source_lang:
        lang_table.find(source_lang)
    store = store or ModelStore()
    packaged_ids = {p.model_id for p in store.packaged()}
    options: list[TranslationModelOption] = []
    for entry in store.catalog.by_stage("nmt"):
        entry_family = model_family(entry)
        if entry_family is None or (family is not None and entry_family != family):
            continue
        if not _covers(entry, entry_family, source_lang, target_lang):
            continue
        installed = store.installed_model(entry.id) is not None or entry.id in packaged_ids
        if not installed and not entry.downloadable:
            continue
        options.append(
            TranslationModelOption(
                model_id=entry.id,
                family=entry_family,
                runtime=model_runtime(entry),
                size_bytes=entry.size_bytes,
                installed=installed,
                description=entry.description,
                licence=entry.licence,
            )
        )
    options.sort(key=lambda o: (not o.installed, o.size_bytes or 1 << 62, o.model_id))
    return PairModels(
        source_lang=lang_table.app_code(source_lang) if source_lang else None,
        target_lang=lang_table.app_code(target_lang),
        choice=options[0] if options else None,
        options=tuple(options),
    )
