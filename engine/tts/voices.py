"""Finding Piper voices: explicit paths, the user models directory, the packaged English voice.

A voice reference is a path to a `.onnx` voice (its `.onnx.json` beside it), a directory
holding one, or a model-store id (a sub-directory of `paths.models_dir()`); a `#speaker` suffix
(index or name from the voice's `speaker_id_map`) selects one speaker of a multi-speaker voice.
Catalogue ids look like "piper-de_DE-thorsten-medium"; the bare voice name works too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from engine import paths
from engine.config import SpeechOptions
from engine.errors import ModelError
from engine.models import packaged

log = logging.getLogger(__name__)

PACKAGED_EN_ID = "en_US-joe-medium"

# Well-known voices of the public Piper catalogue (rhasspy/piper-voices), for error messages.
SUGGESTED_VOICES: dict[str, str] = {
    "ar": "ar_JO-kareem-medium",
    "ca": "ca_ES-upc_ona-medium",
    "cs": "cs_CZ-jirka-medium",
    "da": "da_DK-talesyntese-medium",
    "de": "de_DE-thorsten-medium",
    "el": "el_GR-rapunzelina-low",
    "en": "en_US-lessac-medium",
    "es": "es_ES-davefx-medium",
    "fi": "fi_FI-harri-medium",
    "fr": "fr_FR-siwis-medium",
    "hu": "hu_HU-anna-medium",
    "it": "it_IT-riccardo-x_low",
    "nl": "nl_NL-mls-medium",
    "no": "no_NO-talesyntese-medium",
    "pl": "pl_PL-darkman-medium",
    "pt": "pt_BR-faber-medium",
    "ru": "ru_RU-denis-medium",
    "sv": "sv_SE-nst-medium",
    "tr": "tr_TR-dfki-medium",
    "uk": "uk_UA-ukrainian_tts-medium",
    "vi": "vi_VN-vais1000-medium",
    "zh": "zh_CN-huayan-medium",
}


def lang_family(lang: str) -> str:
    """'en-US', 'en_US', 'EN' -> 'en'."""
    return lang.strip().lower().replace("_", "-").split("-")[0]


@dataclass(frozen=True)
class VoiceFile:
    """One Piper voice on disk."""

    model: Path
    config: Path
    lang: str  # language family from the voice config ("" when the config has none)
    num_speakers: int
    speakers: tuple[str, ...]  # names from speaker_id_map, in id order (may be empty)


def split_ref(ref: str) -> tuple[str, str | None]:
    """'voice#speaker' -> ('voice', 'speaker'); a '#' inside a directory name is kept."""
    head, sep, tail = ref.rpartition("#")
    if sep and head and "/" not in tail and "\\" not in tail:
        return head, tail
    return ref, None


def read_voice_file(model: Path) -> VoiceFile:
    config = model.with_name(model.name + ".json")
    if not config.is_file():
        alt = model.with_suffix(".json")
        if not alt.is_file():
            raise ModelError(
                f"Piper voice {model} has no config file: expected {config.name} beside it."
            )
        config = alt
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read Piper voice config {config}: {exc}") from exc
    language = data.get("language") or {}
    lang = language.get("family") or language.get("code") or data.get("espeak", {}).get("voice")
    id_map: dict[str, int] = data.get("speaker_id_map") or {}
    speakers = tuple(name for name, _ in sorted(id_map.items(), key=lambda kv: kv[1]))
    return VoiceFile(
        model=model,
        config=config,
        lang=lang_family(lang) if lang else "",
        num_speakers=int(data.get("num_speakers", 1) or 1),
        speakers=speakers,
    )


def _onnx_in(directory: Path) -> Path | None:
    found = sorted(directory.glob("*.onnx"))
    return found[0] if found else None


def find_voice(ref: str) -> VoiceFile:
    """Resolve a voice reference (without '#speaker') to its files. Raises ModelError."""
    candidate = Path(ref).expanduser()
    model: Path | None = None
    if candidate.is_file():
        model = candidate
    elif candidate.is_dir():
        model = _onnx_in(candidate)
    else:
        store = paths.models_dir()
        name = ref.removeprefix("piper-")
        for path in (
            store / ref / f"{name}.onnx",
            store / f"piper-{name}" / f"{name}.onnx",
            store / f"{ref}.onnx",
        ):
            if path.is_file():
                model = path
                break
        for directory in (store / ref, store / f"piper-{name}"):
            if model is None and directory.is_dir():
                model = _onnx_in(directory)
        if model is None and name == PACKAGED_EN_ID:
            model = packaged.piper_joe_voice()
    if model is None:
        raise ModelError(
            f"Piper voice {ref!r} not found (not a .onnx file, nor in {paths.models_dir()}). "
            "Download it with the model manager or pass the path of its .onnx file."
        )
    return read_voice_file(model)


def _store_voices(family: str) -> list[str]:
    store = paths.models_dir()
    if not store.is_dir():
        return []
    refs: list[str] = []
    for config in sorted(store.glob("*/*.onnx.json")):
        model = config.with_name(config.name[: -len(".json")])
        if not model.is_file():
            continue
        try:
            voice = read_voice_file(model)
        except ModelError:
            continue
        if voice.lang == family:
            refs.append(str(model))
    return refs


def voices_for_lang(options: SpeechOptions, lang: str) -> list[str]:
    """Voice references for `lang`, best first. Raises ModelError naming a voice to download.

    Order: `options.voices[lang]`; `options.voice` when its language matches (or is unknown);
    Piper voices of that language in the user models directory; the packaged English voice.
    """
    family = lang_family(lang)
    configured = options.voices.get(lang) or options.voices.get(family)
    if configured:
        return [configured] if isinstance(configured, str) else [str(v) for v in configured]
    if options.voice:
        voice = find_voice(split_ref(options.voice)[0])
        if voice.lang in ("", family):
            return [options.voice]
    refs = _store_voices(family)
    if refs:
        return refs
    if family == "en" and (joe := packaged.piper_joe_voice()) is not None:
        return [str(joe)]
    suggestion = SUGGESTED_VOICES.get(family)
    how = (
        f"`dragoman models download piper-{suggestion}` (or the model manager)"
        if suggestion
        else "the model manager"
    )
    raise ModelError(
        f"No Piper voice for language {lang!r}: download a {family} Piper voice with {how}, "
        "or set the speech voice to the path of a .onnx Piper voice file."
    )
