"""Client of the Piper HTTP service: `POST {url}/tts` {"text", "voice", "lang"} -> WAV, or the
seed's `POST {url}/synthesize` {"text", "language", "voice"} (`SpeechOptions.remote_api`).

One request per sentence, so playback still starts after the first sentence. Timeouts, retries
and the circuit breaker follow `engine.remote.RemotePolicy`. When the service fails and
`remote_fallback` is "local", the sentence is spoken by local Piper (when a local voice exists
for the language) and later sentences go straight to local Piper while the circuit is open;
`backend_in_use` says which spoke last: "remote" or "local (remote down)".
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np

from engine.config import SpeechOptions
from engine.errors import ConfigError, RemoteServiceError
from engine.remote import RemotePolicy, ServiceClient
from engine.sentences import split_sentences
from engine.tts.base import SpeechChunk

log = logging.getLogger(__name__)

LOCAL_FALLBACK = "local (remote down)"


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """WAV bytes -> (mono float32, sample rate). Raises RemoteServiceError on garbage."""
    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises several types for bad input
        raise RemoteServiceError(f"The speech service answered with no valid WAV: {exc}") from exc
    if samples.size == 0:
        raise RemoteServiceError("The speech service answered an empty WAV.")
    return np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32), int(rate)


def _parse_wav(response: Any) -> tuple[np.ndarray, int, str]:
    try:
        samples, rate = decode_wav(response.content)
    except RemoteServiceError as exc:
        raise ValueError("not a WAV file") from exc
    return samples, rate, str(response.headers.get("x-voice", ""))


class RemoteSynthesizer:
    """`Synthesizer` that asks the Piper HTTP service, falling back to local Piper."""

    def __init__(
        self, options: SpeechOptions, *, fallback: bool | None = None, transport: Any = None
    ) -> None:
        if options.remote_api not in ("tts", "synthesize"):
            raise ConfigError(
                f"Unknown speech service API {options.remote_api!r}: use 'tts' or 'synthesize'."
            )
        self.options = options
        self.path = "/" + options.remote_api
        self.url = options.remote_url.rstrip("/") + self.path
        self.fallback = options.remote_fallback == "local" if fallback is None else fallback
        self.backend_in_use = "remote"
        self.last_error: str | None = None
        policy = RemotePolicy(
            connect_timeout_s=min(2.0, options.remote_timeout_s),
            read_timeout_s=options.remote_timeout_s,
            token=options.remote_token or None,
        )
        self.client = ServiceClient(
            "speech service", options.remote_url, policy, transport=transport
        )
        self._local: Any = None

    def _local_synth(self) -> Any:
        if self._local is None:
            from engine.tts.piper_local import PiperSynthesizer

            self._local = PiperSynthesizer(self.options)
        return self._local

    def warm_up(self, lang: str) -> None:
        """Nothing to load before the first sentence: the service holds its own voices (the
        local fallback loads its voice when it is first needed)."""

    def close(self) -> None:
        self.client.close()

    def voice_for_speaker(self, lang: str, speaker: str | None) -> str | None:
        return None  # the service chooses; one voice per language

    def _request(self, sentence: str, voice: str | None, lang: str) -> tuple[np.ndarray, int, str]:
        if self.path == "/synthesize":
            payload = {"text": sentence, "language": lang, "voice": voice}
        else:
            payload = {"text": sentence, "voice": voice, "lang": lang}
        return self.client.call(self.path, payload, _parse_wav)

    def synthesize(self, text: str, lang: str, voice: str | None = None) -> Iterator[SpeechChunk]:
        remote_voice = voice or self.options.voices.get(lang) or self.options.voice
        if isinstance(remote_voice, list):
            remote_voice = remote_voice[0] if remote_voice else None
        for index, sentence in enumerate(split_sentences(text)):
            if not self.fallback or self.client.available:
                try:
                    samples, rate, spoke = self._request(sentence, remote_voice, lang)
                except RemoteServiceError as exc:
                    if not self.fallback:
                        raise
                    if self.backend_in_use == "remote":
                        log.warning("%s; speaking with local Piper", str(exc).rstrip("."))
                    self.last_error = str(exc)
                    self.backend_in_use = LOCAL_FALLBACK
                else:
                    self.backend_in_use = "remote"
                    yield SpeechChunk(
                        samples=samples,
                        sample_rate=rate,
                        text=sentence,
                        index=index,
                        voice=spoke or str(remote_voice or ""),
                    )
                    continue
            self.backend_in_use = LOCAL_FALLBACK
            for chunk in self._local_synth().synthesize(sentence, lang, None):
                yield SpeechChunk(
                    samples=chunk.samples,
                    sample_rate=chunk.sample_rate,
                    text=sentence,
                    index=index,
                    voice=chunk.voice,
                )
