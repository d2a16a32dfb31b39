"""In-process M2M100 / NLLB-200 translation on ONNX Runtime (no torch).

Loads the file layout of the public ONNX exports (optimum / transformers.js): `encoder_model`,
`decoder_model_merged` or `decoder_model` + `decoder_with_past_model`, each optionally
`*_quantized` (int8), flat in the model directory or under `onnx/`; `sentencepiece.bpe.model`,
`vocab.json` (M2M100), tokenizer / generation / model `config.json`.

Decoding follows transformers' `generate` exactly (the parity tests compare token ids):
decoding starts from `decoder_start_token_id` (2), the target-language token is forced at the
first step, then the decoder is fed only the newest token with its past key/values. Greedy
search takes the arg-max of the processed logits; beam search is transformers' vectorised
algorithm (top 2*beams candidates over beams x vocab, finished hypotheses scored
`sum_logprob / generated_len ** length_penalty`, candidates reaching max_length also finish,
early stopping and the "best running cannot beat worst finished" rule, cache reordered by
source beam). Lengths are capped by `max_position_embeddings`: the exported sinusoidal table
ends there and onnxruntime would fail with a Gather out-of-bounds error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ConfigError, ModelError
from engine.translate import languages as lang_table
from engine.translate.base import TranslationResult, TranslationTimings, quality_metrics
from engine.translate.m2m100_tokenizer import EOS_ID, M2M100Tokenizer, read_json

log = logging.getLogger(__name__)

NEG_INF = np.float32(-np.inf)
BIG_NEG = np.float32(-1.0e9)  # transformers' "impossible" score in beam search

# generation_config.json settings that change the output and that this decoder does not
# implement: refused rather than silently ignored. (key, value that is harmless)
_UNSUPPORTED_SETTINGS: tuple[tuple[str, Any], ...] = (
    ("do_sample", False),
    ("repetition_penalty", 1.0),
    ("encoder_repetition_penalty", 1.0),
    ("encoder_no_repeat_ngram_size", 0),
    ("num_beam_groups", 1),
    ("diversity_penalty", 0.0),
    ("bad_words_ids", None),
    ("forced_decoder_ids", None),
    ("suppress_tokens", None),
    ("begin_suppress_tokens", None),
    ("exponential_decay_length_penalty", None),
    ("sequence_bias", None),
    ("min_new_tokens", None),
    ("renormalize_logits", False),
)


@dataclass(frozen=True)
class GenerationSettings:
    """Search settings, with transformers' meaning and defaults.

    max_length counts the decoder start token (so at most max_length - 1 tokens are generated);
    early_stopping: False (heuristic), True (stop when `num_beams` hypotheses are finished) or
    "never". no_repeat_ngram_size / min_length / forced_eos_token_id: 0 / 0 / None = off.
    max_length_ratio: also cap each sentence at ceil(ratio * its source tokens) + 10 tokens, a
    guard against endless loops on garbage input; None = transformers' behaviour (parity).
    """

    num_beams: int = 1
    max_length: int = 200
    length_penalty: float = 1.0
    early_stopping: bool | str = False
    no_repeat_ngram_size: int = 0
    min_length: int = 0
    forced_eos_token_id: int | None = None
    decoder_start_token_id: int = 2
    eos_token_id: int = EOS_ID
    pad_token_id: int = 1
    max_length_ratio: float | None = None

    @classmethod
    def from_configs(
        cls, generation: dict[str, Any], model: dict[str, Any], where: Path
    ) -> GenerationSettings:
        """From generation_config.json (falling back to config.json); unset keys -> defaults."""
        for key, harmless in _UNSUPPORTED_SETTINGS:
            value = generation.get(key)
            if value is not None and value != harmless and value != []:
                raise ModelError(
                    f"generation_config.json in {where} sets {key}={value!r}, which this "
                    "translator does not implement; remove it or use another export."
                )

        def pick(key: str, default: Any) -> Any:
            for source in (generation, model):
                if source.get(key) is not None:
                    return source[key]
            return default

        eos = pick("eos_token_id", EOS_ID)
        if isinstance(eos, list):
            if len(eos) != 1:
                raise ModelError(f"generation_config.json in {where}: several eos_token_id.")
            eos = eos[0]
        max_length = pick("max_length", 200)
        if generation.get("max_new_tokens") is not None:
            max_length = 1 + int(generation["max_new_tokens"])
        early = pick("early_stopping", False)
        return cls(
            num_beams=int(pick("num_beams", 1)),
            max_length=int(max_length),
            length_penalty=float(pick("length_penalty", 1.0)),
            early_stopping=early if early == "never" else bool(early),
            no_repeat_ngram_size=int(pick("no_repeat_ngram_size", 0) or 0),
            min_length=int(pick("min_length", 0) or 0),
            forced_eos_token_id=pick("forced_eos_token_id", None),
            decoder_start_token_id=int(pick("decoder_start_token_id", 2)),
            eos_token_id=int(eos),
            pad_token_id=int(pick("pad_token_id", 1)),
        )


@dataclass(frozen=True)
class Hypothesis:
    """One generated sequence: ids after the start token (language token, text, EOS if reached)
    with each token's log-probability (the forced language token's is 0), and its beam score."""

    token_ids: tuple[int, ...]
    token_logprobs: tuple[float, ...]
    reached_eos: bool
    score: float


# ---------------------------------------------------------------------------- sessions


def _ort():
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - a project dependency
        raise ModelError(
            "The M2M100/NLLB translator needs onnxruntime: pip install onnxruntime"
        ) from exc
    return onnxruntime


def _open_session(path: Path, model_dir: Path, threads: int) -> Any:
    from engine.ort_session import session_options

    ort = _ort()
    options = session_options(threads)  # no busy-waiting: it shares the cores with the ASR
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception classes
        raise ModelError(
            f"Translation model in {model_dir}: {path.name} is corrupt or incomplete "
            f"(onnxruntime could not load it: {str(exc).splitlines()[0][:200]}). "
            "Re-download or re-import the model."
        ) from exc


_DTYPES: dict[str, type[Any]] = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


class _Cache:
    """Decoder self-attention key/values (grow each step) and cross-attention key/values
    (fixed), per row, keyed by the `past_key_values.*` input names."""

    def __init__(self, decoder: dict[str, np.ndarray], encoder: dict[str, np.ndarray]) -> None:
        self.decoder = decoder
        self.encoder = encoder

    def select(self, rows: np.ndarray, encoder_too: bool) -> _Cache:
        dec = {k: v[rows] for k, v in self.decoder.items()}
        enc = {k: v[rows] for k, v in self.encoder.items()} if encoder_too else self.encoder
        return _Cache(dec, enc)

    @property
    def past_length(self) -> int:
        return next(iter(self.decoder.values())).shape[2] if self.decoder else 0


class _Decoder:
    """The decoder graphs, merged (`use_cache_branch`) or split (`decoder_model` for the first
    step, `decoder_with_past_model` after it); the rest of the code does not care which."""

    def __init__(
        self,
        merged: Any | None,
        first: Any | None,
        with_past: Any | None,
        heads: int,
        head_dim: int,
    ) -> None:
        self.merged = merged
        self.first = first
        self.with_past = with_past
        probe = merged if merged is not None else with_past
        names = [i.name for i in probe.get_inputs()] if probe is not None else []
        self.past_names = [n for n in names if n.startswith("past_key_values.")]
        self.dtype: type[Any] = np.float32
        if probe is not None:
            for i in probe.get_inputs():
                if i.name.startswith("past_key_values."):
                    self.dtype = _DTYPES.get(i.type, np.float32)
                    break
        self.heads = heads
        self.head_dim = head_dim
        self.calls = 0
        self._io: dict[int, tuple[set[str], list[str]]] = {}

    @staticmethod
    def _present(past_name: str) -> str:
        return past_name.replace("past_key_values.", "present.", 1)

    def _empty_past(self, rows: int) -> dict[str, np.ndarray]:
        shape = (rows, self.heads, 0, self.head_dim)
        return {name: np.zeros(shape, dtype=self.dtype) for name in self.past_names}

    def _run(self, session: Any, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.calls += 1
        key = id(session)
        if key not in self._io:
            self._io[key] = (
                {i.name for i in session.get_inputs()},
                [o.name for o in session.get_outputs()],
            )
        wanted, names = self._io[key]
        values = session.run(names, {k: v for k, v in feeds.items() if k in wanted})
        return dict(zip(names, values, strict=True))

    def start(
        self, input_ids: np.ndarray, hidden: np.ndarray, mask: np.ndarray
    ) -> tuple[np.ndarray, _Cache]:
        """First step over the whole decoder prompt: last-position logits and a new cache."""
        feeds = {
            "input_ids": input_ids,
            "encoder_attention_mask": mask,
            "encoder_hidden_states": hidden,
        }
        if self.merged is not None:
            feeds.update(self._empty_past(input_ids.shape[0]))
            feeds["use_cache_branch"] = np.array([False])
            out = self._run(self.merged, feeds)
        else:
            out = self._run(self.first, feeds)
        dec = {n: out[self._present(n)] for n in self.past_names if ".decoder." in n}
        enc = {n: out[self._present(n)] for n in self.past_names if ".encoder." in n}
        return out["logits"][:, -1, :], _Cache(dec, enc)

    def step(
        self, input_ids: np.ndarray, hidden: np.ndarray, mask: np.ndarray, cache: _Cache
    ) -> tuple[np.ndarray, _Cache]:
        """One step with past key/values: input_ids holds only the newest token per row."""
        feeds: dict[str, np.ndarray] = {"input_ids": input_ids, "encoder_attention_mask": mask}
        feeds.update(cache.decoder)
        feeds.update(cache.encoder)
        if self.merged is not None:
            feeds["encoder_hidden_states"] = hidden
            feeds["use_cache_branch"] = np.array([True])
            out = self._run(self.merged, feeds)
        else:
            out = self._run(self.with_past, feeds)
        # The merged graph's with-past branch returns dummies for the encoder key/values:
        # keep the ones from the first step.
        dec = {n: out[self._present(n)] for n in cache.decoder}
        return out["logits"][:, -1, :], _Cache(dec, cache.encoder)

    def full(self, input_ids: np.ndarray, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """No-cache path (benchmarks): run the whole prefix again, return last logits."""
        return self.start(input_ids, hidden, mask)[0]


# ---------------------------------------------------------------------------- search helpers


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32, copy=False)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _topk(x: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values per row, largest first, ties by lower index."""
    m = x.shape[-1]
    if k >= m:
        return np.argsort(-x, axis=-1, kind="stable")[:, :k]
    part = np.argpartition(-x, k - 1, axis=-1)[:, :k]
    values = np.take_along_axis(x, part, axis=-1)
    order = np.lexsort((part, -values), axis=-1)
    return np.take_along_axis(part, order, axis=-1)


