"""Convert the tiny M2M100 / NLLB parity fixture to CTranslate2 (dev only).

Writes tests/fixtures/m2m100/ct2/{m2m100,nllb}/ from the committed ONNX fixture
(tests/fixtures/m2m100/{m2m100,nllb}, made by tools/make_m2m100_fixture.py), with CTranslate2's
own converter (`ctranslate2.converters.TransformersConverter`). Needs the `dev` extra:

    pip install torch==2.13.0 transformers onnx   # plus the runtime deps (ctranslate2)
    python tools/make_ct2_fixture.py [m2m100] [nllb]

The trained torch checkpoint is not committed (only its ONNX export is), so:
1. the transformers model is rebuilt from config.json and the fp32 ONNX weights (MatMul weights
   are the transposed Linear weights; the node names give the module path);
2. that model must reproduce every committed fp32 golden sequence with transformers' `generate`
   (greedy and every beam case): the rebuilt weights are then the trained ones, exactly;
3. it is saved with its tokenizer files and converted by CTranslate2's converter (float32, the
   runtime quantises to int8 on load with compute_type="int8");
4. the converted vocabulary must map every id to the piece our tokenizer gives that id.

The sentencepiece model and tokenizer files are copied beside model.bin (the layout of the public
CTranslate2 exports), so the runtime tokenises without transformers.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from transformers import M2M100Config, M2M100ForConditionalGeneration

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.translate.m2m100_tokenizer import M2M100Tokenizer  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "m2m100"
OUT = FIXTURE / "ct2"
TOKENIZER_FILES = (
    "sentencepiece.bpe.model",
    "vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "generation_config.json",
)
_MATMUL = re.compile(
    r"(?:^|/)(?:model/)?(encoder|decoder)?/?(layers\.\d+/(?:self_attn|encoder_attn)/"
    r"(?:q|k|v|out)_proj|layers\.\d+/fc[12])/MatMul$"
)


def _initializers(graph: onnx.GraphProto) -> list[tuple[onnx.TensorProto, list[str]]]:
    """Every initializer of the graph and its subgraphs, with the names of its consumers."""
    consumers: dict[str, list[str]] = {}
    found: list[tuple[onnx.TensorProto, list[str]]] = []

    def walk(g: onnx.GraphProto) -> None:
        for node in g.node:
            for name in node.input:
                consumers.setdefault(name, []).append(node.name)
            for attr in node.attribute:
                if attr.g is not None and attr.g.node:
                    walk(attr.g)
        found.extend((init, []) for init in g.initializer)

    walk(graph)
    return [(init, consumers.get(init.name, [])) for init, _ in found]


def state_dict_from_onnx(files: list[Path]) -> dict[str, np.ndarray]:
    """Parameter name -> array, from the encoder and decoder graphs of the export."""
    state: dict[str, np.ndarray] = {}
    for path in files:
        side = "encoder" if path.name.startswith("encoder") else "decoder"
        model = onnx.load(str(path))
        for init, users in _initializers(model.graph):
            value = numpy_helper.to_array(init)
            name = re.sub(r"_merged_\d+$", "", init.name)  # the merged decoder's renaming
            if name.startswith("onnx::MatMul") or name.startswith("onnx__MatMul"):
                for user in users:
                    if user.endswith("lm_head/MatMul"):
                        state["lm_head.weight"] = value.T
                        break
                    match = _MATMUL.search(user)
                    if match:
                        module = match.group(2).replace("/", ".")
                        state[f"model.{side}.{module}.weight"] = value.T
                        break
                continue
            if value.ndim == 0 or not re.match(r"^[a-z_]", name):
                continue
            if name == "embed_tokens.weight" or name.endswith("shared.weight"):
                state.setdefault("model.shared.weight", value)
                continue
            if not name.startswith("model."):
                name = f"model.{side}.{name}"
            state[name] = value
    return state


def rebuild(variant_dir: Path) -> M2M100ForConditionalGeneration:
    config = M2M100Config.from_pretrained(str(variant_dir))
    model = M2M100ForConditionalGeneration(config).eval()
    decoders = [
        variant_dir / n
        for n in ("decoder_model.onnx", "decoder_model_merged.onnx")
        if (variant_dir / n).is_file()
    ]
    state = state_dict_from_onnx([variant_dir / "encoder_model.onnx", decoders[0]])
    if "lm_head.weight" not in state:
        state["lm_head.weight"] = state["model.shared.weight"]
    state["model.encoder.embed_tokens.weight"] = state["model.shared.weight"]
    state["model.decoder.embed_tokens.weight"] = state["model.shared.weight"]
    own = model.state_dict()
    missing = [k for k in own if k not in state and "embed_positions" not in k]
    if missing:
        sys.exit(f"{variant_dir.name}: weights not found in the ONNX export: {missing}")
    with torch.no_grad():
        for key, value in state.items():
            if key not in own:
                sys.exit(f"{variant_dir.name}: unexpected ONNX weight {key}")
            if tuple(own[key].shape) != value.shape:
                sys.exit(f"{variant_dir.name}: {key} has shape {value.shape}, not {own[key].shape}")
            own[key].copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return model


def check_against_golden(model: M2M100ForConditionalGeneration, data: dict) -> None:
    """transformers' generate on the rebuilt model must give every committed fp32 sequence."""
    for case, settings in data["cases"].items():
        for item, want in zip(data["inputs"], data["fp32"][case], strict=True):
            ids = item["input_ids"]
            with torch.no_grad():
                seq = model.generate(
                    input_ids=torch.tensor([ids]),
                    attention_mask=torch.ones((1, len(ids)), dtype=torch.long),
                    forced_bos_token_id=item["target_lang_id"],
                    max_length=data["max_length"],
                    do_sample=False,
                    **settings,
                )[0].tolist()
            if 2 in seq[1:]:
                seq = seq[: seq.index(2, 1) + 1]
            if seq != want:
                sys.exit(f"rebuilt model differs from the golden {case}: {seq} != {want}")
        print(f"  rebuilt model == golden fp32 on {case} ({len(data['inputs'])} inputs)")


