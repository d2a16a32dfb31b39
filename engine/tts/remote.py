"""Client of the Piper HTTP service: `POST {url}/tts` JSON {"text", "voice"} -> WAV bytes.

Request JSON also carries "lang" (the server picks that language's voice when voice is null).
One request per sentence, so playback still starts after the first sentence. A failed or slow
service (timeout `remote_timeout_s`) falls back to local Piper when a local voice exists for
the language (the service is tried again after `retry_after_s`); `backend_in_use` says which
one spoke last ("remote" or "local").
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from engine.config import SpeechOptions
from engine.errors import RemoteServiceError
from engine.tts import SpeechChunk, split_sentences

log = logging.getLogger(__name__)


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """WAV bytes -> (mono float32, sample rate). Raises RemoteServiceError on garbage."""
    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises several types for bad input
        raise RemoteServiceError(f"The speech service answered with no valid WAV: {exc}") from exc
    return np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32), int(rate)


class RemoteSynthesizer:
    """`Synthesizer` that asks the Piper HTTP service, falling back to local Piper."""

    def __init__(self, options: SpeechOptions, *, fallback: bool = True) -> None:
        self.options = options
        self.url = options.remote_url.rstrip("/") + "/tts"
        self.fallback = fallback
        self.backend_in_use = "remote"
        self._client: Any = None
        self._local: Any = None
        self.retry_after_s = 30.0
        self._retry_at = 0.0

    def _http(self) -> Any:
        if self._client is None:
            try:
                import httpx
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise RemoteServiceError(
                    "The remote speech backend needs httpx: `pip install httpx`."
                ) from exc
            self._client = httpx.Client(timeout=self.options.remote_timeout_s)
        return self._client

    def _local_synth(self) -> Any:
        if self._local is None:
            from engine.tts.piper_local import PiperSynthesizer

            self._local = PiperSynthesizer(self.options)
        return self._local

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def voice_for_speaker(self, lang: str, speaker: str | None) -> str | None:
        return None  # the service chooses; one voice per language

    def _request(self, sentence: str, voice: str | None, lang: str) -> tuple[np.ndarray, int]:
        import httpx

        try:
            response = self._http().post(
                self.url, json={"text": sentence, "voice": voice, "lang": lang}
            )
        except httpx.TimeoutException as exc:
            raise RemoteServiceError(
                f"The speech service at {self.url} did not answer within "
                f"{self.options.remote_timeout_s:g} s."
            ) from exc
        except httpx.HTTPError as exc:
            raise RemoteServiceError(
                f"Cannot reach the speech service at {self.url}: {exc}"
            ) from exc
        if response.status_code != 200:
            raise RemoteServiceError(
                f"The speech service at {self.url} failed with HTTP {response.status_code}: "
                f"{response.text[:200]}"
            )
        return decode_wav(response.content)

    def synthesize(self, text: str, lang: str, voice: str | None = None) -> Iterator[SpeechChunk]:
        remote_voice = voice or self.options.voices.get(lang) or self.options.voice
        if isinstance(remote_voice, list):
            remote_voice = remote_voice[0] if remote_voice else None
        for index, sentence in enumerate(split_sentences(text)):
            if self.backend_in_use == "local" and time.monotonic() >= self._retry_at:
                self.backend_in_use = "remote"  # give the service another chance
            if self.backend_in_use == "remote":
                try:
                    samples, rate = self._request(sentence, remote_voice, lang)
                except RemoteServiceError:
                    if not self.fallback:
                        raise
                    log.warning(
                        "speech service failed; using local Piper from now on", exc_info=True
                    )
                    self.backend_in_use = "local"
                    self._retry_at = time.monotonic() + self.retry_after_s
                else:
                    yield SpeechChunk(
                        samples=samples,
                        sample_rate=rate,
                        text=sentence,
                        index=index,
                        voice=str(remote_voice or ""),
                    )
                    continue
            for chunk in self._local_synth().synthesize(sentence, lang, None):
                yield SpeechChunk(
                    samples=chunk.samples,
                    sample_rate=chunk.sample_rate,
                    text=sentence,
                    index=index,
                    voice=chunk.voice,
                )
