"""Machine translation of committed text: the `Translator` contract, its result, and a factory.

Backends (imported lazily by `create_translator`):
- "m2m100" / "nllb": in-process ONNX Runtime (engine.translate.m2m100_onnx), M2M100 418M/1.2B
  and NLLB-200 distilled share the architecture; a CTranslate2 export given as their model is
  run by CTranslate2;
- "ctranslate2": CTranslate2 (engine.translate.ct2), M2M100 or NLLB from the model's vocabulary;
- "remote": the HTTP translation service (engine.translate.remote);
- "whisper": not a translator here: the recogniser translates X->English itself
  (AsrOptions.task="translate").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ConfigError, ModelError
from engine.translate.base import TranslationResult, TranslationTimings, Translator

if TYPE_CHECKING:
    from engine.config import TranslationBackend, TranslationOptions

__all__ = [
    "DEFAULT_MODELS",
    "TranslationResult",
    "TranslationTimings",
    "Translator",
    "create_translator",
    "resolve_model_dir",
]

# The smallest download per backend (the CTranslate2 int8 exports); with no model named,
# create_translator prefers whatever suitable model is installed (engine.models.choose).
DEFAULT_MODELS = {
    "m2m100": "m2m100-418m-ct2-int8",
    "nllb": "nllb-200-distilled-600m-ct2-int8",
    "ctranslate2": "m2m100-418m-ct2-int8",
}


def create_translator(
    options: TranslationOptions,
    model_dir: Path | None = None,
    *,
    download: bool | None = None,
) -> Translator:
    """The translator options.backend names.

    model_dir: an ONNX or CTranslate2 export directory; None = options.model (a directory, a
    catalogue id or alias) resolved through the model store, or default_model(options).
    download: None = the store's policy, the same as for speech recognition (download a
    missing model, with progress on stderr, unless offline); False = never; True = allowed.
    """
    backend = options.backend
    if backend == "whisper":
        raise ConfigError(
            "The whisper translator is Whisper's own X->English translation inside the "
            "recogniser (task=translate); it has no separate translator to build."
        )
    if backend == "remote":
        from engine.translate.remote import FailoverTranslator, RemoteTranslator

        remote = RemoteTranslator.from_options(options)
        if options.remote_fallback == "local":
            return FailoverTranslator(remote, local_fallback(options))
        return remote
    if backend not in ("m2m100", "nllb", "ctranslate2"):
        raise ConfigError(
            f"Unknown translator '{backend}' (one of m2m100, nllb, ctranslate2, whisper, remote)."
        )
    if model_dir is None:
        model_dir = resolve_model_dir(options.model or default_model(options), download)
    from engine.translate.ct2 import is_ct2_model

    if backend == "ctranslate2" or is_ct2_model(Path(model_dir)):
        from engine.translate.ct2 import Ct2Translator

        compute = {True: "int8", False: "float32", None: "default"}[options.quantized]
        return Ct2Translator(
            Path(model_dir),
            kind=None if backend == "ctranslate2" else backend,
            compute_type=compute,
            intra_threads=options.cpu_threads,
            inter_threads=options.inter_threads,
            num_beams=options.beam_size,
            max_length=options.max_length,
            max_length_ratio=options.max_length_ratio,
        )
    from engine.translate.m2m100_onnx import M2M100OnnxTranslator

    return M2M100OnnxTranslator(
        Path(model_dir),
        kind=backend,
        quantized=options.quantized,
        cpu_threads=options.cpu_threads,
        num_beams=options.beam_size,
        max_length=options.max_length,
        max_length_ratio=options.max_length_ratio,
    )


def default_model(options: TranslationOptions) -> str:
    """The catalogue model to use when none is named: the smallest suitable one installed,
    else the smallest one to download (engine.models.choose), for the target language."""
    from engine.models.choose import translation_models_for

    family = options.backend if options.backend in ("m2m100", "nllb") else None
    pair = translation_models_for(None, options.target_lang or "en", family=family)
    if pair.choice is None:
        return DEFAULT_MODELS[options.backend]
    return pair.choice.model_id


def resolve_model_dir(model: str, download: bool | None = None) -> Path:
    """A directory path as is; otherwise a catalogue id/alias through the model store."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    from engine.models.store import ModelStore

    return Path(ModelStore().resolve(model, "nmt", download=download))


def local_fallback(options: TranslationOptions) -> Callable[[], Translator | None]:
    """What a failing service falls back to: the model named with `model` (m2m100 export or
    catalogue id), else the first default model that is installed; None when there is none."""

    def make() -> Translator | None:
        candidates = [options.model] if options.model else []
        candidates += [DEFAULT_MODELS["m2m100"], DEFAULT_MODELS["nllb"]]
        for model in candidates:
            try:
                model_dir = resolve_model_dir(model, download=False)
            except (ModelError, ConfigError):
                continue
            backend: TranslationBackend = "nllb" if "nllb" in str(model).lower() else "m2m100"
            local = replace(options, backend=backend, model=str(model_dir))
            translator = create_translator(local, model_dir)
            warm_up = getattr(translator, "warm_up", None)
            if callable(warm_up):
                warm_up()
            return translator
        return None

    return make