def _banned_ngram_tokens(seq: Sequence[int], n: int, cur_len: int) -> list[int]:
    """transformers' NoRepeatNGram rule over the whole decoder sequence (start token included)."""
    if cur_len + 1 < n:
        return []
    prefix = tuple(seq[cur_len + 1 - n : cur_len])
    return [
        int(seq[i + n - 1]) for i in range(len(seq) - n + 1) if tuple(seq[i : i + n - 1]) == prefix
    ]


def _process(
    scores: np.ndarray,
    sequences: np.ndarray,
    cur_len: int,
    forced: np.ndarray,
    settings: GenerationSettings,
    limits: np.ndarray,
) -> np.ndarray:
    """transformers' logits processors, in its order, on (rows, vocab) scores (in place).

    limits: each row's max_length."""
    if settings.no_repeat_ngram_size > 0:
        for row in range(scores.shape[0]):
            banned = _banned_ngram_tokens(
                sequences[row, :cur_len].tolist(), settings.no_repeat_ngram_size, cur_len
            )
            if banned:
                scores[row, banned] = NEG_INF
    if cur_len < settings.min_length:
        scores[:, settings.eos_token_id] = NEG_INF
    if cur_len == 1:  # ForcedBOSTokenLogitsProcessor: the target-language token
        scores[:] = NEG_INF
        scores[np.arange(scores.shape[0]), forced] = 0.0
    if settings.forced_eos_token_id is not None:
        last = np.asarray(limits - 1 == cur_len)
        if last.any():
            scores[last] = NEG_INF
            scores[last, settings.forced_eos_token_id] = 0.0
    return scores


