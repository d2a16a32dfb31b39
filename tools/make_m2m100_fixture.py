"""Regenerate the tiny M2M100 / NLLB parity fixture in tests/fixtures/m2m100/ (dev only).

Needs torch==2.13.0, transformers 4.57.x, optimum-onnx 0.1.0, onnx, onnxruntime, sentencepiece,
onnxscript (one venv: transformers<4.58 also avoids the 5.x NLLB tokenizer traps):

    python -m venv /work/venvs/m2m100
    /work/venvs/m2m100/bin/pip install torch==2.13.0 "transformers==4.57.*" sentencepiece onnx \
        onnxruntime onnxscript "optimum-onnx[onnxruntime]==0.1.0"
    /work/venvs/m2m100/bin/python tools/make_m2m100_fixture.py [m2m100] [nllb]
    /work/venvs/m2m100/bin/python tools/make_m2m100_fixture.py --int8-reference

What it does, for two tokenizer variants ("m2m100": vocab.json ids; "nllb": spm id + 1):
1. trains a sentencepiece BPE model on a few lines (identity normalisation keeps it ~4 KB);
2. builds a tiny M2M100 (d_model=32, 2+2 layers) and trains it a few hundred Adam steps on a copy
   task (target = target-language token + source pieces + EOS), so that outputs end in EOS and
   depend on the source: a random model would be a useless oracle;
3. exports ONNX in the public layout with optimum (encoder_model, decoder_model,
   decoder_with_past_model, decoder_model_merged) and int8 variants (quantize the two decoders,
   then merge; quantize_dynamic on the merged graph quantises nothing);
4. writes golden.json: the reference implementation's (transformers `generate`) greedy and beam
   token ids for every input. fp32 golden comes from the torch model; int8 golden from
   transformers `generate` driving the int8 ONNX sessions (optimum's ORTModelForSeq2SeqLM), since
   int8 is not token-exact against fp32.

Only some ONNX files of each variant are kept (size): between them the two variants cover the
merged and the split decoder layouts in fp32 and int8.

int8 references are per instruction-set family. ONNX Runtime's dynamic int8 kernels multiply
uint8 activations by int8 weights differently per CPU: AVX2 (vpmaddubsw) adds pairs of products
in int16 with saturation, AVX-512 VNNI / AMX-INT8 accumulate exactly in int32 (tests/cpu_isa.py).
On inputs the model never learnt the top logits are close and the int8 outputs of the two
families differ, so one int8 golden cannot hold on every CI machine. Each variant's "int8" is the
reference of the family named by golden["int8_default_isa"] (the machine that built the fixture);
"int8_by_isa"[family] holds the reference of another family. `--int8-reference` adds the
reference of the CPU it runs on, computed by the same reference implementation (transformers
`generate` over optimum's ORTModelForSeq2SeqLM) from the ONNX files already in the fixture, without
retraining or re-exporting anything; on the default family it checks "int8" instead and changes
nothing. The m2m100 variant keeps only the merged int8 decoder, so its reference runs the merged
graph (the split graphs it was merged from hold the same weights and operators).

How the two stored families were checked (onnxruntime 1.32.0): on an AVX-512 VNNI + AMX-INT8 Xeon,
--int8-reference wrote "avx512_vnni" (82 of the 364 int8 outputs differ from "int8") and the
translator matches it everywhere; under `qemu-x86_64 -cpu Haswell` (QEMU 7.2, AVX2 without VNNI)
the translator reproduces every one of the 364 outputs of the default "int8", so that one is the
avx2 family's. Under QEMU 7.2 numpy's AVX2 argpartition/quicksort give wrong answers (an
emulation bug, 12 of 50 random rows): beam search needs a stable-argsort top-k there.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
from transformers import (
    GenerationConfig,
    M2M100Config,
    M2M100ForConditionalGeneration,
    M2M100Tokenizer,
    NllbTokenizer,
)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "fixtures" / "m2m100"
sys.path.insert(0, str(REPO))
from tests.cpu_isa import this_cpu_int8_family  # noqa: E402

SEED = 1234
MAX_POSITIONS = 64  # small on purpose: the translator must cap lengths by it
GOLDEN_MAX_LENGTH = 40

CORPUS = [
    "the cat sits on the mat",
    "a dog runs in the park",
    "we translate speech into text",
    "good morning to everyone here",
    "the weather is cold today",
    "please speak a little slower",
    "where is the train station",
    "thank you for your patience",
    "this meeting starts at nine",
    "my name is anna and i live in berlin",
    "der hund läuft im park",
    "guten morgen an alle hier",
    "das wetter ist heute kalt",
    "bitte sprechen sie etwas langsamer",
    "wo ist der bahnhof",
    "el gato duerme en la casa",
    "buenos días a todos",
    "hace frío hoy en la ciudad",
    "¿dónde está la estación?",
    "gracias por su paciencia",
    "le chat dort sur le canapé",
    "bonjour à tout le monde",
    "il fait froid aujourd'hui",
    "où est la gare ?",
    "merci pour votre patience",
    "o gato dorme na cadeira",
    "bom dia a todos",
    "今天天气很冷",
    "谢谢你的耐心",
    "火车站在哪里",
    "one two three four five",
    "six seven eight nine ten",
    "red green blue yellow",
    "numbers like 42 and 7 are here",
    "Hello, World! How are you?",
    "The Quick Brown Fox Jumps.",
]

# (text, source, target) in Whisper codes; mapped to each variant's own codes below.
INPUTS = [
    ("the cat sits on the mat", "en", "de"),
    ("a dog runs in the park", "en", "fr"),
    ("we translate speech into text", "en", "es"),
    ("good morning to everyone here", "en", "zh"),
    ("the weather is cold today", "en", "pt"),
    ("der hund läuft im park", "de", "en"),
    ("das wetter ist heute kalt", "de", "es"),
    ("wo ist der bahnhof", "de", "fr"),
    ("el gato duerme en la casa", "es", "en"),
    ("¿dónde está la estación?", "es", "de"),
    ("gracias por su paciencia", "es", "ja"),
    ("bonjour à tout le monde", "fr", "en"),
    ("il fait froid aujourd'hui", "fr", "it"),
    ("今天天气很冷", "zh", "en"),
    ("谢谢你的耐心", "zh", "ko"),
    ("one two three four five", "en", "ru"),
    ("Hello, World! How are you?", "en", "de"),
    ("numbers like 42 and 7 are here", "en", "uk"),
    # not seen in training: the model wanders; some never reach EOS before max_length
    ("the dog sleeps in the station", "en", "de"),
    ("bitte danke gracias merci", "de", "en"),
    ("a cat, a dog, a train", "en", "fr"),
    ("la la la la la la la la", "fr", "en"),
    ("wo ist die katze heute", "de", "en"),
    ("seven cats and nine dogs", "en", "es"),
    ("火车 train 火车 tren", "zh", "es"),
    ("xyz qqq", "en", "de"),
]

# Generation settings of the golden cases (transformers semantics).
CASES = {
    "greedy": {"num_beams": 1},
    "beam4": {"num_beams": 4, "early_stopping": False, "length_penalty": 1.0},
    "beam5_early": {"num_beams": 5, "early_stopping": True, "length_penalty": 1.0},
    "beam3_lp2": {"num_beams": 3, "early_stopping": False, "length_penalty": 2.0},
    "greedy_norepeat2": {"num_beams": 1, "no_repeat_ngram_size": 2},
    "greedy_minlen12": {"num_beams": 1, "min_length": 12},
    "beam4_never_forcedeos": {
        "num_beams": 4,
        "early_stopping": "never",
        "length_penalty": 1.0,
        "forced_eos_token_id": 2,
    },
}

M2M_CODES = {
    "en": "en",
    "de": "de",
    "fr": "fr",
    "es": "es",
    "zh": "zh",
    "pt": "pt",
    "ja": "ja",
    "it": "it",
    "ko": "ko",
    "ru": "ru",
    "uk": "uk",
}
NLLB_CODES = {
    "en": "eng_Latn",
    "de": "deu_Latn",
    "fr": "fra_Latn",
    "es": "spa_Latn",
    "zh": "zho_Hans",
    "pt": "por_Latn",
    "ja": "jpn_Jpan",
    "it": "ita_Latn",
    "ko": "kor_Hang",
    "ru": "rus_Cyrl",
    "uk": "ukr_Cyrl",
}

# Which ONNX files each variant keeps (size budget): together they cover both decoder layouts.
KEEP = {
    "m2m100": [
        "encoder_model.onnx",
        "decoder_model.onnx",
        "decoder_with_past_model.onnx",
        "decoder_model_merged.onnx",
        "encoder_model_quantized.onnx",
        "decoder_model_merged_quantized.onnx",
    ],
    "nllb": [
        "encoder_model.onnx",
        "decoder_model_merged.onnx",
        "encoder_model_quantized.onnx",
        "decoder_model_quantized.onnx",
        "decoder_with_past_model_quantized.onnx",
    ],
}


def train_spm(workdir: Path) -> Path:
    prefix = workdir / "spm"
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 3),
        model_prefix=str(prefix),
        vocab_size=150,
        model_type="bpe",
        character_coverage=1.0,
        normalization_rule_name="identity",
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        minloglevel=2,
    )
    return prefix.with_suffix(".model")


def write_m2m100_tokenizer(spm_file: Path, out: Path) -> M2M100Tokenizer:
    """vocab.json holds the pieces in an order unrelated to the spm ids (as the real one does),
    and lacks one piece, so that a tokenizer using spm ids or missing the unk rule fails."""
    sp = spm.SentencePieceProcessor(model_file=str(spm_file))
    pieces = [sp.id_to_piece(i) for i in range(3, sp.get_piece_size())]
    rng = random.Random(SEED)
    rng.shuffle(pieces)
    dropped = "耐"
    assert dropped in pieces, "expected piece missing from the sentencepiece model"
    pieces.remove(dropped)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece in pieces:
        vocab[piece] = len(vocab)
    tmp = out / "_tok"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1))
    shutil.copy(spm_file, tmp / "sentencepiece.bpe.model")
    tok = M2M100Tokenizer(str(tmp / "vocab.json"), str(tmp / "sentencepiece.bpe.model"))
    tok.save_pretrained(str(out))
    shutil.rmtree(tmp)
    return M2M100Tokenizer.from_pretrained(str(out))


def write_nllb_tokenizer(spm_file: Path, out: Path) -> NllbTokenizer:
    """Ids as in the real NLLB files: languages right after the pieces, <mask> last (built from
    scratch, transformers 4.57 would put <mask> first and shift every language id by one)."""
    from transformers import AddedToken
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    sp_size = spm.SentencePieceProcessor(model_file=str(spm_file)).get_piece_size()
    decoder = {
        0: AddedToken("<s>", normalized=False, special=True),
        1: AddedToken("<pad>", normalized=False, special=True),
        2: AddedToken("</s>", normalized=False, special=True),
        3: AddedToken("<unk>", normalized=False, special=True),
    }
    for i, code in enumerate(FAIRSEQ_LANGUAGE_CODES):
        decoder[sp_size + 1 + i] = AddedToken(code, normalized=False, special=True)
    decoder[sp_size + 1 + len(FAIRSEQ_LANGUAGE_CODES)] = AddedToken(
        "<mask>", normalized=True, lstrip=True, special=True
    )
    tok = NllbTokenizer(str(spm_file), added_tokens_decoder=decoder)
    assert tok.convert_tokens_to_ids("ace_Arab") == sp_size + 1, "unexpected NLLB language ids"
    assert tok.convert_tokens_to_ids("<mask>") == sp_size + 1 + len(FAIRSEQ_LANGUAGE_CODES)
    tok.save_pretrained(str(out))
    if not (out / "sentencepiece.bpe.model").exists():  # 5.x omits it; keep the layout whole
        shutil.copy(spm_file, out / "sentencepiece.bpe.model")
    tok = NllbTokenizer.from_pretrained(str(out))
    assert tok.convert_tokens_to_ids("eng_Latn") == sp_size + 1 + FAIRSEQ_LANGUAGE_CODES.index(
        "eng_Latn"
    )
    return tok


def lang_id(tok, variant: str, code: str) -> int:
    if variant == "m2m100":
        return tok.get_lang_id(code)
    return tok.convert_tokens_to_ids(code)


def encode(tok, variant: str, text: str, src: str) -> list[int]:
    tok.src_lang = src
    ids = tok(text)["input_ids"]
    assert ids[0] == lang_id(tok, variant, src) and ids[-1] == 2, ids
    return ids


def make_batch(examples: list[tuple[list[int], list[int]]]) -> dict[str, torch.Tensor]:
    src_len = max(len(s) for s, _ in examples)
    tgt_len = max(len(t) for _, t in examples)
    input_ids = torch.full((len(examples), src_len), 1, dtype=torch.long)
    mask = torch.zeros((len(examples), src_len), dtype=torch.long)
    labels = torch.full((len(examples), tgt_len), -100, dtype=torch.long)
    for i, (s, t) in enumerate(examples):
        input_ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
        labels[i, : len(t)] = torch.tensor(t)
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def build_and_train(tok, variant: str, vocab_size: int) -> M2M100ForConditionalGeneration:
    config = M2M100Config(
        vocab_size=vocab_size,
        max_position_embeddings=MAX_POSITIONS,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        encoder_layerdrop=0.0,
        decoder_layerdrop=0.0,
        scale_embedding=True,
    )
    torch.manual_seed(SEED)
    model = M2M100ForConditionalGeneration(config)
    codes = M2M_CODES if variant == "m2m100" else NLLB_CODES
    langs = list(codes.values())
    examples = []
    for text in CORPUS:
        src = encode(tok, variant, text, langs[0])
        pieces = src[1:-1]
        for code in langs:
            for tgt in langs:
                examples.append(
                    (
                        [lang_id(tok, variant, code)] + pieces + [2],
                        [lang_id(tok, variant, tgt)] + pieces + [2],
                    )
                )
    rng = random.Random(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    start = time.time()
    for step in range(400):
        batch = make_batch(rng.sample(examples, 32))
        loss = model(**batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == 399:
            print(f"  [{variant}] step {step} loss {loss.item():.3f}", flush=True)
    print(f"  [{variant}] trained in {time.time() - start:.1f} s")
    model.eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=2,
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=1,
        max_length=GOLDEN_MAX_LENGTH,
    )
    return model


def export(model_dir: Path, onnx_dir: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from optimum.exporters.onnx import main_export
    from optimum.onnx import merge_decoders

    main_export(
        str(model_dir), output=str(onnx_dir), task="text2text-generation-with-past", opset=18
    )
    for name in ("encoder_model", "decoder_model", "decoder_with_past_model"):
        quantize_dynamic(
            onnx_dir / f"{name}.onnx",
            onnx_dir / f"{name}_quantized.onnx",
            weight_type=QuantType.QInt8,
        )
    merge_decoders(
        onnx_dir / "decoder_model_quantized.onnx",
        onnx_dir / "decoder_with_past_model_quantized.onnx",
        save_path=str(onnx_dir / "decoder_model_merged_quantized.onnx"),
        strict=False,
    )


def golden_ids(generate, tok, variant: str) -> dict:
    codes = M2M_CODES if variant == "m2m100" else NLLB_CODES
    out: dict = {}
    for case, settings in CASES.items():
        rows = []
        for text, src, tgt in INPUTS:
            ids = encode(tok, variant, text, codes[src])
            seq = generate(ids, lang_id(tok, variant, codes[tgt]), settings)
            rows.append(seq)
        out[case] = rows
    return out


def torch_generate(model):
    def run(ids: list[int], forced: int, settings: dict) -> list[int]:
        with torch.no_grad():
            seq = model.generate(
                input_ids=torch.tensor([ids]),
                attention_mask=torch.ones((1, len(ids)), dtype=torch.long),
                forced_bos_token_id=forced,
                max_length=GOLDEN_MAX_LENGTH,
                do_sample=False,
                **settings,
            )
        return seq[0].tolist()

    return run


def ort_generate(onnx_dir: Path, quantized: bool):
    from optimum.onnxruntime import ORTModelForSeq2SeqLM

    suffix = "_quantized" if quantized else ""
    model = ORTModelForSeq2SeqLM.from_pretrained(
        str(onnx_dir),
        encoder_file_name=f"encoder_model{suffix}.onnx",
        decoder_file_name=f"decoder_model{suffix}.onnx",
        decoder_with_past_file_name=f"decoder_with_past_model{suffix}.onnx",
        use_merged=False,
        use_cache=True,
    )
    return torch_generate(model)


def stored_int8_generate(variant: str):
    """optimum's ORTModelForSeq2SeqLM over the int8 ONNX files kept in the fixture.

    The int8 files are copied alone into a scratch folder. Given the fixture folder, optimum
    would also load the fp32 decoder_with_past_model.onnx it finds there by its default name
    (it does so whenever decoder_file_name is passed, even with use_merged=True) and run every
    step after the first in fp32. The merged int8 decoder is therefore copied under optimum's
    standard merged name and found by it."""
    from optimum.onnxruntime import ORTModelForSeq2SeqLM

    vdir = OUT / variant
    scratch = tempfile.TemporaryDirectory()
    if (vdir / "decoder_with_past_model_quantized.onnx").exists():
        copies = {
            "encoder_model_quantized.onnx": "encoder_model_quantized.onnx",
            "decoder_model_quantized.onnx": "decoder_model_quantized.onnx",
            "decoder_with_past_model_quantized.onnx": "decoder_with_past_model_quantized.onnx",
        }
        files = {
            "decoder_file_name": "decoder_model_quantized.onnx",
            "decoder_with_past_file_name": "decoder_with_past_model_quantized.onnx",
            "use_merged": False,
        }
    else:
        copies = {
            "encoder_model_quantized.onnx": "encoder_model_quantized.onnx",
            "decoder_model_merged.onnx": "decoder_model_merged_quantized.onnx",
        }
        files = {"use_merged": True}
    for name, source in {
        **copies,
        "config.json": "config.json",
        "generation_config.json": "generation_config.json",
    }.items():
        shutil.copy(vdir / source, Path(scratch.name) / name)
    model = ORTModelForSeq2SeqLM.from_pretrained(
        scratch.name, encoder_file_name="encoder_model_quantized.onnx", use_cache=True, **files
    )
    parts = [model.encoder, model.decoder, model.decoder_with_past]
    sessions = {Path(p.session._model_path).name for p in parts if p is not None}
    assert sessions == set(copies), f"optimum runs {sessions}, expected {set(copies)}"
    generate = torch_generate(model)

    def run(ids: list[int], forced: int, settings: dict) -> list[int]:
        assert Path(scratch.name).is_dir()  # keeps the scratch folder until the reference is done
        return generate(ids, forced, settings)

    return run


def golden_from_inputs(generate, data: dict) -> dict:
    """Reference token ids for the stored inputs (no tokenizer needed: their ids are stored)."""
    return {
        case: [
            strip_pad(generate(x["input_ids"], x["target_lang_id"], settings))
            for x in data["inputs"]
        ]
        for case, settings in CASES.items()
    }


def write_int8_reference() -> None:
    """Add (or check) this CPU family's int8 reference for the fixture as it is."""
    torch.set_num_threads(2)
    golden_file = OUT / "golden.json"
    golden = json.loads(golden_file.read_text(encoding="utf-8"))
    family = this_cpu_int8_family()
    default = golden["int8_default_isa"]
    print(f"int8 kernel family of this CPU: {family} (fixture default: {default})")
    differ = 0
    for variant, data in golden["variants"].items():
        start = time.time()
        rows = golden_from_inputs(stored_int8_generate(variant), data)
        for case in CASES:
            n = sum(a != b for a, b in zip(rows[case], data["int8"][case], strict=True))
            differ += n
            print(f"  [{variant}] {case}: {n}/{len(rows[case])} differ from the default int8")
        print(f"  [{variant}] reference in {time.time() - start:.1f} s")
        if family != default:
            data.setdefault("int8_by_isa", {})[family] = rows
    if family == default:
        if differ:
            sys.exit("this CPU is the default family but its int8 outputs differ: not written")
        print("the default int8 reference holds on this CPU; nothing written")
        return
    golden.setdefault("int8_by_isa_versions", {})[family] = {
        "transformers": __import__("transformers").__version__,
        "optimum-onnx": __import__("importlib.metadata").metadata.version("optimum-onnx"),
        "onnxruntime": __import__("onnxruntime").__version__,
    }
    golden_file.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote the {family} int8 reference into {golden_file}")


