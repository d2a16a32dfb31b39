"""M2M100 / NLLB ONNX translator against the reference implementation (no torch needed).

The fixture (tests/fixtures/m2m100, made by tools/make_m2m100_fixture.py) is a tiny M2M100
trained on a copy task, exported to ONNX in the public layout (fp32 and int8), with golden token
ids from transformers' `generate` (greedy and several beam settings) on 26 inputs. Outputs must
be identical token for token. fp32 runs all inputs in one batched call (right padding); int8
runs them one by one, as the golden was made: dynamic int8 quantisation scales activations per
tensor, so int8 output legitimately depends on what else is in the batch.

int8 references are per instruction-set family (tests/cpu_isa.py): ONNX Runtime's int8 kernels
add u8*s8 products in int16 with saturation on AVX2 but exactly in int32 on AVX-512 VNNI / AMX,
and on the inputs the model never learnt (close logits) that flips some greedy and beam choices.
So the reference for int8 is the reference implementation run on the same family of CPU as the
test: the variant's "int8" for golden["int8_default_isa"], "int8_by_isa"[family] for the others,
chosen from this CPU's /proc/cpuinfo flags. Each is the same oracle (transformers `generate` over
optimum's ONNX Runtime sessions of the same int8 files), and every output must match it token for
token. A family without a stored reference is compared with the default one and the failure
names the family and how to add its reference. fp32 is one golden everywhere.
"""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.config import TranslationOptions
from engine.errors import ConfigError, ModelError
from engine.translate import Translator, create_translator
from engine.translate.m2m100_onnx import M2M100OnnxModel, M2M100OnnxTranslator
from tests.cpu_isa import this_cpu_int8_family

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100"
GOLDEN: dict[str, Any] = json.loads((FIXTURE / "golden.json").read_text(encoding="utf-8"))
VARIANTS = GOLDEN["variants"]
CASES = list(VARIANTS["m2m100"]["cases"])
INT8_FAMILY = this_cpu_int8_family()


def int8_references(variant: str) -> dict[str, dict[str, list[list[int]]]]:
    """Every stored int8 reference of a variant, by instruction-set family."""
    data = VARIANTS[variant]
    return {GOLDEN["int8_default_isa"]: data["int8"], **data.get("int8_by_isa", {})}


def reference(variant: str, precision: str) -> dict[str, list[list[int]]]:
    """The golden token ids this CPU must reproduce."""
    if precision == "fp32":
        return VARIANTS[variant]["fp32"]
    refs = int8_references(variant)
    return refs.get(INT8_FAMILY, refs[GOLDEN["int8_default_isa"]])


# (variant, precision, decoder layout): between them, merged and split graphs in fp32 and int8.
CONFIGS = [
    ("m2m100", "fp32", "merged"),
    ("m2m100", "fp32", "split"),
    ("m2m100", "int8", "merged"),
    ("nllb", "fp32", "merged"),
    ("nllb", "int8", "split"),
]


@functools.cache
def load(variant: str, precision: str, layout: str) -> M2M100OnnxModel:
    return M2M100OnnxModel(
        FIXTURE / variant, quantized=precision == "int8", decoder_layout=layout, cpu_threads=2
    )


def settings_for(model: M2M100OnnxModel, variant: str, case: str):
    data = VARIANTS[variant]
    return replace(model.settings, max_length=data["max_length"], **data["cases"][case])


def run_case(model: M2M100OnnxModel, variant: str, precision: str, case: str, **kw):
    data = VARIANTS[variant]
    settings = settings_for(model, variant, case)
    batch = [x["input_ids"] for x in data["inputs"]]
    forced = [x["target_lang_id"] for x in data["inputs"]]
    if precision == "fp32":
        hyps = model.generate(batch, forced, settings, **kw)
    else:
        hyps = [
            model.generate([b], [f], settings, **kw)[0] for b, f in zip(batch, forced, strict=True)
        ]
    return [[2, *h.token_ids] for h in hyps], hyps


@pytest.mark.parametrize("variant", ["m2m100", "nllb"])
def test_tokenizer_matches_reference(variant: str) -> None:
    tok = load(variant, "fp32", "merged").tokenizer
    data = VARIANTS[variant]
    for item in data["inputs"]:
        assert tok.encode(item["text"], item["source_code"]) == item["input_ids"], item["text"]
        assert tok.lang_id(item["target_code"]) == item["target_lang_id"]
    for ids, text in zip(data["fp32"]["greedy"], data["fp32_text"]["greedy"], strict=True):
        assert tok.decode(ids) == text


