"""faster-whisper (CTranslate2) decoding tuned for live use.

Whisper's encoder is normally fed a padded 30 s window, so every decode costs the same however
short the speech. CTranslate2 accepts a shorter mel input: we encode only the segment plus
padding (`context_for`), which makes a short utterance several times cheaper to decode.

How short is safe (issue 8): with a 3 s window Whisper decodes a 1.2 s utterance twice over
("<|0.00|> Fail again.<|1.00|><|1.00|> Fail again.<|2.00|>..."): the second copy is stamped
inside the audio, so no timestamp cut can catch it, and two looping partials even get it
committed by the local agreement. It is the window, not the text: the same decode over true
silence (encoder states of a silent window spliced in past the speech) does not loop, and with
4 s or more of silence after the speech no loop was seen. Short windows also cost accuracy
("Fail better." -> "Thail better.", "Try again." -> "Prigan"): on 22 utterances (real, Piper,
espeak-ng; bench/corpus.py) the WER was 0.072 with 3 s windows, 0.051 with 5 s, 0.043 with
6 s, 0.036 with 8 or 10 s, 0.051 with 12 or 15 s and 0.058 with the full 30 s; 10 s also
translates Spanish better ("música" -> "music", "song" with 8 s). Hence `MIN_CONTEXT_S` = 10 s:
its encoder pass takes ~0.11 s on 2 cores (3 s: ~0.05 s; the encoder cost grows steeply past
10 s: ~0.4 s at 12 s, ~3 s at 30 s on this loaded machine).

Partials are the exception (`context_for(..., partial=True)`: speech + 2 s, at least 3 s). They
are most of the decodes (66 of 108 on the bench corpus) and only shown: a final is decoded afresh
over the whole segment with the 10 s minimum and does not inherit the partials' words
(`LocalAgreement.finalize`), so a partial's slip can never reach a final. With the short window a
partial costs 0.26 s of CPU instead of 0.41 s, the first partial shows ~0.1 s sooner, and no
doubled phrase appeared in any of 95 partials on the corpus (bench/bench_accuracy.py).

Decoding runs with timestamp tokens and stops at the first timestamp past the end of the audio.
A decode may be conditioned on the text committed before it (`prompt`); the hallucination
guards (`engine.asr.guards.check`) apply to every decode either way.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import ctranslate2
import numpy as np

from engine.asr import guards
from engine.asr.language import LanguagePrior
from engine.audio import SAMPLE_RATE
from engine.config import AsrOptions
from engine.errors import ConfigError, ModelError
from engine.events import Word

log = logging.getLogger(__name__)

MIN_CONTEXT_S = 10.0  # shorter encoder windows loop on short utterances and cost accuracy
TAIL_PAD_S = 1.5  # silence after the speech of long segments: with less, Whisper tends to loop
PARTIAL_MIN_CONTEXT_S = 3.0  # partials: shown only, never kept in a final (module doc)
PARTIAL_TAIL_PAD_S = 2.0
PROMPT_MAX_TOKENS = 64  # of earlier text given as context (Whisper allows up to 223)
TIMESTAMP_SLACK_S = 0.5
FALLBACK_SEED = 1234
CLOSING_PUNCTUATION = frozenset(".。,，!！?？:：;”)]}、…'\"")  # joined to the word before
MAX_CONTEXT_S = 30.0

WHISPER_LANGUAGES: frozenset[str] = frozenset()


def _whisper_languages() -> frozenset[str]:
    global WHISPER_LANGUAGES
    if not WHISPER_LANGUAGES:
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        WHISPER_LANGUAGES = frozenset(_LANGUAGE_CODES)
    return WHISPER_LANGUAGES


def check_language(code: str | None) -> str | None:
    """None/"auto" -> None; else the code if Whisper knows it, else a ConfigError."""
    if code in (None, "", "auto"):
        return None
    code = code.strip().lower()
    if code not in _whisper_languages():
        raise ConfigError(
            f"Unknown source language code {code!r}: use 'auto' or a Whisper code such as "
            "en, de, es, fr, zh, ja"
        )
    return code


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One decode of one stretch of audio."""

    text: str
    lang: str | None
    lang_probability: float | None
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    audio_s: float
    decode_s: float
    temperature: float = 0.0
    rejected: str | None = None  # why the text was discarded by a guard (then text == "")
    # Whisper's own language probabilities for this audio, likeliest first (auto language
    # only): evidence for the session's `LanguagePrior`; `lang` is the choice made with it
    detected: tuple[tuple[str, float], ...] = ()


