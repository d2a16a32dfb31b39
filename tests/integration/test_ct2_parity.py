"""CTranslate2 translator against the reference implementation (no torch needed).

tests/fixtures/m2m100/ct2/{m2m100,nllb} are the tiny parity fixtures (the same trained weights as
the ONNX exports beside them) converted by CTranslate2's own converter (tools/make_ct2_fixture.py,
which first checks that the rebuilt transformers model reproduces every golden sequence). The
golden token ids are transformers' `generate` output, stored in golden.json by
tools/make_m2m100_fixture.py.

Greedy search (with and without no_repeat_ngram / min_length) is token-for-token transformers'.
Beam search is token-for-token transformers' on every input but the few listed in
BEAM_DIVERGENCES, where the two searches stop at different steps: CTranslate2 stops once
beam_size hypotheses are finished; transformers (early_stopping=False) goes on while a running
beam can still beat the worst finished one, or (early_stopping=True) stops when beam_size
hypotheses are finished counting only its top-beam_size candidates. The test pins those inputs
and checks that there the search that went on longer found the longer hypothesis with the
higher length-normalised score (the score both libraries use), i.e. the difference is the stop
rule, not the model, the tokens or the scoring.
"""

from __future__ import annotations

import functools
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from engine.config import TranslationOptions
from engine.errors import ConfigError, ModelError
from engine.translate import Translator, create_translator
from engine.translate.ct2 import Ct2Translator
from engine.translate.m2m100_onnx import M2M100OnnxTranslator

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100"
CT2 = FIXTURE / "ct2"
GOLDEN: dict[str, Any] = json.loads((FIXTURE / "golden.json").read_text(encoding="utf-8"))
VARIANTS = GOLDEN["variants"]
GREEDY_CASES = ["greedy", "greedy_norepeat2", "greedy_minlen12"]
BEAM_CASES = ["beam4", "beam5_early", "beam3_lp2"]
# (variant, case) -> inputs where CTranslate2's beam search stops before transformers' does
BEAM_DIVERGENCES = {
    ("m2m100", "beam4"): {21},
    ("m2m100", "beam5_early"): {24},
    ("m2m100", "beam3_lp2"): {18, 20, 21, 23},
    ("nllb", "beam4"): {21},
    ("nllb", "beam5_early"): set(),
    ("nllb", "beam3_lp2"): {18, 20, 21, 22, 23},
}


@functools.cache
def load(variant: str, compute_type: str = "float32") -> Ct2Translator:
    return Ct2Translator(
        CT2 / variant, compute_type=compute_type, intra_threads=2, max_length=GOLDEN_MAX
    )


GOLDEN_MAX = VARIANTS["m2m100"]["max_length"]


def sources(translator: Ct2Translator, variant: str) -> list[list[str]]:
    """The golden encoder inputs as CTranslate2 tokens (pieces, language token, </s>)."""
    return [
        [translator.vocab.tokens[i] for i in x["input_ids"]] for x in VARIANTS[variant]["inputs"]
    ]


def generate_case(variant: str, case: str, *, batched: bool) -> list[list[int]]:
    translator = load(variant)
    data = VARIANTS[variant]
    settings = data["cases"][case]
    kwargs = {
        "num_beams": settings.get("num_beams", 1),
        "length_penalty": settings.get("length_penalty", 1.0),
        "no_repeat_ngram_size": settings.get("no_repeat_ngram_size", 0),
        "min_length": settings.get("min_length", 0),
    }
    srcs = sources(translator, variant)
    targets = [translator.vocab.tokens[x["target_lang_id"]] for x in data["inputs"]]
    if batched:  # the fixture pairs use several target languages: one call per target
        outputs: list[list[str] | None] = [None] * len(srcs)
        for target in set(targets):
            idx = [i for i, t in enumerate(targets) if t == target]
            for i, out in zip(
                idx, translator.generate([srcs[i] for i in idx], target, **kwargs), strict=True
            ):
                outputs[i] = out
    else:
        outputs = [
            translator.generate([s], t, **kwargs)[0] for s, t in zip(srcs, targets, strict=True)
        ]
    return [[2, *translator.vocab.ids(out)] for out in outputs if out is not None]


@pytest.mark.parametrize("variant", ["m2m100", "nllb"])
@pytest.mark.parametrize("case", GREEDY_CASES)
def test_greedy_is_token_exact(variant: str, case: str) -> None:
    want = VARIANTS[variant]["fp32"][case]
    for batched in (True, False):
        got = generate_case(variant, case, batched=batched)
        bad = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
        assert not bad, f"#{bad[0]}: {got[bad[0]]} != {want[bad[0]]} (batched={batched})"


def normalised_score(translator: Ct2Translator, variant: str, i: int, ids: list[int], lp: float):
    """transformers' beam score of a finished hypothesis: sum of token log-probabilities
    (forced language token excluded) / generated length ** length_penalty."""
    tokens = [translator.vocab.tokens[t] for t in ids[1:]]
    logprobs = translator.token_logprobs([sources(translator, variant)[i]], [tokens])[0]
    return sum(logprobs) / len(tokens) ** lp


