"""Translation inside the engine: real Whisper finals translated by the ONNX M2M100 translator
(the tiny parity fixture: real ONNX inference, nonsense language) — every sentence exactly once,
in order, with quality metrics, even when translation is slower than speech."""

from __future__ import annotations

import time
from pathlib import Path

from engine.audio.sources import FileSource
from engine.cli import jsonl_finals
from engine.config import AsrOptions, EngineConfig, SpeakerOptions, TranslationOptions
from engine.events import Final, Stats, Translation
from engine.pipeline import Pipeline
from engine.sentences import split_sentences
from engine.translate import create_translator
from tests.cli_env import run_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "m2m100"


class SlowTranslator:
    """The real translator, made slower than speech."""

    def __init__(self, inner, delay_s: float) -> None:
        self.inner, self.delay_s, self.calls = inner, delay_s, []
        self.name = inner.name

    def translate(self, texts, source_lang, target_lang):
        self.calls.append(list(texts))
        time.sleep(self.delay_s)
        return self.inner.translate(texts, source_lang, target_lang)


def test_every_sentence_translated_once_in_order_with_backlog(speech_dir, whisper_auto):
    options = TranslationOptions(target_lang="fr", backend="m2m100", model=str(FIXTURE))
    reference = create_translator(options)
    slow = SlowTranslator(create_translator(options), delay_s=1.0)
    events: list = []
    # revisions off: a revised line is translated once more (tests/integration/test_revisions.py)
    config = EngineConfig(
        asr=AsrOptions(language="en", revisions=False),
        speakers=SpeakerOptions(mode="off"),
        translation=options,
    )
    Pipeline(config, events.append, transcriber=whisper_auto, translator=slow).run(
        FileSource(speech_dir / "chan3.wav")
    )
    finals = [e for e in events if isinstance(e, Final)]
    translations = [e for e in events if isinstance(e, Translation)]
    assert len(finals) >= 3
    assert [t.segment_id for t in translations] == [f.segment_id for f in finals]
    sentences = [s for f in finals for s in split_sentences(f.text)]
    assert [s for call in slow.calls for s in call] == sentences  # each exactly once, in order
    for final, tr in zip(finals, translations, strict=True):
        expected = reference.translate(split_sentences(final.text), "en", "fr")
        assert tr.text == " ".join(r.text for r in expected)
        assert tr.target_lang == "fr" and tr.source_text == final.text
        assert {"mean_token_logprob", "length_ratio"} <= tr.quality_metrics.keys()
        assert events.index(tr) > events.index(final)
    backlog = [e.translation_backlog for e in events if isinstance(e, Stats)]
    print("translation backlog over time:", backlog)
    assert max(backlog) >= 2  # translation fell behind and it showed
    assert backlog[-1] == 0  # and every sentence got through


def test_cli_jsonl_finals_carry_translation(tmp_path, speech_dir):
    jsonl, srt = tmp_path / "out.jsonl", tmp_path / "out.fr.srt"
    proc = run_cli(
        "run",
        speech_dir / "chan3.wav",
        "--source",
        "en",
        "--target",
        "fr",
        "--translation-model",
        FIXTURE,
        "--jsonl",
        jsonl,
        "--translated-subtitles",
        srt,
        "--speakers",
        "off",
    )
    assert proc.returncode == 0, proc.stderr
    finals = jsonl_finals(jsonl.read_text().splitlines())
    finals = [r for r in finals if r["type"] == "final"]
    assert len(finals) >= 3
    assert [r["segment_id"] for r in finals] == sorted(r["segment_id"] for r in finals)
    for r in finals:
        assert r["target_lang"] == "fr" and r["translation"]
        assert "mean_token_logprob" in r["quality_metrics"]
        assert "translation_done_at" in r["times"]
    assert srt.read_text().count(" --> ") == len(finals)
