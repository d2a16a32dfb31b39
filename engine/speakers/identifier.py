"""Speaker identification per final segment: embedder (local or remote) + clustering."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import numpy as np

from engine.config import SpeakerOptions
from engine.errors import ConfigError
from engine.speakers.base import SAMPLE_RATE, SpeakerEmbedder, SpeakerIdentifier, SpeakerMatch
from engine.speakers.clustering import SpeakerClusterer
from engine.speakers.profiles import SpeakerProfiles
from engine.speakers.remote import RemoteEmbedder

log = logging.getLogger(__name__)


class EmbeddingSpeakerIdentifier:
    """`SpeakerIdentifier` over any embedder: enrolled profiles first, then online clustering.

    Thread-safe: `identify` runs on the pipeline's worker, `rename` may come from the UI.
    Enrolled profiles are read once, when the identifier is made (i.e. per run/session).
    """

    def __init__(
        self,
        options: SpeakerOptions | None = None,
        *,
        embedder: SpeakerEmbedder | None = None,
        profiles: SpeakerProfiles | None = None,
    ) -> None:
        self.options = options or SpeakerOptions()
        if embedder is None:
            from engine.speakers.encoder import load_voice_encoder

            embedder = load_voice_encoder(cpu_threads=self.options.cpu_threads)
        self.embedder = embedder
        self.profiles = profiles if profiles is not None else SpeakerProfiles()
        enrolled = self.profiles.embeddings(embedder.model_id)
        self._clusterer = SpeakerClusterer(self.options, enrolled)
        self._lock = threading.Lock()

    @property
    def backend_in_use(self) -> str:
        return getattr(self.embedder, "backend_in_use", "local")

    @property
    def labels(self) -> tuple[str, ...]:
        with self._lock:
            return self._clusterer.labels

    @property
    def enrolled_names(self) -> tuple[str, ...]:
        return self._clusterer.enrolled_names

    def identify(self, audio: np.ndarray, duration_s: float | None = None) -> SpeakerMatch:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if duration_s is None:
            duration_s = len(audio) / SAMPLE_RATE
        embedding = self.embedder.embed(audio, SAMPLE_RATE) if audio.size else None
        with self._lock:
            return self._clusterer.assign(embedding, duration_s)

    def rename(self, old_label: str, new_name: str) -> None:
        with self._lock:
            self._clusterer.rename(old_label, new_name)

    def reset(self, taken: Iterable[str] = ()) -> None:
        with self._lock:
            self._clusterer.reset(taken)


def create_identifier(
    options: SpeakerOptions, profiles: SpeakerProfiles | None = None
) -> SpeakerIdentifier | None:
    """The identifier `options` ask for; None when speaker identification is off."""
    if options.mode == "off":
        return None
    if options.mode != "auto":
        raise ConfigError(f"Unknown speaker mode {options.mode!r}: use 'auto' or 'off'.")
    from engine.speakers.encoder import load_voice_encoder

    if options.backend == "local":
        embedder: SpeakerEmbedder = load_voice_encoder(cpu_threads=options.cpu_threads)
    elif options.backend == "remote":
        embedder = RemoteEmbedder(
            options.remote_url,
            timeout_s=options.remote_timeout_s,
            token=options.remote_token or None,
            fallback=(
                load_voice_encoder(cpu_threads=options.cpu_threads)
                if options.remote_fallback == "local"
                else None
            ),
        )
    else:
        raise ConfigError(f"Unknown speaker backend {options.backend!r}: use 'local' or 'remote'.")
    return EmbeddingSpeakerIdentifier(options, embedder=embedder, profiles=profiles)
