"""Convert Resemblyzer's voice encoder to a torch-free file and write golden embeddings.

Run ONLY in a dev venv that has the real package (torch is never needed at run time):

    python -m venv /work/venvs/resemblyzer
    /work/venvs/resemblyzer/bin/pip install torch==2.13.0 "setuptools<81" resemblyzer==0.1.4 \
        soundfile onnx onnxruntime
    /work/venvs/resemblyzer/bin/python tools/make_resemblyzer_golden.py

Writes
  resources/speaker/voice_encoder.onnx  the network of `pretrained.pt` (3 ONNX LSTM nodes +
      Gemm + Relu, float32; L2 normalisation is done by the caller), built directly with
      onnx.helper so the graph is small and deterministic; checked against torch here
  tests/fixtures/resemblyzer/golden.npz embeddings made by `resemblyzer` itself, per clip:
      <name>/embed      preprocess_wav(path) -> VoiceEncoder.embed_utterance (the full path)
      <name>/partials   the partial embeddings of that call
      <name>/pre_len    length of the preprocessed waveform
      <name>/raw_embed  embed_utterance on the file's samples without preprocessing (16 kHz only)
      mel_basis         librosa's 40-band mel filterbank (n_fft 400)
      mel/<name>        wav_to_mel_spectrogram of the preprocessed clip (short clips only)
  tests/fixtures/resemblyzer/espeak_en.wav (made with espeak-ng when missing; committed so the
      golden does not depend on the installed espeak-ng version)

The script imports nothing from `engine`, so it runs in the dev venv as is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO / ".." / "shared" / "data" / "speech"
FIXTURES = REPO / "tests" / "fixtures" / "resemblyzer"
WEIGHTS_OUT = REPO / "resources" / "speaker" / "voice_encoder.onnx"
ESPEAK_TEXT = "The quick brown fox jumps over the lazy dog, and then it runs far away."
MEL_CLIPS = ("cards-001", "espeak_en")


def _onnx_gates(a: np.ndarray) -> np.ndarray:
    """PyTorch stacks LSTM gates as (i, f, g, o); ONNX wants (i, o, f, c)."""
    i, f, g, o = np.split(a, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def convert_weights(out: Path) -> dict[str, str]:
    import onnx
    import resemblyzer
    import torch
    from onnx import TensorProto, helper, numpy_helper

    src = Path(resemblyzer.__file__).resolve().parent / "pretrained.pt"
    state = torch.load(src, map_location="cpu")["model_state"]
    w = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in state.items()}
    hidden = w["lstm.weight_hh_l0"].shape[1]

    inits = []
    nodes = [helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2])]
    x = "x0"
    for layer in range(3):
        tensors = {
            f"W{layer}": _onnx_gates(w[f"lstm.weight_ih_l{layer}"])[None],
            f"R{layer}": _onnx_gates(w[f"lstm.weight_hh_l{layer}"])[None],
            f"B{layer}": np.concatenate(
                [
                    _onnx_gates(w[f"lstm.bias_ih_l{layer}"]),
                    _onnx_gates(w[f"lstm.bias_hh_l{layer}"]),
                ]
            )[None],
        }
        inits += [numpy_helper.from_array(a.astype(np.float32), n) for n, a in tensors.items()]
        nodes.append(
            helper.make_node("LSTM", [x, *tensors], [f"y{layer}", f"yh{layer}"], hidden_size=hidden)
        )
        inits.append(numpy_helper.from_array(np.array([1], np.int64), f"axis1_{layer}"))
        nodes.append(
            helper.make_node("Squeeze", [f"y{layer}", f"axis1_{layer}"], [f"x{layer + 1}"])
        )
        x = f"x{layer + 1}"
    inits += [
        numpy_helper.from_array(np.array([0], np.int64), "axis0"),
        numpy_helper.from_array(w["linear.weight"], "linear_weight"),
        numpy_helper.from_array(w["linear.bias"], "linear_bias"),
    ]
    nodes += [
        helper.make_node("Squeeze", ["yh2", "axis0"], ["hidden_last"]),
        helper.make_node(
            "Gemm", ["hidden_last", "linear_weight", "linear_bias"], ["lin"], transB=1
        ),
        helper.make_node("Relu", ["lin"], ["embeds_raw"]),
    ]
    graph = helper.make_graph(
        nodes,
        "resemblyzer_voice_encoder",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["batch", "frames", 40])],
        [helper.make_tensor_value_info("embeds_raw", TensorProto.FLOAT, ["batch", 256])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="dragoman"
    )
    model.ir_version = 8
    model.doc_string = "Resemblyzer 0.1.4 pretrained.pt voice encoder (Apache-2.0)"
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out)

    # Check the graph against the torch module on random partials before trusting it.
    import onnxruntime as ort
    from resemblyzer import VoiceEncoder

    mels = np.random.default_rng(0).random((3, 160, 40), dtype=np.float32)
    with torch.no_grad():
        ref = VoiceEncoder(device="cpu", verbose=False)(torch.from_numpy(mels)).numpy()
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        None, {"mels": mels}
    )[0]
    got = got / np.linalg.norm(got, axis=1, keepdims=True)
    assert np.abs(got - ref).max() < 1e-5, np.abs(got - ref).max()

    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"wrote {out} ({out.stat().st_size} bytes, sha256 {digest})")
    return {"source_sha256": hashlib.sha256(src.read_bytes()).hexdigest(), "sha256": digest}


def make_espeak_clip(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), ESPEAK_TEXT], check=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-weights", action="store_true")
    args = parser.parse_args()

    import librosa
    from resemblyzer import VoiceEncoder, preprocess_wav
    from resemblyzer.audio import wav_to_mel_spectrogram

    info: dict[str, object] = {"resemblyzer": "0.1.4"}
    if not args.skip_weights:
        info["weights"] = convert_weights(WEIGHTS_OUT)

    espeak = FIXTURES / "espeak_en.wav"
    make_espeak_clip(espeak)
    clips = sorted(SPEECH.glob("*.wav")) + [espeak]

    encoder = VoiceEncoder(device="cpu", verbose=False)
    out: dict[str, np.ndarray] = {
        "mel_basis": librosa.filters.mel(sr=16000, n_fft=400, n_mels=40).astype(np.float32)
    }
    for clip in clips:
        name = clip.stem
        wav = preprocess_wav(clip)
        embed, partials, _ = encoder.embed_utterance(wav, return_partials=True)
        out[f"{name}/embed"] = embed.astype(np.float32)
        out[f"{name}/partials"] = partials.astype(np.float32)
        out[f"{name}/pre_len"] = np.array(len(wav))
        raw, sr = librosa.load(str(clip), sr=None)
        if sr == 16000:
            out[f"{name}/raw_embed"] = encoder.embed_utterance(raw).astype(np.float32)
        if name in MEL_CLIPS:
            out[f"mel/{name}"] = wav_to_mel_spectrogram(wav)
        print(f"{name}: sr {sr}, preprocessed {len(wav)} samples, {len(partials)} partials")

    names = [c.stem for c in clips]
    embeds = np.stack([out[f"{n}/embed"] for n in names])
    sims = embeds @ embeds.T
    print("cosine similarities between clips:")
    print("            " + " ".join(f"{n[:9]:>9}" for n in names))
    for n, row in zip(names, sims, strict=True):
        print(f"{n[:11]:>11} " + " ".join(f"{x:9.3f}" for x in row))

    FIXTURES.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FIXTURES / "golden.npz", **out)
    info["clips"] = names
    (FIXTURES / "golden.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {FIXTURES / 'golden.npz'}")


if __name__ == "__main__":
    main()
