"""Real speech through translation: Spanish and German (espeak-ng) -> English finals with
`--target en --translator whisper` (Whisper's own X->English, the zero-download path)."""

import shutil
import subprocess

import pytest

from engine.cli import jsonl_finals
from tests.cli_env import run_cli

CASES = [
    ("es", "Me gusta mucho la música y el café.", [("music",), ("coffee", "cafe")]),
    ("de", "Guten Morgen, ich trinke jeden Tag Kaffee.", [("morning",), ("coffee", "cafe")]),
]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is installed by CI")
@pytest.mark.parametrize(("lang", "sentence", "keywords"), CASES)
def test_espeak_speech_translated_to_english(tmp_path, lang, sentence, keywords):
    wav = tmp_path / f"{lang}.wav"
    subprocess.run(["espeak-ng", "-v", lang, "-s", "130", sentence, "-w", str(wav)], check=True)
    jsonl = tmp_path / "out.jsonl"
    srt = tmp_path / "out.en.srt"
    proc = run_cli(
        "run",
        wav,
        "--source",
        lang,
        "--target",
        "en",
        "--translator",
        "whisper",
        "--jsonl",
        jsonl,
        "--translated-subtitles",
        srt,
    )
    assert proc.returncode == 0, proc.stderr
    finals = jsonl_finals(jsonl.read_text().splitlines())
    finals = [r for r in finals if r["type"] == "final"]
    assert finals
    english = " ".join(r["translation"] for r in finals).lower()
    print(f"{lang}: {sentence!r} -> {english!r}")
    for r in finals:
        assert r["target_lang"] == "en" and r["translation"]
    for alternatives in keywords:
        assert any(k in english for k in alternatives), (alternatives, english)
    assert srt.read_text().strip()