def test_m2m100_fixture_exercises_vocab_json_ids() -> None:
    """vocab.json order differs from sentencepiece ids and lacks a piece: both rules matter."""
    tok = load("m2m100", "fp32", "merged").tokenizer
    pieces = [tok.sp.IdToPiece(i) for i in range(3, tok.sp.GetPieceSize())]
    assert any(tok.piece_to_id(p) not in (i + 3, i + 4, 3) for i, p in enumerate(pieces))
    assert any(3 in x["input_ids"][1:-1] for x in VARIANTS["m2m100"]["inputs"])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("variant", "precision", "layout"), CONFIGS)
def test_token_parity_with_reference(variant: str, precision: str, layout: str, case: str) -> None:
    model = load(variant, precision, layout)
    got, hyps = run_case(model, variant, precision, case)
    want = reference(variant, precision)[case]
    assert len(want) >= 20
    bad = [i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b]
    missing = ""
    if precision == "int8" and INT8_FAMILY not in int8_references(variant):
        missing = (
            f" (no int8 reference for this CPU's family {INT8_FAMILY}: compared with "
            f"{GOLDEN['int8_default_isa']}; add it with tools/make_m2m100_fixture.py "
            "--int8-reference)"
        )
    assert not bad, (
        f"{len(bad)} of {len(want)} differ, first #{bad[0]}: {got[bad[0]]} != {want[bad[0]]}"
        + missing
    )
    for h in hyps:
        assert len(h.token_logprobs) == len(h.token_ids)
        assert h.token_logprobs[0] == 0.0  # the forced language token
        assert all(np.isfinite(h.token_logprobs))


ORACLES = [(variant, "fp32", None) for variant in ("m2m100", "nllb")] + [
    (variant, "int8", family)
    for variant in ("m2m100", "nllb")
    for family in int8_references(variant)
]


@pytest.mark.parametrize(("variant", "precision", "family"), ORACLES)
def test_fixture_is_a_meaningful_oracle(variant: str, precision: str, family: str | None) -> None:
    data = VARIANTS[variant]
    golden = data["fp32"] if family is None else int8_references(variant)[family]
    greedy = golden["greedy"]
    for row, item in zip(greedy, data["inputs"], strict=True):
        assert row[0] == 2 and row[1] == item["target_lang_id"]
        assert row[-1] == 2 and len(row) > 3, "greedy output must end in EOS"
    assert len({tuple(r[2:]) for r in greedy}) == len(greedy), "outputs must depend on the source"
    for case in CASES:
        if case.startswith("beam"):
            differ = sum(a != b for a, b in zip(golden[case], greedy, strict=True))
            assert differ >= 3, f"beam ({case}) never differs from greedy"
    # the model learnt to copy: training sentences come back verbatim in fp32
    if precision == "fp32":
        texts = data["fp32_text"]["greedy"]
        assert sum(t == x["text"] for t, x in zip(texts, data["inputs"], strict=True)) >= 12
    # some beam hypotheses end at max_length without EOS: that rule is exercised too
    assert any(
        len(r) == data["max_length"] and r[-1] != 2
        for c in CASES
        for r in VARIANTS["m2m100"]["fp32"][c]
    )


def test_translate_end_to_end_matches_reference_text() -> None:
    translator = M2M100OnnxTranslator(FIXTURE / "m2m100", num_beams=1, max_length=40)
    assert isinstance(translator, Translator)
    translator.warm_up()
    data = VARIANTS["m2m100"]
    pairs: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(data["inputs"]):
        pairs.setdefault((item["source_lang"], item["target_lang"]), []).append(i)
    checked = 0
    for (src, tgt), idx in pairs.items():
        results = translator.translate([data["inputs"][i]["text"] for i in idx], src, tgt)
        assert len(results) == len(idx)
        for i, result in zip(idx, results, strict=True):
            assert result.text == data["fp32_text"]["greedy"][i]
            assert [2, *result.token_ids] == data["fp32"]["greedy"][i]
            assert (result.source_lang, result.target_lang) == (src, tgt)
            assert result.model == translator.name == "m2m100:m2m100"
            metrics = result.quality_metrics
            assert -20.0 < metrics["mean_token_logprob"] < 0.0
            assert metrics["length_ratio"] > 0.0
            assert metrics["reached_eos"] == 1.0
            assert result.timings.encode_s > 0.0 and result.timings.decode_s > 0.0
            checked += 1
    assert checked == len(data["inputs"])


def test_translate_accepts_nllb_and_whisper_codes_and_keeps_order() -> None:
    translator = M2M100OnnxTranslator(FIXTURE / "nllb", num_beams=2, max_length=40)
    texts = ["der hund läuft im park", "", "wo ist der bahnhof", "   "]
    by_whisper = translator.translate(texts, "de", "en")
    by_nllb = translator.translate(texts, "deu_Latn", "eng_Latn")
    assert [r.text for r in by_whisper] == [r.text for r in by_nllb]
    assert by_whisper[0].text == "der hund läuft im park"
    assert by_whisper[2].text == "wo ist der bahnhof"
    assert by_whisper[1].text == "" and by_whisper[3].text == ""
    assert by_whisper[0].target_lang == "en" and by_nllb[0].source_lang == "de"
    # a copy model: the well-trained sentences come back with a length ratio of one
    assert by_whisper[0].quality_metrics["length_ratio"] == pytest.approx(1.0)