def strip_pad(seq: list[int]) -> list[int]:
    """Generated sequences of one input are never padded, but be explicit: cut after EOS."""
    if 2 in seq[1:]:
        return seq[: seq.index(2, 1) + 1]
    return seq


def build_variant(variant: str, spm_file: Path, work: Path) -> dict:
    print(f"== {variant}")
    vdir = OUT / variant
    if vdir.exists():
        shutil.rmtree(vdir)
    hf_dir = work / f"{variant}_hf"
    hf_dir.mkdir()
    if variant == "m2m100":
        tok = write_m2m100_tokenizer(spm_file, hf_dir)
        vocab_size = len(tok.encoder) + 100 + 8  # pieces, languages, made-up words
    else:
        tok = write_nllb_tokenizer(spm_file, hf_dir)
        vocab_size = len(tok.sp_model) + 1 + 202 + 1  # pieces, languages, <mask>
    model = build_and_train(tok, variant, vocab_size)
    model.save_pretrained(str(hf_dir))
    onnx_dir = work / f"{variant}_onnx"
    export(hf_dir, onnx_dir)

    fp32 = {
        k: [strip_pad(s) for s in v]
        for k, v in golden_ids(torch_generate(model), tok, variant).items()
    }
    fp32_ort = golden_ids(ort_generate(onnx_dir, False), tok, variant)
    int8 = golden_ids(ort_generate(onnx_dir, True), tok, variant)
    for case in CASES:
        same = sum(a == strip_pad(b) for a, b in zip(fp32[case], fp32_ort[case], strict=True))
        same8 = sum(a == strip_pad(b) for a, b in zip(fp32[case], int8[case], strict=True))
        print(
            f"  {case}: onnx fp32 == torch on {same}/{len(INPUTS)}; int8 == fp32 on "
            f"{same8}/{len(INPUTS)}"
        )
        if same != len(INPUTS):
            sys.exit(f"ONNX fp32 export disagrees with torch on {case}; refusing to write")

    vdir.mkdir(parents=True)
    for name in KEEP[variant]:
        shutil.copy(onnx_dir / name, vdir / name)
    for name in (
        "config.json",
        "generation_config.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "sentencepiece.bpe.model",
        "vocab.json",
        "added_tokens.json",
    ):
        if (onnx_dir / name).exists():
            shutil.copy(onnx_dir / name, vdir / name)
        elif (hf_dir / name).exists():
            shutil.copy(hf_dir / name, vdir / name)

    codes = M2M_CODES if variant == "m2m100" else NLLB_CODES
    inputs = []
    for text, src, tgt in INPUTS:
        ids = encode(tok, variant, text, codes[src])
        inputs.append(
            {
                "text": text,
                "source_lang": src,
                "target_lang": tgt,
                "source_code": codes[src],
                "target_code": codes[tgt],
                "input_ids": ids,
                "target_lang_id": lang_id(tok, variant, codes[tgt]),
            }
        )
    decoded = {
        case: [
            tok.decode([t for t in s if 3 < t < tok_content_size(tok, variant)]) for s in fp32[case]
        ]
        for case in CASES
    }
    return {
        "inputs": inputs,
        "cases": CASES,
        "max_length": GOLDEN_MAX_LENGTH,
        "fp32": fp32,
        "fp32_text": decoded,
        "int8": {k: [strip_pad(s) for s in v] for k, v in int8.items()},
    }