INTERRUPTED = "interrupted"  # Hypothesis.rejected of a decode its `stop` ended early


def _interrupted(language: str | None, n_samples: int, t0: float) -> Hypothesis:
    return Hypothesis(
        text="",
        lang=language,
        lang_probability=None,
        avg_logprob=0.0,
        no_speech_prob=0.0,
        compression_ratio=0.0,
        audio_s=n_samples / SAMPLE_RATE,
        decode_s=time.perf_counter() - t0,
        rejected=INTERRUPTED,
    )


def _as_prior(session_languages: LanguagePrior | Sequence[str]) -> LanguagePrior:
    if isinstance(session_languages, LanguagePrior):
        return session_languages
    return LanguagePrior(session_languages)


def _merge_detected(parts: Sequence[Hypothesis]) -> tuple[tuple[str, float], ...]:
    """The language probabilities of consecutive windows, averaged by their duration."""
    total: dict[str, float] = {}
    seconds = sum(p.audio_s for p in parts if p.detected) or 1.0
    for part in parts:
        for code, prob in part.detected:
            total[code] = total.get(code, 0.0) + prob * part.audio_s / seconds
    return tuple(sorted(total.items(), key=lambda kv: -kv[1]))


class Transcriber(Protocol):
    options: AsrOptions  # its thresholds also judge revisions (`engine.asr.revision`)

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        final: bool = True,
        partial: bool = False,
        session_languages: LanguagePrior | Sequence[str] = (),
        prompt: str = "",
        stop: Callable[[], bool] | None = None,
    ) -> Hypothesis:
        raise NotImplementedError

    def align(self, audio: np.ndarray, text: str, language: str | None = None) -> tuple[Word, ...]:
        """Timings of the words of `text` (a transcript of `audio`), in seconds from the start
        of `audio`; () when they cannot be timed."""
        raise NotImplementedError


LONGEST_WINDOW = int((MAX_CONTEXT_S - TAIL_PAD_S) * SAMPLE_RATE)