# ---------------------------------------------------------------------------- the model


def _find_file(model_dir: Path, name: str) -> Path | None:
    for folder in (model_dir, model_dir / "onnx"):
        if (folder / name).is_file():
            return folder / name
    return None


class M2M100OnnxModel:
    """The sessions, the tokenizer and the search; `M2M100OnnxTranslator` adds the text API.

    kind: "m2m100" / "nllb" / None (from the tokenizer files).
    quantized: True = the int8 `*_quantized.onnx` files, False = fp32, None = fp32 when present.
    decoder_layout: "auto" (merged when present), "merged" or "split".
    cpu_threads: onnxruntime intra-op threads per session (inter-op: 1).
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        kind: str | None = None,
        quantized: bool | None = None,
        decoder_layout: str = "auto",
        cpu_threads: int = 2,
    ) -> None:
        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise ModelError(f"Translation model directory {self.model_dir} does not exist.")
        if decoder_layout not in ("auto", "merged", "split"):
            raise ConfigError(f"decoder_layout must be auto, merged or split, not {decoder_layout}")
        self.tokenizer = M2M100Tokenizer(self.model_dir, kind)
        self.kind = self.tokenizer.kind
        config_path = self.model_dir / "config.json"
        if not config_path.is_file():
            raise ModelError(
                f"Translation model in {self.model_dir} is missing config.json. "
                "Re-download or re-import the model."
            )
        self.config = read_json(config_path, self.model_dir)
        gen_path = self.model_dir / "generation_config.json"
        generation = read_json(gen_path, self.model_dir) if gen_path.is_file() else {}
        self.settings = GenerationSettings.from_configs(generation, self.config, self.model_dir)
        self.max_positions = int(self.config.get("max_position_embeddings", 1024))
        self.vocab_size = int(self.config.get("vocab_size", 0))
        heads = int(self.config.get("decoder_attention_heads", 16))
        head_dim = int(self.config.get("d_model", 1024)) // heads
        bad = [
            c
            for c, i in self.tokenizer.lang_to_id.items()
            if self.vocab_size and i >= self.vocab_size
        ]
        if bad:
            raise ModelError(
                f"Translation model in {self.model_dir}: the tokenizer's language ids do not "
                f"fit the model's vocabulary ({self.vocab_size}); tokenizer and weights do not "
                "belong together."
            )

        self.quantized = self._choose_precision(quantized)
        suffix = "_quantized" if self.quantized else ""
        threads = max(1, int(cpu_threads))
        encoder_file = self._require(f"encoder_model{suffix}.onnx")
        merged_file = _find_file(self.model_dir, f"decoder_model_merged{suffix}.onnx")
        first_file = _find_file(self.model_dir, f"decoder_model{suffix}.onnx")
        past_file = _find_file(self.model_dir, f"decoder_with_past_model{suffix}.onnx")
        use_merged = decoder_layout == "merged" or (
            decoder_layout == "auto" and merged_file is not None
        )
        if use_merged and merged_file is None:
            self._require(f"decoder_model_merged{suffix}.onnx")
        if not use_merged and (first_file is None or past_file is None):
            missing = [
                n
                for n, f in (
                    (f"decoder_model{suffix}.onnx", first_file),
                    (f"decoder_with_past_model{suffix}.onnx", past_file),
                )
                if f is None
            ]
            raise ModelError(
                f"Translation model in {self.model_dir} lacks a decoder: neither "
                f"decoder_model_merged{suffix}.onnx nor {' + '.join(missing)} is there. "
                "Re-download or re-import the model."
            )
        self.encoder = _open_session(encoder_file, self.model_dir, threads)
        if use_merged:
            assert merged_file is not None
            self.decoder = _Decoder(
                _open_session(merged_file, self.model_dir, threads), None, None, heads, head_dim
            )
            self.files: tuple[str, ...] = (encoder_file.name, merged_file.name)
        else:
            assert first_file is not None and past_file is not None
            self.decoder = _Decoder(
                None,
                _open_session(first_file, self.model_dir, threads),
                _open_session(past_file, self.model_dir, threads),
                heads,
                head_dim,
            )
            self.files = (encoder_file.name, first_file.name, past_file.name)
        self.name = f"{self.kind}:{self.model_dir.name}{'-int8' if self.quantized else ''}"

    def _choose_precision(self, quantized: bool | None) -> bool:
        if quantized is not None:
            return quantized
        return _find_file(self.model_dir, "encoder_model.onnx") is None and (
            _find_file(self.model_dir, "encoder_model_quantized.onnx") is not None
        )

    def _require(self, name: str) -> Path:
        path = _find_file(self.model_dir, name)
        if path is None:
            present = sorted(p.name for p in self.model_dir.glob("**/*.onnx"))
            raise ModelError(
                f"Translation model in {self.model_dir} is missing {name} "
                f"(ONNX files present: {', '.join(present) or 'none'}). "
                "Re-download or re-import the model."
            )
        return path

    # ------------------------------------------------------------------ encoder

    def encode(self, batch: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Right-padded encoder run: hidden states and the attention mask."""
        width = max(len(ids) for ids in batch)
        input_ids = np.full((len(batch), width), self.settings.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        hidden = self.encoder.run(
            ["last_hidden_state"], {"input_ids": input_ids, "attention_mask": mask}
        )[0]
        return hidden, mask

    # ------------------------------------------------------------------ generation

    def effective_max_length(self, settings: GenerationSettings) -> int:
        if settings.max_length < 2:
            raise ConfigError(f"max_length must be at least 2, not {settings.max_length}.")
        return min(settings.max_length, self.max_positions)

    def _limits(self, mask: np.ndarray, settings: GenerationSettings) -> np.ndarray:
        """Each sentence's max_length (the global one, or the loop guard's when smaller)."""
        max_length = self.effective_max_length(settings)
        limits = np.full(mask.shape[0], max_length, dtype=np.int64)
        if settings.max_length_ratio is not None:
            source = mask.sum(axis=1)
            guard = np.ceil(settings.max_length_ratio * source).astype(np.int64) + 10
            limits = np.clip(guard, 2, max_length)
        return limits

    def generate(
        self,
        batch: Sequence[Sequence[int]],
        forced_ids: Sequence[int],
        settings: GenerationSettings | None = None,
        *,
        use_cache: bool = True,
    ) -> list[Hypothesis]:
        """Generate for several encoder inputs at once; forced_ids: target-language token per
        input. use_cache=False re-runs the whole prefix every step (benchmarks only)."""
        settings = settings or self.settings
        if not batch:
            return []
        if len(forced_ids) != len(batch):
            raise ValueError("one forced target-language id per input is needed")
        hidden, mask = self.encode([list(ids)[: self.max_positions] for ids in batch])
        return self.generate_encoded(hidden, mask, forced_ids, settings, use_cache=use_cache)

    def generate_encoded(
        self,
        hidden: np.ndarray,
        mask: np.ndarray,
        forced_ids: Sequence[int],
        settings: GenerationSettings | None = None,
        *,
        use_cache: bool = True,
    ) -> list[Hypothesis]:
        """The search alone, over encoder outputs from encode()."""
        settings = settings or self.settings
        forced = np.asarray(forced_ids, dtype=np.int64)
        if settings.num_beams <= 1:
            return self._greedy(hidden, mask, forced, settings, use_cache)
        return self._beam(hidden, mask, forced, settings, use_cache)

    def _greedy(
        self,
        hidden: np.ndarray,
        mask: np.ndarray,
        forced: np.ndarray,
        settings: GenerationSettings,
        use_cache: bool,
    ) -> list[Hypothesis]:
        max_length = self.effective_max_length(settings)
        limits = self._limits(mask, settings)
        n = hidden.shape[0]
        seqs = np.full((n, max_length), settings.pad_token_id, dtype=np.int64)
        seqs[:, 0] = settings.decoder_start_token_id
        logprobs = np.zeros((n, max_length), dtype=np.float32)
        lengths = np.ones(n, dtype=np.int64)
        active = np.arange(n)
        cur_len = 1
        logits, cache = self.decoder.start(seqs[:, :1], hidden, mask)
        while True:
            scores = _process(
                logits.astype(np.float32, copy=True),
                seqs[active],
                cur_len,
                forced[active],
                settings,
                limits[active],
            )
            tokens = scores.argmax(axis=-1)
            token_lp = _log_softmax(logits)[np.arange(len(active)), tokens]
            if cur_len == 1:
                token_lp[:] = 0.0  # forced language token, as beam search scores it
            seqs[active, cur_len] = tokens
            logprobs[active, cur_len] = token_lp
            lengths[active] = cur_len + 1
            cur_len += 1
            keep = (tokens != settings.eos_token_id) & (cur_len < limits[active])
            if not keep.any():
                break
            if not keep.all():
                rows = np.flatnonzero(keep)
                active = active[rows]
                hidden, mask = hidden[rows], mask[rows]
                if use_cache:
                    cache = cache.select(rows, encoder_too=True)
            if use_cache:
                logits, cache = self.decoder.step(
                    seqs[active, cur_len - 1 : cur_len], hidden, mask, cache
                )
            else:
                logits = self.decoder.full(seqs[active, :cur_len], hidden, mask)
        return [
            self._hypothesis(seqs[i], logprobs[i], int(lengths[i]), settings, None)
            for i in range(n)
        ]

    def _beam(
        self,
        hidden: np.ndarray,
        mask: np.ndarray,
        forced: np.ndarray,
        settings: GenerationSettings,
        use_cache: bool,
    ) -> list[Hypothesis]:
        max_length = self.effective_max_length(settings)
        limits = self._limits(mask, settings)
        nb = settings.num_beams
        k = 2 * nb  # max(2, 1 + number of EOS ids) * num_beams
        n = hidden.shape[0]
        pen = settings.length_penalty
        early = settings.early_stopping
        pad = settings.pad_token_id

        running = np.full((n, nb, max_length), pad, dtype=np.int64)
        running[:, :, 0] = settings.decoder_start_token_id
        running_lp = np.zeros((n, nb, max_length), dtype=np.float32)
        running_scores = np.zeros((n, nb), dtype=np.float32)
        running_scores[:, 1:] = BIG_NEG
        finished = running.copy()
        finished_lp = running_lp.copy()
        finished_len = np.ones((n, nb), dtype=np.int64)
        beam_scores = np.full((n, nb), BIG_NEG, dtype=np.float32)
        is_finished = np.zeros((n, nb), dtype=bool)
        unsatisfied = np.ones(n, dtype=bool)

        active = np.arange(n)
        hidden = np.repeat(hidden, nb, axis=0)
        mask = np.repeat(mask, nb, axis=0)
        cur_len = 1
        logits, cache = self.decoder.start(running[:, :, 0].reshape(-1, 1), hidden, mask)
        while True:
            na = len(active)
            lp = _log_softmax(logits)
            lp = _process(
                lp,
                running[active].reshape(na * nb, max_length),
                cur_len,
                np.repeat(forced[active], nb),
                settings,
                np.repeat(limits[active], nb),
            )
            vocab = lp.shape[-1]
            lp = lp.reshape(na, nb, vocab)
            acc = (lp + running_scores[active][:, :, None]).reshape(na, nb * vocab)
            top = _topk(acc, k)
            top_scores = np.take_along_axis(acc, top, axis=-1)
            top_beam = top // vocab
            top_tok = top % vocab
            rows = np.arange(na)[:, None]
            top_seq = running[active][rows, top_beam]
            top_seq[:, :, cur_len] = top_tok
            top_lp = running_lp[active][rows, top_beam]
            top_lp[:, :, cur_len] = lp[rows, top_beam, top_tok]
            hits = (top_tok == settings.eos_token_id) | (cur_len + 1 >= limits[active])[:, None]

            # running beams for the next step: the best nb candidates that did not finish
            cand_running = top_scores + hits.astype(np.float32) * BIG_NEG
            nxt = _topk(cand_running, nb)
            new_running = np.take_along_axis(top_seq, nxt[:, :, None], axis=1)
            new_running_lp = np.take_along_axis(top_lp, nxt[:, :, None], axis=1)
            new_scores = np.take_along_axis(cand_running, nxt, axis=-1)
            source_beam = np.take_along_axis(top_beam, nxt, axis=-1)

            # finished hypotheses: only the top nb candidates may finish
            just_finished = hits & (np.arange(k) < nb)[None, :]
            fin = top_scores / np.float32((cur_len + 1 - 1) ** pen)
            full = np.asarray(is_finished[active].all(axis=-1) & (early is True))
            fin = fin + full[:, None].astype(np.float32) * BIG_NEG
            fin = fin + (~unsatisfied[active])[:, None].astype(np.float32) * BIG_NEG
            fin = fin + (~just_finished).astype(np.float32) * BIG_NEG
            merged_scores = np.concatenate([beam_scores[active], fin], axis=1)
            best = _topk(merged_scores, nb)
            merged_seq = np.concatenate([finished[active], top_seq], axis=1)
            merged_lp = np.concatenate([finished_lp[active], top_lp], axis=1)
            merged_len = np.concatenate(
                [finished_len[active], np.full((na, k), cur_len + 1, dtype=np.int64)], axis=1
            )
            merged_fin = np.concatenate([is_finished[active], just_finished], axis=1)
            finished[active] = np.take_along_axis(merged_seq, best[:, :, None], axis=1)
            finished_lp[active] = np.take_along_axis(merged_lp, best[:, :, None], axis=1)
            finished_len[active] = np.take_along_axis(merged_len, best, axis=1)
            beam_scores[active] = np.take_along_axis(merged_scores, best, axis=1)
            is_finished[active] = np.take_along_axis(merged_fin, best, axis=1)

            running[active] = new_running
            running_lp[active] = new_running_lp
            running_scores[active] = new_scores
            cur_len += 1

            # can a running beam still beat the worst finished one?
            if early == "never" and pen > 0.0:
                best_lens = [int(x) - 1 for x in limits[active]]
            else:
                best_lens = [cur_len - 1] * na
            denominators = np.array([b**pen for b in best_lens], dtype=np.float32)
            best_possible = running_scores[active][:, :1] / denominators[:, None]
            worst = np.where(
                is_finished[active], beam_scores[active].min(axis=1, keepdims=True), BIG_NEG
            )
            unsatisfied[active] &= (best_possible > worst).any(axis=-1)
            done = ~unsatisfied[active] | (is_finished[active].all(axis=-1) & (early is True))
            done |= cur_len >= limits[active]
            if done.all():
                break

            keep = np.flatnonzero(~done)
            cache_rows = (keep[:, None] * nb + source_beam[keep]).reshape(-1)
            if len(keep) < na:
                item_rows = (keep[:, None] * nb + np.arange(nb)[None, :]).reshape(-1)
                hidden, mask = hidden[item_rows], mask[item_rows]
            active = active[keep]
            if use_cache:
                cache = cache.select(cache_rows, encoder_too=len(keep) < na)
                tokens = running[active][:, :, cur_len - 1].reshape(-1, 1)
                logits, cache = self.decoder.step(tokens, hidden, mask, cache)
            else:
                prefix = running[active][:, :, :cur_len].reshape(len(active) * nb, cur_len)
                logits = self.decoder.full(prefix, hidden, mask)

        return [
            self._hypothesis(
                finished[i, 0],
                finished_lp[i, 0],
                int(finished_len[i, 0]),
                settings,
                float(beam_scores[i, 0]),
            )
            for i in range(n)
        ]

    @staticmethod
    def _hypothesis(
        seq: np.ndarray,
        logprobs: np.ndarray,
        length: int,
        settings: GenerationSettings,
        score: float | None,
    ) -> Hypothesis:
        ids = tuple(int(t) for t in seq[1:length])
        lps = tuple(float(x) for x in logprobs[1:length])
        reached = bool(ids) and ids[-1] == settings.eos_token_id
        if score is None:
            score = float(sum(lps))
        return Hypothesis(ids, lps, reached, score)


# ---------------------------------------------------------------------------- translator


class M2M100OnnxTranslator:
    """`Translator` over an M2M100 / NLLB-200 ONNX export (see M2M100OnnxModel for options).

    num_beams / max_length override generation_config.json (None = keep the file's values,
    which for the real M2M100 means 5 beams with early stopping).
    max_length_ratio: loop guard, see GenerationSettings (None = off: exact reference output).
    max_batch: sentences per model call; None = 16 for fp32 and 1 for int8: dynamically
    quantised graphs scale activations per tensor, so with int8 a sentence's translation would
    otherwise depend on the other sentences (and padding) in its batch.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        kind: str | None = None,
        quantized: bool | None = None,
        decoder_layout: str = "auto",
        cpu_threads: int = 2,
        num_beams: int | None = None,
        max_length: int | None = None,
        max_length_ratio: float | None = None,
        max_batch: int | None = None,
    ) -> None:
        self.model = M2M100OnnxModel(
            model_dir,
            kind=kind,
            quantized=quantized,
            decoder_layout=decoder_layout,
            cpu_threads=cpu_threads,
        )
        self.kind = self.model.kind
        self.name = self.model.name
        settings = self.model.settings
        if num_beams is not None:
            if num_beams < 1:
                raise ConfigError(f"beam size must be at least 1, not {num_beams}.")
            settings = replace(settings, num_beams=num_beams)
        if max_length is not None:
            settings = replace(settings, max_length=max_length)
        if max_length_ratio is not None:
            settings = replace(settings, max_length_ratio=max_length_ratio)
        self.settings = settings
        self.model.effective_max_length(settings)  # validates max_length
        if max_batch is None:
            max_batch = 1 if self.model.quantized else 16
        self.max_batch = max(1, max_batch)

    @property
    def tokenizer(self) -> M2M100Tokenizer:
        return self.model.tokenizer

    def check_pair(self, source_lang: str, target_lang: str) -> tuple[str, str]:
        """The model's codes for a pair; ConfigError when the model cannot translate it."""
        return lang_table.check_model_pair(
            source_lang, target_lang, self.kind, self.tokenizer.lang_to_id, self.name
        )

    def warm_up(self) -> None:
        """One tiny translation so that the first real sentence does not pay for allocation."""
        lang = next(iter(self.tokenizer.lang_to_id))
        ids = self.tokenizer.encode("a", lang, self.model.max_positions)
        self.model.generate(
            [ids], [self.tokenizer.lang_id(lang)], replace(self.settings, max_length=3)
        )

    def translate(
        self,
        texts: Sequence[str],
        source_lang: str,
        target_lang: str,
        settings: GenerationSettings | None = None,
    ) -> list[TranslationResult]:
        """Translate several sentences in one batched call, results in input order.

        Languages: any code languages.find() accepts (Whisper codes such as `de`, or the
        model's own). Empty/blank texts come back empty without running the model.
        """
        settings = settings or self.settings
        src, tgt = self.check_pair(source_lang, target_lang)
        src_app, tgt_app = lang_table.app_code(source_lang), lang_table.app_code(target_lang)
        t0 = time.perf_counter()
        tok = self.tokenizer
        todo = [i for i, t in enumerate(texts) if t and t.strip()]
        batch = [tok.encode(texts[i], src, self.model.max_positions) for i in todo]
        if any(len(tok.pieces(texts[i])) > self.model.max_positions - 2 for i in todo):
            log.warning("translation input longer than %d tokens was cut", self.model.max_positions)
        t1 = time.perf_counter()
        hyps: list[Hypothesis] = []
        encode_s = decode_s = 0.0
        for start in range(0, len(batch), self.max_batch):
            chunk = batch[start : start + self.max_batch]
            t_enc = time.perf_counter()
            hidden, mask = self.model.encode(chunk)
            t_dec = time.perf_counter()
            forced = [tok.lang_id(tgt)] * len(chunk)
            hyps.extend(self.model.generate_encoded(hidden, mask, forced, settings))
            encode_s += t_dec - t_enc
            decode_s += time.perf_counter() - t_dec
        t2 = time.perf_counter()
        texts_out = [tok.decode(h.token_ids) for h in hyps]
        tokenize_s = (t1 - t0) + (time.perf_counter() - t2)
        timings = TranslationTimings(
            tokenize_s=tokenize_s, encode_s=encode_s, decode_s=decode_s, batch_size=len(texts)
        )
        by_index = dict(zip(todo, zip(batch, hyps, texts_out, strict=True), strict=True))
        results = []
        for i in range(len(texts)):
            if i not in by_index:
                results.append(
                    TranslationResult(
                        text="",
                        source_lang=src_app,
                        target_lang=tgt_app,
                        model=self.name,
                        quality_metrics=_metrics(0, None),
                        timings=timings,
                        token_ids=(),
                    )
                )
                continue
            source_ids, hyp, out = by_index[i]
            results.append(
                TranslationResult(
                    text=out,
                    source_lang=src_app,
                    target_lang=tgt_app,
                    model=self.name,
                    quality_metrics=_metrics(len(source_ids) - 2, hyp),
                    timings=timings,
                    token_ids=hyp.token_ids,
                )
            )
        return results


def _metrics(source_tokens: int, hyp: Hypothesis | None) -> dict[str, float]:
    """mean_token_logprob: mean log-probability of the generated text tokens (EOS included,
    the forced language token excluded); length_ratio: target/source text-token counts."""
    if hyp is None:
        return quality_metrics(source_tokens, 0, 0.0, True, 0.0)
    lps = hyp.token_logprobs[1:]
    text_tokens = len(hyp.token_ids) - 1 - (1 if hyp.reached_eos else 0)
    mean = float(np.mean(lps)) if lps else 0.0
    return quality_metrics(source_tokens, text_tokens, mean, hyp.reached_eos, hyp.score)