def tok_content_size(tok, variant: str) -> int:
    return len(tok.encoder) if variant == "m2m100" else len(tok.sp_model) + 1


def main() -> None:
    torch.set_num_threads(2)
    np.random.seed(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    golden = {
        "generator": "tools/make_m2m100_fixture.py",
        "note": "token ids include the decoder start token (2); fp32 from transformers+torch, "
        "int8 from transformers generate over the int8 ONNX sessions",
        "versions": {
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
            "onnxruntime": __import__("onnxruntime").__version__,
        },
        # "int8" of each variant holds for this family; other families: --int8-reference
        "int8_default_isa": this_cpu_int8_family(),
        "variants": {},
    }
    variants = sys.argv[1:] or ["m2m100", "nllb"]
    golden_file = OUT / "golden.json"
    if golden_file.exists() and variants != ["m2m100", "nllb"]:
        old = json.loads(golden_file.read_text())
        if old["int8_default_isa"] != golden["int8_default_isa"]:
            sys.exit(
                f"the fixture's int8 default is {old['int8_default_isa']}, this CPU is "
                f"{golden['int8_default_isa']}: rebuild both variants (then --int8-reference on "
                "the other family)"
            )
        golden["variants"] = old["variants"]
        golden["int8_by_isa_versions"] = old.get("int8_by_isa_versions", {})
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        spm_file = train_spm(work)
        for variant in variants:
            golden["variants"][variant] = build_variant(variant, spm_file, work)
    (OUT / "golden.json").write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--int8-reference"]:
        write_int8_reference()
    else:
        main()
