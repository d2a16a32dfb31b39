"""The translation contract: `Translator` and its results (no backend code here)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class TranslationTimings:
    """Seconds spent by the batched call that produced a result (shared by its batch).

    tokenize_s: text -> ids and ids -> text; encode_s: encoder; decode_s: decoder + search.
    """

    tokenize_s: float = 0.0
    encode_s: float = 0.0
    decode_s: float = 0.0
    batch_size: int = 1

    @property
    def total_s(self) -> float:
        return self.tokenize_s + self.encode_s + self.decode_s

    def as_dict(self) -> dict[str, float]:
        return {
            "tokenize_s": self.tokenize_s,
            "encode_s": self.encode_s,
            "decode_s": self.decode_s,
            "total_s": self.total_s,
            "batch_size": float(self.batch_size),
        }


@dataclass(frozen=True)
class TranslationResult:
    """One translated sentence.

    source_lang / target_lang: app (Whisper-style) codes. model: which model produced it.
    quality_metrics: at least `mean_token_logprob` (mean log-probability of the generated
    tokens; closer to 0 = more confident) and `length_ratio` (target/source token counts; far
    from 1 hints at a dropped or hallucinated passage); local models add source_tokens,
    target_tokens, reached_eos (1.0/0.0) and sequence_score.
    token_ids: generated ids after the decoder start token (target-language token, text, EOS
    when reached); empty for remote results.
    """

    text: str
    source_lang: str
    target_lang: str
    model: str
    quality_metrics: dict[str, float] = field(default_factory=dict)
    timings: TranslationTimings = field(default_factory=TranslationTimings)
    token_ids: tuple[int, ...] = ()


def quality_metrics(
    source_tokens: int, target_tokens: int, mean_logprob: float, reached_eos: bool, score: float
) -> dict[str, float]:
    """A local model's TranslationResult.quality_metrics: token counts are of text tokens (the
    forced language token and EOS not counted); a non-finite mean logprob becomes -1e9."""
    return {
        "mean_token_logprob": mean_logprob if math.isfinite(mean_logprob) else -1e9,
        "length_ratio": target_tokens / max(1, source_tokens),
        "source_tokens": float(source_tokens),
        "target_tokens": float(target_tokens),
        "reached_eos": 1.0 if reached_eos else 0.0,
        "sequence_score": float(score),
    }


@runtime_checkable
class Translator(Protocol):
    """Translates sentences; `name` says which model/service (shown in the UI and events)."""

    name: str

    def translate(
        self, texts: Sequence[str], source_lang: str, target_lang: str
    ) -> list[TranslationResult]:
        """Translate a batch of sentences (one result per text, same order).

        Raises ConfigError for an unsupported pair, ModelError / RemoteServiceError on failure.
        """
        raise NotImplementedError
