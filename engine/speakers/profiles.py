"""Enrolled speakers: one JSON file per person under `paths.speakers_dir()`.

Only embeddings are stored, never audio. Each file records the model that made the embedding;
profiles of another model are listed but not used for matching.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import paths
from engine.errors import ConfigError, InputError
from engine.speakers.base import SAMPLE_RATE, SpeakerEmbedder

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MIN_ENROLL_S = 1.0  # total audio needed for a usable profile

AudioSource = np.ndarray | str | Path


@dataclass(frozen=True)
class SpeakerProfile:
    """An enrolled speaker: a name and the mean embedding of their enrolment audio."""

    name: str
    model_id: str
    embedding: np.ndarray = field(compare=False, repr=False)
    duration_s: float
    created_at: str  # ISO 8601, UTC
    path: Path


def _file_name(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40] or "speaker"
    digest = hashlib.sha256(name.casefold().encode()).hexdigest()[:10]
    return f"{slug}-{digest}.json"


class SpeakerProfiles:
    """The enrolment store. `embedder` is needed only to enroll (loaded lazily otherwise)."""

    def __init__(
        self, directory: Path | None = None, embedder: SpeakerEmbedder | None = None
    ) -> None:
        self.directory = Path(directory) if directory else paths.speakers_dir()
        self._embedder = embedder

    def _get_embedder(self) -> SpeakerEmbedder:
        if self._embedder is None:
            from engine.speakers.encoder import load_voice_encoder

            self._embedder = load_voice_encoder()
        return self._embedder

    def _read(self, path: Path) -> SpeakerProfile | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            embedding = np.asarray(data["embedding"], dtype=np.float32)
            if embedding.ndim != 1 or not np.all(np.isfinite(embedding)):
                raise ValueError("bad embedding")
            return SpeakerProfile(
                name=str(data["name"]),
                model_id=str(data["model"]),
                embedding=embedding,
                duration_s=float(data.get("duration_s", 0.0)),
                created_at=str(data.get("created_at", "")),
                path=path,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable speaker profile %s: %s", path, exc)
            return None

    def list(self) -> builtins.list[SpeakerProfile]:
        """Every readable profile, sorted by name."""
        if not self.directory.is_dir():
            return []
        found = (self._read(p) for p in sorted(self.directory.glob("*.json")))
        return sorted((p for p in found if p is not None), key=lambda p: p.name.casefold())

    def get(self, name: str) -> SpeakerProfile | None:
        path = self.directory / _file_name(name.strip())
        return self._read(path) if path.is_file() else None

    def embeddings(self, model_id: str) -> dict[str, np.ndarray]:
        """name -> embedding of the profiles made by `model_id` (others cannot be compared)."""
        result = {}
        for profile in self.list():
            if profile.model_id == model_id:
                result[profile.name] = profile.embedding
            else:
                log.warning(
                    "speaker profile %r was made by %s, not %s: re-enroll to use it",
                    profile.name,
                    profile.model_id,
                    model_id,
                )
        return result

    def enroll(
        self, name: str, audio: AudioSource | Sequence[AudioSource], sample_rate: int = SAMPLE_RATE
    ) -> SpeakerProfile:
        """Create or replace `name`'s profile from one or more recordings (arrays are mono at
        `sample_rate`; paths are decoded to 16 kHz mono). Raises InputError when there is too
        little voice in them."""
        name = name.strip()
        if not name:
            raise ConfigError("A speaker name cannot be empty.")
        sources = list(audio) if isinstance(audio, list | tuple) else [audio]
        if not sources:
            raise InputError(f"No audio given to enroll {name!r}.")
        embedder = self._get_embedder()
        embeddings, total_s = [], 0.0
        for source in sources:
            if isinstance(source, str | Path):
                from engine.audio.io import load_audio

                wav, rate, what = load_audio(source), SAMPLE_RATE, str(source)
            else:
                wav, rate, what = np.asarray(source, dtype=np.float32), sample_rate, "the audio"
            total_s += len(wav) / rate
            emb = embedder.embed(wav, rate)
            if emb is None:
                raise InputError(f"No voice found in {what}: cannot enroll {name!r} from it.")
            embeddings.append(np.asarray(emb, dtype=np.float64))
        if total_s < MIN_ENROLL_S:
            raise InputError(
                f"{total_s:.1f} s of audio is too short to enroll {name!r}: give at least "
                f"{MIN_ENROLL_S:.0f} s of speech (5-30 s works best)."
            )
        mean = np.mean(embeddings, axis=0)
        mean = (mean / np.linalg.norm(mean)).astype(np.float32)
        created = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
        path = self.directory / _file_name(name)
        record = {
            "format": FORMAT_VERSION,
            "name": name,
            "model": embedder.model_id,
            "embedding": [round(float(x), 7) for x in mean],
            "duration_s": round(total_s, 3),
            "created_at": created,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".profile.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return SpeakerProfile(name, embedder.model_id, mean, total_s, created, path)

    def remove(self, name: str) -> str:
        """Delete `name`'s profile (names match case-insensitively) and return its stored name;
        ConfigError when there is none."""
        path = self.directory / _file_name(name.strip())
        if not path.is_file():
            known = ", ".join(p.name for p in self.list()) or "none"
            raise ConfigError(f"No enrolled speaker called {name!r} (enrolled: {known}).")
        profile = self._read(path)
        path.unlink()
        return profile.name if profile else name
