"""Does a translation target need a model that is not here yet? (Qt-free.)

Asked before the engine is touched: choosing a target language whose model is missing must not
stop captioning (the engine would fail to load). The answer names the smallest good catalogue
model for the target (engine.models.choose) so the GUI can offer to get exactly that one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.config import EngineConfig
from engine.errors import DragomanError
from engine.translate import languages

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MissingModel:
    """target: the language code; model_id: what to get (None: no offline model knows the
    language); size_bytes: its download size when known."""

    target: str
    model_id: str | None
    size_bytes: int | None
    description: str = ""

    @property
    def language(self) -> str:
        try:
            return languages.find(self.target).name
        except DragomanError:
            return self.target

    def message(self) -> str:
        """One plain sentence for the banner (no command-line flags)."""
        if self.model_id is None:
            return (
                f"No offline translation model knows {self.language}. Captioning goes on "
                "without translation."
            )
        size = f" ({human_size(self.size_bytes)} download)" if self.size_bytes else ""
        return (
            f"Translating into {self.language} needs the translation model "
            f"{self.model_id}{size}, which is not on this computer yet. Captioning goes on "
            "without translation until it is installed."
        )


def missing_translation_model(cfg: EngineConfig) -> MissingModel | None:
    """The model `cfg`'s translation target still needs, or None when it can run as is
    (no target, a remote or Whisper translator, an explicit model path, a model installed)."""
    tr = cfg.translation
    if not tr.target_lang or tr.backend not in ("m2m100", "nllb") or tr.model:
        return None
    from engine.models.choose import translation_models_for

    try:
        pair = translation_models_for(None, tr.target_lang, family=tr.backend)
    except (DragomanError, OSError) as exc:  # an unknown code or an unreadable store: let the
        log.warning("checking translation models failed: %s", exc)  # engine say it
        return None
    if pair.choice is None:
        return MissingModel(tr.target_lang, None, None)
    if not pair.needs_download:
        return None
    choice = pair.choice
    return MissingModel(tr.target_lang, choice.model_id, choice.size_bytes, choice.description)


def human_size(size: int | None) -> str:
    if not size:
        return "unknown size"
    if size >= 1_000_000_000:
        return f"{size / 1e9:.1f} GB"
    return f"{size / 1e6:.0f} MB"