def _quietest_cut(audio: np.ndarray, search_s: float = 5.0, hop: int = 1600) -> int:
    """Sample index of the quietest 100 ms frame within the last `search_s` of `audio`."""
    first = max(len(audio) - int(search_s * SAMPLE_RATE), 0) // hop
    frames = audio[first * hop : len(audio) // hop * hop].reshape(-1, hop)
    if not len(frames):
        return len(audio)
    quietest = int(np.argmin((frames**2).mean(axis=1)))
    return max((first + quietest) * hop + hop // 2, hop)


def context_for(n_samples: int, *, partial: bool = False) -> int:
    """Samples of encoder input for `n_samples` of speech: speech + tail pad, at least
    `MIN_CONTEXT_S` (a partial: `PARTIAL_TAIL_PAD_S` and `PARTIAL_MIN_CONTEXT_S`), rounded up to
    whole seconds (fewer distinct shapes), at most 30 s."""
    if partial:
        seconds = max(n_samples / SAMPLE_RATE + PARTIAL_TAIL_PAD_S, PARTIAL_MIN_CONTEXT_S)
    else:
        seconds = max(n_samples / SAMPLE_RATE + TAIL_PAD_S, MIN_CONTEXT_S)
    return int(min(math.ceil(seconds), MAX_CONTEXT_S) * SAMPLE_RATE)


def resolve_model_dir(name: str) -> str:
    """ "default"/"base" -> the packaged multilingual base; a directory; "tiny.en" packaged;
    otherwise a catalogue id, any faster-whisper name or a Hub repo id of a CTranslate2 Whisper
    export: the model store finds it installed or in the Hugging Face cache, or downloads it
    (with progress on stderr) when allowed."""
    from engine.models import packaged

    if name in ("default", "base", "whisper-base"):
        return str(packaged.whisper_base_dir())
    if name in ("tiny.en", "whisper-tiny.en") and (tiny := packaged.whisper_tiny_en_dir()):
        return str(tiny)
    path = Path(name).expanduser()
    # "owner/name" that is not a directory here is a Hub repo id (the model store resolves it)
    if path.exists() or name.startswith((".", "/", "~")):
        if not path.is_dir():
            raise ModelError(f"Model directory not found or not a directory: {path}")
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path} is not a faster-whisper model directory (model.bin missing)")
        return str(path)
    try:
        from engine.models.store import ModelStore
    except ImportError:  # the store is optional for plain ASR
        ModelStore = None  # type: ignore[assignment,misc]  # noqa: N806
    if ModelStore is not None:
        return str(ModelStore().resolve(name, "asr"))
    return name


class WhisperTranscriber:
    _last_encoded: tuple[tuple[int, bytes], Any] | None = None  # see `_encode`

    def __init__(self, options: AsrOptions | None = None) -> None:
        self.options = options or AsrOptions()
        if self.options.task not in ("transcribe", "translate"):
            raise ConfigError(f"Unknown task {self.options.task!r}: use transcribe or translate")
        self.language = check_language(self.options.language)
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self.model_path = resolve_model_dir(self.options.model)
        try:
            self.model = WhisperModel(
                self.model_path,
                device=self.options.device,
                compute_type=self.options.compute_type,
                cpu_threads=self.options.cpu_threads,
                num_workers=1,
                local_files_only=True,
            )
        except Exception as exc:
            raise ModelError(f"Cannot load Whisper model {self.options.model!r}: {exc}") from exc
        self.multilingual = self.model.model.is_multilingual
        if not self.multilingual and self.language not in (None, "en"):
            raise ConfigError(
                f"Model {self.options.model!r} is English-only; it cannot transcribe "
                f"{self.language!r}"
            )
        self._tokenizer_cls = Tokenizer
        base_tokenizer = Tokenizer(
            self.model.hf_tokenizer, self.multilingual, task="transcribe", language="en"
        )
        self._suppress = get_suppressed_tokens(base_tokenizer, [-1])
        self.warm_up()

    def with_options(self, options: AsrOptions) -> WhisperTranscriber:
        """This transcriber with other decode-time options (language, task, thresholds...),
        sharing the loaded model. Options that need another model raise ConfigError."""
        if (options.model, options.device, options.compute_type, options.cpu_threads) != (
            self.options.model,
            self.options.device,
            self.options.compute_type,
            self.options.cpu_threads,
        ):
            raise ConfigError("a different model or thread budget needs a new transcriber")
        if options.task not in ("transcribe", "translate"):
            raise ConfigError(f"Unknown task {options.task!r}: use transcribe or translate")
        language = check_language(options.language)
        if not self.multilingual and language not in (None, "en"):
            raise ConfigError(
                f"Model {options.model!r} is English-only; it cannot transcribe {language!r}"
            )
        derived = copy.copy(self)  # shares the model, tokenizer and suppress list
        derived.options = options
        derived.language = language
        return derived

    def warm_up(self) -> None:
        """One decode so the first real utterance does not pay for lazy initialisation."""
        rng = np.random.default_rng(0)
        self.transcribe(rng.normal(0, 1e-3, SAMPLE_RATE).astype(np.float32), language="en")

    def detect_language(self, encoder_output: Any) -> dict[str, float]:
        """Whisper's probability of each language for an encoded window."""
        results = self.model.model.detect_language(encoder_output)[0]
        return {token[2:-2]: float(prob) for token, prob in results}

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        final: bool = True,
        partial: bool = False,
        session_languages: LanguagePrior | Sequence[str] = (),
        prompt: str = "",
        stop: Callable[[], bool] | None = None,
    ) -> Hypothesis:
        """Decode `audio` (16 kHz mono float32). `final=False` is greedy and skips the
        temperature fallback to stay cheap. `partial=True`: a hypothesis only shown while the
        speaker goes on, decoded over a shorter window (`context_for`, module doc); it is never
        kept in a final, so it needs no guard against the loops of short windows.
        stop: asked after the encoder pass and before each decoding attempt; when it says True
        the decode ends there with no text, `rejected=INTERRUPTED` (optional work, such as a
        revision, gives way to a live final this way).
        session_languages: what the session has sounded
        like (`LanguagePrior`, or the languages heard clearly), weighing a detected language.
        prompt: text said just before this audio (context for names, casing and the first words
        of a sentence); only its last `PROMPT_MAX_TOKENS` tokens are used, and the temperature
        fallback decodes without it (a prompt can lead a decode into a loop)."""
        t0 = time.perf_counter()
        audio = np.asarray(audio, dtype=np.float32)
        n = len(audio)
        prompt = prompt or self.options.initial_prompt or ""
        if n > LONGEST_WINDOW:
            return self._transcribe_long(
                audio, language, final, session_languages, prompt, t0, stop
            )
        padded = np.zeros(context_for(n, partial=partial), dtype=np.float32)
        padded[: min(n, len(padded))] = audio[: len(padded)]
        encoder_output = self._encode(padded)
        if stop is not None and stop():
            return _interrupted(language or self.language, n, t0)

        language = language or self.language
        lang_prob = None
        detected: dict[str, float] = {}
        if not self.multilingual:
            language = "en"
        elif self.language is None and (language is None or final):
            # auto language: a final detects even when its segment's language is known (~20 ms),
            # as evidence for the session's prior; partials only when they must choose
            detected = self.detect_language(encoder_output)
            if language is None:
                prior = _as_prior(session_languages)
                language, lang_prob = prior.choose(detected, n / SAMPLE_RATE)

        tokenizer = self._tokenizer_cls(
            self.model.hf_tokenizer, self.multilingual, task=self.options.task, language=language
        )
        previous = tokenizer.encode(" " + prompt.strip())[-PROMPT_MAX_TOKENS:] if prompt else []
        prompts = {
            False: self.model.get_prompt(tokenizer, [], without_timestamps=False),
            True: self.model.get_prompt(tokenizer, previous, without_timestamps=False),
        }
        audio_s = n / SAMPLE_RATE

        temperatures = [0.0] + ([0.3, 0.6] if final else [])
        best: Hypothesis | None = None
        for temperature in temperatures:
            if temperature and stop is not None and stop():
                return _interrupted(language, n, t0)
            if temperature:
                ctranslate2.set_random_seed(FALLBACK_SEED)  # same audio, same text
            prompt_ids = prompts[bool(previous) and temperature == 0]
            max_new = int(min(440 - len(prompt_ids), 16 + 14 * audio_s))
            result = self.model.model.generate(
                encoder_output,
                [prompt_ids],
                beam_size=self.options.beam_size if final and temperature == 0 else 1,
                num_hypotheses=1,
                sampling_temperature=max(temperature, 1e-5) if temperature else 1.0,
                sampling_topk=0 if temperature else 1,
                max_length=len(prompt_ids) + max_new,
                suppress_blank=True,
                suppress_tokens=self._suppress,
                return_scores=True,
                return_no_speech_prob=True,
            )[0]
            tokens = self._text_tokens(result.sequences_ids[0], tokenizer, n / SAMPLE_RATE)
            text = tokenizer.decode(tokens).strip()
            seq_len = len(tokens)
            cum_logprob = result.scores[0] * (seq_len**1.0)
            avg_logprob = cum_logprob / (seq_len + 1)
            ratio = guards.compression_ratio(text) if text else 0.0
            attempt = Hypothesis(
                text=text,
                lang=language,
                lang_probability=lang_prob,
                detected=tuple(sorted(detected.items(), key=lambda kv: -kv[1])),
                avg_logprob=float(avg_logprob),
                no_speech_prob=float(result.no_speech_prob),
                compression_ratio=ratio,
                audio_s=audio_s,
                decode_s=0.0,
                temperature=temperature,
            )
            # when no attempt passes, keep the likeliest one (as faster-whisper does)
            if best is None or attempt.avg_logprob > best.avg_logprob:
                best = attempt
            needs_retry = (
                ratio > self.options.compression_ratio_threshold
                or avg_logprob < self.options.log_prob_threshold
            )
            if not needs_retry:
                best = attempt
                break
            if result.no_speech_prob > self.options.no_speech_threshold:
                break  # silence: retrying would only invent text
        assert best is not None
        text, rejected = self._apply_guards(best)
        return Hypothesis(
            text=text,
            lang=best.lang,
            lang_probability=best.lang_probability,
            detected=best.detected,
            avg_logprob=best.avg_logprob,
            no_speech_prob=best.no_speech_prob,
            compression_ratio=best.compression_ratio,
            audio_s=audio_s,
            decode_s=time.perf_counter() - t0,
            temperature=best.temperature,
            rejected=rejected,
        )

    def _encode(self, padded: np.ndarray) -> Any:
        """The encoder output of one padded window; the last one is kept, so timing the words
        of a decode (or of a second text) on the same audio costs no second encoder pass."""
        key = (len(padded), hashlib.blake2b(padded.tobytes(), digest_size=16).digest())
        cached = self._last_encoded
        if cached is not None and cached[0] == key:
            return cached[1]
        features = self.model.feature_extractor(padded)[:, : len(padded) // 160]
        encoder_output = self.model.encode(features)
        self._last_encoded = (key, encoder_output)
        return encoder_output

    def align(self, audio: np.ndarray, text: str, language: str | None = None) -> tuple[Word, ...]:
        """Word timings of `text` in `audio` (seconds from its start), from the decoder's
        cross-attention over a fresh encoding of the same window (faster-whisper's
        `find_alignment`). () for empty text or audio longer than one window."""
        audio = np.asarray(audio, dtype=np.float32)
        n = len(audio)
        if not text.strip() or n == 0 or n > LONGEST_WINDOW:
            return ()
        padded = np.zeros(context_for(n), dtype=np.float32)
        padded[:n] = audio
        encoder_output = self._encode(padded)
        language = language or self.language or "en"
        if not self.multilingual:
            language = "en"
        tokenizer = self._tokenizer_cls(
            self.model.hf_tokenizer, self.multilingual, task=self.options.task, language=language
        )
        tokens = tokenizer.encode(" " + text.strip())
        content_frames = min(n // 160, len(padded) // 160)
        (alignment,) = self.model.find_alignment(
            tokenizer, [tokens], encoder_output, content_frames
        )
        duration = n / SAMPLE_RATE
        words: list[Word] = []
        for item in alignment:
            text_piece = str(item["word"]).strip()
            if not text_piece:
                continue
            if words and all(c in CLOSING_PUNCTUATION for c in text_piece):
                last = words[-1]  # "meters" + "." -> "meters." (as faster-whisper merges)
                words[-1] = Word(last.text + text_piece, last.start, last.end, last.probability)
                continue
            start = min(max(float(item["start"]), 0.0), duration)
            end = min(max(float(item["end"]), start), duration)
            words.append(
                Word(text_piece, round(start, 3), round(end, 3), float(item["probability"]))
            )
        return tuple(words)

    def _transcribe_long(
        self,
        audio: np.ndarray,
        language: str | None,
        final: bool,
        session_languages: LanguagePrior | Sequence[str],
        prompt: str,
        t0: float,
        stop: Callable[[], bool] | None = None,
    ) -> Hypothesis:
        """Audio longer than one encoder window: decode consecutive windows, each cut at the
        quietest 100 ms of its last 5 s, and join them (nothing past 30 s is lost)."""
        parts: list[Hypothesis] = []
        start = 0
        while start < len(audio):
            end = len(audio)
            if end - start > LONGEST_WINDOW:
                end = start + _quietest_cut(audio[start : start + LONGEST_WINDOW])
            part = self.transcribe(
                audio[start:end],
                language=language or (parts[0].lang if parts else None),
                final=final,
                session_languages=session_languages,
                prompt=parts[-1].text if parts and parts[-1].text else prompt,
                stop=stop,
            )
            if part.rejected == INTERRUPTED:
                return part
            parts.append(part)
            start = end
        kept = [p for p in parts if p.text]
        weights = [p.audio_s for p in parts]
        return Hypothesis(
            text=" ".join(p.text for p in kept),
            lang=parts[0].lang,
            lang_probability=parts[0].lang_probability,
            detected=_merge_detected(parts),
            avg_logprob=float(np.average([p.avg_logprob for p in parts], weights=weights)),
            no_speech_prob=min(p.no_speech_prob for p in parts),
            compression_ratio=max(p.compression_ratio for p in parts),
            audio_s=len(audio) / SAMPLE_RATE,
            decode_s=time.perf_counter() - t0,
            temperature=max(p.temperature for p in parts),
            rejected=None if kept else parts[0].rejected,
        )

    @staticmethod
    def _text_tokens(ids: list[int], tokenizer, audio_s: float) -> list[int]:  # noqa: ANN001
        """Text tokens up to the first timestamp that lies past the end of the audio."""
        out = []
        for token in ids:
            if token >= tokenizer.timestamp_begin:
                if (token - tokenizer.timestamp_begin) * 0.02 > audio_s + TIMESTAMP_SLACK_S:
                    break
            elif token < tokenizer.eot:
                out.append(token)
        return out

    def _apply_guards(self, hyp: Hypothesis) -> tuple[str, str | None]:
        verdict = guards.check(
            hyp.text,
            no_speech_prob=hyp.no_speech_prob,
            avg_logprob=hyp.avg_logprob,
            options=self.options,
        )
        return verdict.text, verdict.rejected