def test_good_translations_score_higher_than_garbage() -> None:
    translator = M2M100OnnxTranslator(FIXTURE / "m2m100", num_beams=1, max_length=40)
    seen, unseen = translator.translate(["the cat sits on the mat", "xyz qqq zzq"], "en", "de")
    assert seen.quality_metrics["mean_token_logprob"] > unseen.quality_metrics["mean_token_logprob"]


class _Recorder:
    """Wraps an onnxruntime session and records what each call is fed."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.calls: list[dict[str, Any]] = []

    def get_inputs(self):
        return self.session.get_inputs()

    def get_outputs(self):
        return self.session.get_outputs()

    def run(self, names, feeds):
        past = [v.shape[2] for k, v in feeds.items() if ".decoder." in k]
        self.calls.append(
            {
                "input_ids": feeds["input_ids"].copy(),
                "past": past[0] if past else None,
                "branch": bool(feeds["use_cache_branch"][0])
                if "use_cache_branch" in feeds
                else None,
            }
        )
        return self.session.run(names, feeds)


@pytest.mark.parametrize("layout", ["merged", "split"])
@pytest.mark.parametrize("beams", [1, 3])
def test_decoder_receives_only_the_new_token_after_the_first_step(layout: str, beams: int) -> None:
    model = M2M100OnnxModel(FIXTURE / "m2m100", quantized=False, decoder_layout=layout)
    dec = model.decoder
    calls: list[dict[str, Any]]
    if layout == "merged":
        dec.merged = _Recorder(dec.merged)
        calls = dec.merged.calls
        first_calls = with_past_calls = calls
    else:
        dec.first, dec.with_past = _Recorder(dec.first), _Recorder(dec.with_past)
        first_calls, with_past_calls = dec.first.calls, dec.with_past.calls
    item = VARIANTS["m2m100"]["inputs"][0]
    settings = replace(model.settings, num_beams=beams, max_length=40)
    hyp = model.generate([item["input_ids"]], [item["target_lang_id"]], settings)[0]
    if layout == "merged":
        first, later = calls[0], calls[1:]
        assert first["branch"] is False and first["past"] == 0
        assert all(c["branch"] is True for c in later)
    else:
        assert len(first_calls) == 1
        first, later = first_calls[0], with_past_calls
        assert first["past"] is None
    assert first["input_ids"].shape == (beams, 1) and (first["input_ids"] == 2).all()
    assert len(later) >= len(hyp.token_ids) - 1 >= 5
    for step, call in enumerate(later, start=1):
        assert call["input_ids"].shape == (beams, 1), "only the newest token is fed"
        assert call["past"] == step, "past key/values grow by one per step"
    if beams == 1:
        fed = [int(c["input_ids"][0, 0]) for c in later]
        assert fed == list(hyp.token_ids[:-1])


@pytest.mark.parametrize("case", ["greedy", "beam4"])
def test_no_cache_path_gives_the_same_tokens(case: str) -> None:
    """The benchmark's no-cache baseline does the same work: same output, more compute."""
    model = M2M100OnnxModel(FIXTURE / "m2m100", quantized=False, decoder_layout="split")
    got, _ = run_case(model, "m2m100", "fp32", case, use_cache=False)
    assert got == VARIANTS["m2m100"]["fp32"][case]


def test_lengths_are_capped_by_max_position_embeddings() -> None:
    translator = M2M100OnnxTranslator(FIXTURE / "m2m100", num_beams=2, max_length=500)
    limit = translator.model.max_positions
    assert limit == 64
    long_text = " ".join(["the cat sits on the mat"] * 40)
    assert len(translator.tokenizer.encode(long_text, "en")) > limit
    assert len(translator.tokenizer.encode(long_text, "en", limit)) == limit
    (result,) = translator.translate([long_text], "en", "de")
    assert 1 < len(result.token_ids) <= limit - 1
    assert result.text.startswith("the cat")