def check_vocabulary(out: Path, variant_dir: Path) -> None:
    """Every id of the converted vocabulary must name the piece our tokenizer gives that id."""
    tok = M2M100Tokenizer(variant_dir)
    vocab = json.loads((out / "shared_vocabulary.json").read_text(encoding="utf-8"))
    for token_id, token in enumerate(vocab):
        piece = tok.id_to_piece(token_id)
        if piece is not None and piece != token:
            sys.exit(f"converted vocabulary: id {token_id} is {token!r}, tokenizer says {piece!r}")
    for code, token_id in tok.lang_to_id.items():
        if vocab[token_id] != tok.lang_token(code):
            sys.exit(f"converted vocabulary: id {token_id} is {vocab[token_id]!r}, not {code}")
    print(f"  vocabulary: {len(vocab)} tokens agree with the tokenizer")


def reference_vocabulary(variant_dir: Path, size: int) -> list[str]:
    """Token of every id, in the layout the reference tokenizer (transformers 4.57) uses."""
    tok = M2M100Tokenizer(variant_dir)
    by_lang = {i: tok.lang_token(c) for c, i in tok.lang_to_id.items()}
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    tokens: list[str] = []
    extra = 0
    for token_id in range(size):
        if token_id < len(specials):
            tokens.append(specials[token_id])
        elif (piece := tok.id_to_piece(token_id)) is not None:
            tokens.append(piece)
        elif token_id in by_lang:
            tokens.append(by_lang[token_id])
        elif tok.kind == "nllb":
            tokens.append("<mask>")
        else:
            tokens.append(f"madeupword{extra}")
            extra += 1
    return tokens


def convert(variant: str, golden: dict, work: Path) -> None:
    import ctranslate2
    from ctranslate2.converters import TransformersConverter
    from ctranslate2.converters import transformers as ct2_transformers

    print(f"== {variant}")
    variant_dir = FIXTURE / variant
    model = rebuild(variant_dir)
    check_against_golden(model, golden["variants"][variant])
    hf_dir = work / variant
    model.save_pretrained(str(hf_dir))
    for name in TOKENIZER_FILES:
        if (variant_dir / name).is_file():
            shutil.copy(variant_dir / name, hf_dir / name)
    out = OUT / variant
    if out.exists():
        shutil.rmtree(out)
    # transformers 5.x's M2M100Tokenizer.get_vocab() omits the language tokens, which the
    # converter's vocabulary is read from: give it the reference layout instead.
    vocabulary = reference_vocabulary(variant_dir, model.config.vocab_size)
    loader = ct2_transformers._MODEL_LOADERS["M2M100Config"]
    loader.get_vocabulary = lambda _model, _tokenizer: list(vocabulary)
    TransformersConverter(str(hf_dir)).convert(str(out), quantization="float32")
    for name in TOKENIZER_FILES:
        if (variant_dir / name).is_file():
            shutil.copy(variant_dir / name, out / name)
    check_vocabulary(out, variant_dir)
    print(f"  ctranslate2 {ctranslate2.__version__}: wrote {out}")


def main() -> None:
    torch.set_num_threads(2)
    golden = json.loads((FIXTURE / "golden.json").read_text(encoding="utf-8"))
    variants = sys.argv[1:] or ["m2m100", "nllb"]
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            convert(variant, golden, Path(tmp))
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
