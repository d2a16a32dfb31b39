"""M2M100 / NLLB-200 translation on CTranslate2 (C++, int8 weights, no torch, no Python loop).

Loads the layout of the public CTranslate2 exports (what `ct2-transformers-converter` writes):
`model.bin`, `config.json` (CTranslate2's own), `shared_vocabulary.json` or `.txt`, plus
`sentencepiece.bpe.model` (and optionally the transformers tokenizer files beside it).

Input is sentencepiece pieces, as CTranslate2 expects: `[source language] + pieces + [</s>]`
(the M2M100 layout: `__en__` / `eng_Latn` first); the target language is forced with
`target_prefix`. Greedy output is token-for-token transformers' greedy output (parity tests on
the converted fixture). Beam search is CTranslate2's own: it scores finished hypotheses like
transformers (`sum_logprob / length ** length_penalty`) but stops once `beam_size * patience`
hypotheses are finished, where transformers keeps searching while a running beam could still
win; on a few inputs it therefore returns a shorter hypothesis that transformers would have
beaten (see tests/integration/test_ct2_parity.py).

quality_metrics come from real token log-probabilities: after the search, `score_batch` runs the
decoder once over the chosen tokens (teacher forcing) and returns each token's log-probability.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import ConfigError, ModelError
from engine.translate import languages as lang_table
from engine.translate.base import TranslationResult, TranslationTimings, quality_metrics
from engine.translate.m2m100_tokenizer import (
    M2M100_LANGUAGE_CODES,
    NLLB_LANGUAGE_CODES,
    SPIECE_UNDERLINE,
    load_sentencepiece,
    read_json,
)

log = logging.getLogger(__name__)

COMPUTE_TYPES = ("default", "auto", "int8", "int8_float32", "float32", "int16")
EOS = "</s>"
_SPECIALS = frozenset({"<s>", "<pad>", "</s>", "<unk>", "<mask>"})


def _ctranslate2() -> Any:
    try:
        import ctranslate2
    except ImportError as exc:  # pragma: no cover - installed with faster-whisper
        raise ModelError(
            "The CTranslate2 translator needs the ctranslate2 package: pip install ctranslate2"
        ) from exc
    return ctranslate2


def is_ct2_model(model_dir: Path) -> bool:
    """True when the directory holds a CTranslate2 export (model.bin + its vocabulary)."""
    return (model_dir / "model.bin").is_file() and any(
        (model_dir / n).is_file() for n in ("shared_vocabulary.json", "shared_vocabulary.txt")
    )


def read_vocabulary(model_dir: Path) -> list[str]:
    """The model's tokens in id order (shared_vocabulary.json, else .txt one per line)."""
    json_file = model_dir / "shared_vocabulary.json"
    if json_file.is_file():
        try:
            tokens = json.loads(json_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(
                f"Translation model in {model_dir}: shared_vocabulary.json is corrupt ({exc}). "
                "Re-download or re-import the model."
            ) from exc
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ModelError(f"Translation model in {model_dir}: bad shared_vocabulary.json.")
        return tokens
    txt = model_dir / "shared_vocabulary.txt"
    try:
        return txt.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(
            f"Translation model in {model_dir} has no readable vocabulary "
            "(shared_vocabulary.json or .txt). Re-download or re-import the model."
        ) from exc


class Ct2Vocabulary:
    """Pieces in, pieces out: sentencepiece plus the model's vocabulary and language tokens.

    kind: "m2m100" (language tokens `__de__`) or "nllb" (`deu_Latn`), from the vocabulary.
    """

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.tokens = read_vocabulary(model_dir)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if "__en__" in self.index:
            self.kind = "m2m100"
            codes = M2M100_LANGUAGE_CODES["m2m100"]
            self.lang_to_token = {c: f"__{c}__" for c in codes if f"__{c}__" in self.index}
        elif "eng_Latn" in self.index:
            self.kind = "nllb"
            self.lang_to_token = {c: c for c in NLLB_LANGUAGE_CODES if c in self.index}
        else:
            raise ModelError(
                f"Translation model in {model_dir}: its vocabulary has no M2M100 (__en__) or "
                "NLLB (eng_Latn) language tokens; only M2M100 and NLLB-200 models are supported."
            )
        self.language_tokens = frozenset(self.lang_to_token.values())
        self.sp = load_sentencepiece(model_dir)

    def pieces(self, text: str) -> list[str]:
        return list(self.sp.encode(text, out_type=str))

    def source(self, text: str, lang: str, max_tokens: int) -> list[str]:
        """`[language] + pieces + [</s>]`, pieces cut so that the whole fits max_tokens."""
        pieces = self.pieces(text)
        if len(pieces) > max_tokens - 2:
            pieces = pieces[: max(0, max_tokens - 2)]
        return [self.lang_to_token[lang], *pieces, EOS]

    def ids(self, tokens: Sequence[str]) -> tuple[int, ...]:
        unk = self.index.get("<unk>", 3)
        return tuple(self.index.get(t, unk) for t in tokens)

    def is_text(self, token: str) -> bool:
        return (
            token not in _SPECIALS
            and token not in self.language_tokens
            and not token.startswith("madeupword")
        )

    def decode(self, tokens: Sequence[str]) -> str:
        pieces = [t for t in tokens if self.is_text(t)]
        if self.kind == "nllb":
            return "".join(pieces).replace(SPIECE_UNDERLINE, " ").strip()
        return str(self.sp.decode_pieces(pieces)).strip()


def _max_positions(model_dir: Path) -> int:
    """Longest sequence the model's position table covers: tokenizer_config's model_max_length
    when it is a real limit (the fixtures say 64 there), else 1024 (M2M100 and NLLB)."""
    for name in ("tokenizer_config.json",):
        path = model_dir / name
        if path.is_file():
            value = read_json(path, model_dir).get("model_max_length")
            if isinstance(value, int) and 2 < value < 100_000:
                return value
    return 1024


class Ct2Translator:
    """`Translator` over a CTranslate2 M2M100 / NLLB-200 export.

    compute_type: "default" keeps the stored precision (int8 for the int8 exports), "int8"
        quantises on load, "float32" dequantises. intra_threads: threads of one translation
        (OpenMP); inter_threads: translations that may run in parallel (1 = one at a time).
    num_beams: 1 = greedy. max_length: counts the decoder start token, as in transformers.
    max_length_ratio: loop guard, each sentence stops after ceil(ratio * source tokens) + 10.
    max_batch: sentences per CTranslate2 call (it sorts them by length inside).
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        kind: str | None = None,
        compute_type: str = "default",
        intra_threads: int = 2,
        inter_threads: int = 1,
        num_beams: int = 1,
        max_length: int = 200,
        length_penalty: float = 1.0,
        max_length_ratio: float | None = None,
        max_batch: int = 16,
    ) -> None:
        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise ModelError(f"Translation model directory {self.model_dir} does not exist.")
        if not is_ct2_model(self.model_dir):
            raise ModelError(
                f"{self.model_dir} is not a CTranslate2 export (model.bin and "
                "shared_vocabulary.json expected); choose the m2m100/nllb translator for ONNX."
            )
        if compute_type not in COMPUTE_TYPES:
            raise ConfigError(
                f"compute type must be one of {', '.join(COMPUTE_TYPES)}, not {compute_type}"
            )
        if num_beams < 1:
            raise ConfigError(f"beam size must be at least 1, not {num_beams}.")
        if max_length < 2:
            raise ConfigError(f"max_length must be at least 2, not {max_length}.")
        if intra_threads < 1 or inter_threads < 1:
            raise ConfigError("translation threads must be at least 1.")
        self.vocab = Ct2Vocabulary(self.model_dir)
        self.kind = self.vocab.kind
        if kind is not None and kind != self.kind:
            raise ModelError(
                f"The model in {self.model_dir} is an {self.kind.upper()} model (its vocabulary "
                f"says so), not {kind.upper()}."
            )
        ct2 = _ctranslate2()
        try:
            self.translator = ct2.Translator(
                str(self.model_dir),
                device="cpu",
                compute_type=compute_type,
                intra_threads=intra_threads,
                inter_threads=inter_threads,
            )
        except (RuntimeError, ValueError) as exc:
            raise ModelError(
                f"Translation model in {self.model_dir} is corrupt or incomplete (CTranslate2 "
                f"could not load it: {str(exc).splitlines()[0][:200]}). "
                "Re-download or re-import the model."
            ) from exc
        self.compute_type = compute_type
        self.num_beams = num_beams
        self.max_length = max_length
        self.length_penalty = length_penalty
        self.max_length_ratio = max_length_ratio
        self.max_batch = max(1, max_batch)
        self.max_positions = _max_positions(self.model_dir)
        precision = "" if compute_type in ("default", "auto") else f"-{compute_type}"
        self.name = f"{self.kind}-ct2:{self.model_dir.name}{precision}"

    def check_pair(self, source_lang: str, target_lang: str) -> tuple[str, str]:
        """The model's codes for a pair; ConfigError when the model cannot translate it."""
        return lang_table.check_model_pair(
            source_lang, target_lang, self.kind, self.vocab.lang_to_token, self.name
        )

    def warm_up(self) -> None:
        """One tiny translation so that the first real sentence does not pay for allocation."""
        lang = next(iter(self.vocab.lang_to_token))
        self.translator.translate_batch(
            [self.vocab.source("a", lang, self.max_positions)],
            target_prefix=[[self.vocab.lang_to_token[lang]]],
            beam_size=1,
            max_decoding_length=2,
        )

    def generate(
        self,
        sources: Sequence[Sequence[str]],
        target_token: str,
        *,
        num_beams: int | None = None,
        max_length: int | None = None,
        length_penalty: float | None = None,
        no_repeat_ngram_size: int = 0,
        min_length: int = 0,
    ) -> list[list[str]]:
        """Generated tokens per source (target-language token first, `</s>` when reached).

        max_length counts the decoder start token (transformers' meaning); it is capped by the
        position table and, with max_length_ratio, per sentence by the loop guard."""
        if not sources:
            return []
        limit = min(max_length or self.max_length, self.max_positions)
        limits = [limit] * len(sources)
        if self.max_length_ratio is not None:
            limits = [
                max(2, min(limit, math.ceil(self.max_length_ratio * len(s)) + 10)) for s in sources
            ]
        results = self.translator.translate_batch(
            [list(s) for s in sources],
            target_prefix=[[target_token]] * len(sources),
            beam_size=num_beams or self.num_beams,
            length_penalty=self.length_penalty if length_penalty is None else length_penalty,
            no_repeat_ngram_size=no_repeat_ngram_size,
            min_decoding_length=min_length,
            max_decoding_length=max(limits) - 1,
            max_input_length=self.max_positions,
            max_batch_size=self.max_batch,
            return_end_token=True,
        )
        return [list(r.hypotheses[0])[: n - 1] for r, n in zip(results, limits, strict=True)]

    def token_logprobs(
        self, sources: Sequence[Sequence[str]], outputs: Sequence[Sequence[str]]
    ) -> list[list[float]]:
        """Each generated token's log-probability (teacher-forced decoder pass); the forced
        target-language token gets 0, as in beam search scoring."""
        todo = [i for i, out in enumerate(outputs) if len(out) > 1]
        result: list[list[float]] = [[0.0] * len(out) for out in outputs]
        if not todo:
            return result
        # score_batch appends </s> itself: score the tokens before it, keep its score only when
        # the hypothesis really ended there.
        targets = [[t for t in outputs[i] if t != EOS] for i in todo]
        scored = self.translator.score_batch(
            [list(sources[i]) for i in todo], targets, max_batch_size=self.max_batch
        )
        for i, target, score in zip(todo, targets, scored, strict=True):
            lps = [float(x) for x in score.log_probs]
            ended = outputs[i][-1] == EOS
            values = lps[: len(target)] + (lps[len(target) : len(target) + 1] if ended else [])
            values[0] = 0.0
            result[i] = values
        return result

    def translate(
        self, texts: Sequence[str], source_lang: str, target_lang: str
    ) -> list[TranslationResult]:
        """Translate several sentences in one batched call, results in input order.

        Languages: any code languages.find() accepts. Empty/blank texts come back empty
        without running the model.
        """
        src, tgt = self.check_pair(source_lang, target_lang)
        src_app, tgt_app = lang_table.app_code(source_lang), lang_table.app_code(target_lang)
        t0 = time.perf_counter()
        todo = [i for i, t in enumerate(texts) if t and t.strip()]
        sources = [self.vocab.source(texts[i], src, self.max_positions) for i in todo]
        if any(len(self.vocab.pieces(texts[i])) > self.max_positions - 2 for i in todo):
            log.warning("translation input longer than %d tokens was cut", self.max_positions)
        t1 = time.perf_counter()
        outputs = self.generate(sources, self.vocab.lang_to_token[tgt])
        t2 = time.perf_counter()
        logprobs = self.token_logprobs(sources, outputs)
        t3 = time.perf_counter()
        decoded = [self.vocab.decode(out) for out in outputs]
        timings = TranslationTimings(
            tokenize_s=(t1 - t0) + (time.perf_counter() - t3),
            encode_s=0.0,  # CTranslate2 runs encoder and search in one call: all in decode_s
            decode_s=(t2 - t1) + (t3 - t2),
            batch_size=len(texts),
        )
        by_index = {
            i: (source, out, lps, text)
            for i, source, out, lps, text in zip(
                todo, sources, outputs, logprobs, decoded, strict=True
            )
        }
        results = []
        for i in range(len(texts)):
            if i not in by_index:
                metrics = _metrics(0, (), ())
                results.append(
                    TranslationResult("", src_app, tgt_app, self.name, metrics, timings, ())
                )
                continue
            source, out, lps, text = by_index[i]
            results.append(
                TranslationResult(
                    text=text,
                    source_lang=src_app,
                    target_lang=tgt_app,
                    model=self.name,
                    quality_metrics=_metrics(len(source) - 2, out, lps),
                    timings=timings,
                    token_ids=self.vocab.ids(out),
                )
            )
        return results


def _metrics(
    source_tokens: int, tokens: Sequence[str], logprobs: Sequence[float]
) -> dict[str, float]:
    """Same keys and meaning as the ONNX translator's: mean_token_logprob over the generated
    text tokens and EOS (the forced language token excluded), length_ratio of text tokens."""
    if not tokens:
        return quality_metrics(source_tokens, 0, 0.0, True, 0.0)
    reached = tokens[-1] == EOS
    lps = list(logprobs[1:])
    text_tokens = len(tokens) - 1 - (1 if reached else 0)
    mean = sum(lps) / len(lps) if lps else 0.0
    return quality_metrics(source_tokens, text_tokens, mean, reached, sum(lps))