@pytest.mark.parametrize("variant", ["m2m100", "nllb"])
@pytest.mark.parametrize("case", BEAM_CASES)
def test_beam_is_token_exact_except_where_ct2_stops_earlier(variant: str, case: str) -> None:
    translator = load(variant)
    want = VARIANTS[variant]["fp32"][case]
    got = generate_case(variant, case, batched=False)
    differ = {i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w}
    assert differ == BEAM_DIVERGENCES[(variant, case)]
    assert len(want) - len(differ) >= 21
    lp = VARIANTS[variant]["cases"][case].get("length_penalty", 1.0)
    reference_searches_longer = VARIANTS[variant]["cases"][case].get("early_stopping") is not True
    for i in sorted(differ):
        ours = normalised_score(translator, variant, i, got[i], lp)
        reference = normalised_score(translator, variant, i, want[i], lp)
        if reference_searches_longer:
            assert reference > ours and len(want[i]) > len(got[i]), f"#{i}"
        else:
            assert ours > reference and len(got[i]) > len(want[i]), f"#{i}"


@pytest.mark.parametrize("variant", ["m2m100", "nllb"])
def test_fixture_conversion_is_a_meaningful_oracle(variant: str) -> None:
    """Beam and greedy differ on the CTranslate2 model too (the beam tests test something)."""
    greedy = generate_case(variant, "greedy", batched=True)
    beam = generate_case(variant, "beam4", batched=False)
    assert sum(a != b for a, b in zip(greedy, beam, strict=True)) >= 3
    assert all(row[-1] == 2 for row in greedy[:18])


def test_token_logprobs_match_the_onnx_model() -> None:
    """quality_metrics come from real log-probabilities: the same as the ONNX run of the same
    weights computes, token by token (float32, up to rounding)."""
    ct2 = load("m2m100")
    onnx = M2M100OnnxTranslator(FIXTURE / "m2m100", quantized=False, num_beams=1, max_length=40)
    texts = ["the cat sits on the mat", "xyz qqq zzq", "wo ist der bahnhof"]
    ours = ct2.translate(texts, "en", "de")
    reference = onnx.translate(texts, "en", "de")
    for a, b in zip(ours, reference, strict=True):
        assert a.token_ids == b.token_ids and a.text == b.text
        for key in ("mean_token_logprob", "sequence_score"):
            assert a.quality_metrics[key] == pytest.approx(b.quality_metrics[key], abs=1e-4)
        for key in ("length_ratio", "source_tokens", "target_tokens", "reached_eos"):
            assert a.quality_metrics[key] == b.quality_metrics[key]
    good, garbage, _ = ours
    assert (
        good.quality_metrics["mean_token_logprob"] > garbage.quality_metrics["mean_token_logprob"]
    )


@pytest.mark.parametrize("variant", ["m2m100", "nllb"])
def test_translate_end_to_end_matches_reference_text(variant: str) -> None:
    translator = Ct2Translator(CT2 / variant, compute_type="float32", max_length=40)
    assert isinstance(translator, Translator)
    translator.warm_up()
    data = VARIANTS[variant]
    pairs: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(data["inputs"]):
        pairs.setdefault((item["source_lang"], item["target_lang"]), []).append(i)
    for (src, tgt), idx in pairs.items():
        texts = [data["inputs"][i]["text"] for i in idx]
        results = translator.translate(["", *texts, "  "], src, tgt)
        assert results[0].text == "" and results[-1].text == "" and len(results) == len(idx) + 2
        for i, result in zip(idx, results[1:-1], strict=True):
            assert result.text == data["fp32_text"]["greedy"][i]
            assert [2, *result.token_ids] == data["fp32"]["greedy"][i]
            assert (result.source_lang, result.target_lang) == (src, tgt)
            assert result.model == translator.name == f"{variant}-ct2:{variant}-float32"
            assert -20.0 < result.quality_metrics["mean_token_logprob"] < 0.0
            assert result.quality_metrics["reached_eos"] == 1.0
            assert result.timings.decode_s > 0.0


def test_int8_compute_type_translates_the_trained_sentences() -> None:
    """int8 (quantised on load) is not token-exact against float32, but the well-trained copy
    sentences come back verbatim."""
    translator = load("m2m100", "int8")
    assert translator.name.endswith("-int8")
    data = VARIANTS["m2m100"]
    same = 0
    for i, item in enumerate(data["inputs"][:18]):
        (result,) = translator.translate([item["text"]], item["source_lang"], item["target_lang"])
        same += result.text == data["fp32_text"]["greedy"][i]
        assert result.quality_metrics["reached_eos"] == 1.0
    assert same >= 12