@pytest.mark.parametrize("case", ["greedy", "beam4"])
def test_loop_guard_only_cuts_long_outputs(case: str) -> None:
    """max_length_ratio caps each sentence at ceil(ratio * source) + 10 tokens; shorter outputs
    stay exactly the reference's, longer ones are its prefix (greedy)."""
    model = load("m2m100", "fp32", "merged")
    data = VARIANTS["m2m100"]
    settings = replace(settings_for(model, "m2m100", case), max_length_ratio=0.5)
    batch = [x["input_ids"] for x in data["inputs"]]
    hyps = model.generate(batch, [x["target_lang_id"] for x in data["inputs"]], settings)
    cut = 0
    for ids, hyp, want in zip(batch, hyps, data["fp32"][case], strict=True):
        limit = min(data["max_length"], -(-len(ids) // 2) + 10)
        got = [2, *hyp.token_ids]
        assert len(got) <= limit
        if len(want) <= limit and case == "greedy":
            assert got == want
        elif case == "greedy":
            assert got == want[:limit]
            cut += 1
    assert case != "greedy" or cut >= 1


# ---------------------------------------------------------------------------- bad input


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    target = tmp_path / "m2m100-copy"
    shutil.copytree(FIXTURE / "m2m100", target)
    return target


def test_missing_tokenizer_file_is_a_clear_error(model_copy: Path) -> None:
    (model_copy / "sentencepiece.bpe.model").unlink()
    with pytest.raises(
        ModelError, match=r"missing its tokenizer file sentencepiece\.bpe\.model"
    ) as err:
        M2M100OnnxTranslator(model_copy)
    assert str(model_copy) in str(err.value)


def test_missing_vocab_json_is_a_clear_error(model_copy: Path) -> None:
    (model_copy / "vocab.json").unlink()
    with pytest.raises(ModelError, match=r"missing its tokenizer file vocab\.json"):
        M2M100OnnxTranslator(model_copy)


def test_corrupt_tokenizer_file_is_a_clear_error(model_copy: Path) -> None:
    (model_copy / "sentencepiece.bpe.model").write_bytes(b"not a sentencepiece model")
    with pytest.raises(ModelError, match=r"sentencepiece\.bpe\.model is corrupt"):
        M2M100OnnxTranslator(model_copy)


def test_truncated_onnx_file_is_a_clear_error(model_copy: Path) -> None:
    path = model_copy / "encoder_model.onnx"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match=r"encoder_model\.onnx is corrupt or incomplete") as err:
        M2M100OnnxTranslator(model_copy, quantized=False)
    assert str(model_copy) in str(err.value)
    assert "Re-download" in str(err.value)


def test_missing_decoder_is_a_clear_error(model_copy: Path) -> None:
    (model_copy / "decoder_model_merged.onnx").unlink()
    (model_copy / "decoder_with_past_model.onnx").unlink()
    with pytest.raises(ModelError, match=r"lacks a decoder.*decoder_with_past_model\.onnx"):
        M2M100OnnxTranslator(model_copy, quantized=False)


def test_unimplemented_generation_setting_is_refused(model_copy: Path) -> None:
    config = json.loads((model_copy / "generation_config.json").read_text())
    config["repetition_penalty"] = 1.3
    (model_copy / "generation_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="repetition_penalty=1.3"):
        M2M100OnnxTranslator(model_copy)


def test_wrong_backend_for_the_model_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match="is an NLLB model.*choose the nllb translator"):
        M2M100OnnxTranslator(FIXTURE / "nllb", kind="m2m100")


def test_unsupported_pair_is_a_clear_error() -> None:
    translator = M2M100OnnxTranslator(FIXTURE / "m2m100", max_length=40)
    with pytest.raises(ConfigError, match="M2M100 does not know Latin"):
        translator.translate(["salve"], "la", "en")
    with pytest.raises(ConfigError, match="Unknown language code 'klingon'"):
        translator.translate(["hello"], "en", "klingon")


def test_factory_builds_local_translators_and_refuses_whisper(tmp_path: Path) -> None:
    options = TranslationOptions(
        target_lang="de", backend="m2m100", model=str(FIXTURE / "m2m100"), max_length=40
    )
    translator = create_translator(options)
    assert isinstance(translator, M2M100OnnxTranslator)
    assert translator.translate(["the cat sits on the mat"], "en", "de")[0].text == (
        "the cat sits on the mat"
    )
    nllb = create_translator(replace(options, backend="nllb"), FIXTURE / "nllb")
    assert nllb.name.startswith("nllb:")
    with pytest.raises(ModelError, match="NLLB model"):
        create_translator(options, FIXTURE / "nllb")
    with pytest.raises(ConfigError, match="Whisper's own X->English"):
        create_translator(replace(options, backend="whisper"))
    with pytest.raises(ConfigError, match="Unknown translator 'marian'"):
        create_translator(replace(options, backend="marian"))
    with pytest.raises(ModelError, match="does not exist"):
        M2M100OnnxTranslator(tmp_path / "nowhere")
    # the default model goes through the model store; never downloaded implicitly
    with pytest.raises(ModelError, match="'m2m100-418m-ct2-int8' is not installed"):
        create_translator(TranslationOptions(target_lang="de", backend="m2m100"))