def test_loop_guard_and_position_limit_cut_long_outputs() -> None:
    translator = Ct2Translator(
        CT2 / "m2m100", compute_type="float32", max_length=500, max_length_ratio=0.5
    )
    assert translator.max_positions == 1024  # the fixture's tokenizer_config sets no real limit
    (result,) = translator.translate(["la la la la la la la la"], "fr", "en")
    source_tokens = len(translator.vocab.source("la la la la la la la la", "fr", 1024))
    assert len(result.token_ids) <= math.ceil(0.5 * source_tokens) + 10 - 1
    assert result.quality_metrics["reached_eos"] == 0.0


# ---------------------------------------------------------------------------- factory, errors


def test_factory_builds_ct2_translators() -> None:
    options = TranslationOptions(
        target_lang="de", backend="ctranslate2", model=str(CT2 / "m2m100"), quantized=False
    )
    translator = create_translator(options)
    assert isinstance(translator, Ct2Translator) and translator.kind == "m2m100"
    assert translator.translate(["the cat sits on the mat"], "en", "de")[0].text == (
        "the cat sits on the mat"
    )
    # a CTranslate2 export given to the nllb/m2m100 translator runs on CTranslate2
    nllb = create_translator(replace(options, backend="nllb", model=str(CT2 / "nllb")))
    assert isinstance(nllb, Ct2Translator) and nllb.name.startswith("nllb-ct2:")
    with pytest.raises(ModelError, match="is an NLLB model"):
        create_translator(replace(options, backend="m2m100", model=str(CT2 / "nllb")))
    with pytest.raises(ConfigError, match="Unknown translator 'marian'"):
        create_translator(replace(options, backend="marian"))


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    target = tmp_path / "ct2-copy"
    shutil.copytree(CT2 / "m2m100", target)
    return target


def test_truncated_model_is_a_clear_error(model_copy: Path) -> None:
    path = model_copy / "model.bin"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError, match=r"corrupt or incomplete.*Re-download") as err:
        Ct2Translator(model_copy)
    assert str(model_copy) in str(err.value)


def test_missing_files_are_clear_errors(model_copy: Path, tmp_path: Path) -> None:
    (model_copy / "sentencepiece.bpe.model").unlink()
    with pytest.raises(ModelError, match=r"missing its tokenizer file sentencepiece\.bpe\.model"):
        Ct2Translator(model_copy)
    with pytest.raises(ModelError, match="not a CTranslate2 export"):
        Ct2Translator(FIXTURE / "m2m100")
    with pytest.raises(ModelError, match="does not exist"):
        Ct2Translator(tmp_path / "nowhere")


def test_bad_settings_and_pairs_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="compute type must be one of"):
        Ct2Translator(CT2 / "m2m100", compute_type="int3")
    with pytest.raises(ConfigError, match="beam size"):
        Ct2Translator(CT2 / "m2m100", num_beams=0)
    translator = load("m2m100")
    with pytest.raises(ConfigError, match="M2M100 does not know Latin"):
        translator.translate(["salve"], "la", "en")


def test_pipeline_translates_finals_through_ctranslate2(speech_dir, whisper_auto) -> None:
    """Real Whisper finals, translated by the CTranslate2 translator the pipeline builds from
    its options (the fixture's nonsense language: the copy model echoes English back)."""
    from engine.audio.sources import FileSource
    from engine.config import AsrOptions, EngineConfig, SpeakerOptions
    from engine.events import Final, Translation
    from engine.pipeline import Pipeline
    from engine.sentences import split_sentences

    options = TranslationOptions(
        target_lang="fr", backend="ctranslate2", model=str(CT2 / "m2m100"), quantized=False
    )
    reference = load("m2m100")
    events: list = []
    config = EngineConfig(
        asr=AsrOptions(language="en"), speakers=SpeakerOptions(mode="off"), translation=options
    )
    pipeline = Pipeline(config, events.append, transcriber=whisper_auto)
    pipeline.run(FileSource(speech_dir / "chan3.wav"))
    finals = [e for e in events if isinstance(e, Final)]
    translations = [e for e in events if isinstance(e, Translation)]
    assert len(finals) >= 3
    assert [t.segment_id for t in translations] == [f.segment_id for f in finals]
    for final, tr in zip(finals, translations, strict=True):
        expected = reference.translate(split_sentences(final.text), "en", "fr")
        assert tr.text == " ".join(r.text for r in expected) and tr.text
        assert tr.model.startswith("m2m100-ct2:")
        assert tr.quality_metrics["mean_token_logprob"] < 0.0


def test_cli_translates_with_the_ctranslate2_translator(speech_dir, tmp_path) -> None:
    from tests.cli_env import run_cli

    out = tmp_path / "run.jsonl"
    proc = run_cli(
        "run",
        speech_dir / "goforward.wav",
        "--source",
        "en",
        "--target",
        "de",
        "--translator",
        "ctranslate2",
        "--translation-model",
        CT2 / "m2m100",
        "--jsonl",
        out,
        "--speakers",
        "off",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    from engine.cli import jsonl_finals

    finals = jsonl_finals(out.read_text().splitlines())
    assert finals and all(r["target_lang"] == "de" and r["translation"] for r in finals)
    assert all(r["quality_metrics"]["mean_token_logprob"] < 0.0 for r in finals)
