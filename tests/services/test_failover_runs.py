"""Whole runs against real misbehaving services on 127.0.0.1: with the translation service
stalled, answering garbage or HTTP 500, or killed mid-run, the run finishes, every final keeps
its subtitle and reaches the JSONL at once, every sentence is translated by the local model,
and the switch shows in Stats events (`stage_backends`) and in one stderr line."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from engine.audio.sources import FileSource
from engine.cli import jsonl_finals
from engine.config import AsrOptions, EngineConfig, SpeakerOptions, TranslationOptions
from engine.events import Final, Stats, Translation
from engine.pipeline import Pipeline
from engine.sentences import split_sentences
from engine.services.nmt import create_app as nmt_app
from engine.translate import create_translator
from engine.translate.remote import LOCAL_FALLBACK
from tests.cli_env import run_cli
from tests.http_env import serve_app
from tests.services.fault_servers import fault_server

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "m2m100"
LOCAL = TranslationOptions(target_lang="fr", backend="m2m100", model=str(FIXTURE))


@pytest.mark.parametrize("fault", ["stall", "garbage", "500", "killed"])
def test_pipeline_loses_no_final_and_reports_the_switch(fault, speech_dir, whisper_base):
    reference = create_translator(LOCAL)
    remote = replace(LOCAL, backend="remote", remote_timeout_s=0.5)
    events: list = []

    def run(url: str) -> None:
        config = EngineConfig(
            asr=AsrOptions(language="en"),
            speakers=SpeakerOptions(mode="off"),
            translation=replace(remote, remote_url=url),
        )
        Pipeline(config, events.append, transcriber=whisper_base).run(
            FileSource(speech_dir / "chan3.wav")
        )

    if fault == "killed":
        context = serve_app(nmt_app(LOCAL, FIXTURE))
        url = context.__enter__()
        stopped = False

        def kill_after_first_translation(event: object) -> None:
            nonlocal stopped
            events.append(event)
            if isinstance(event, Translation) and not stopped:
                stopped = True
                context.__exit__(None, None, None)  # the service goes away mid-run

        config = EngineConfig(
            asr=AsrOptions(language="en"),
            speakers=SpeakerOptions(mode="off"),
            translation=replace(remote, remote_url=url),
        )
        try:
            Pipeline(config, kill_after_first_translation, transcriber=whisper_base).run(
                FileSource(speech_dir / "chan3.wav")
            )
        finally:
            if not stopped:
                context.__exit__(None, None, None)
    else:
        with fault_server(fault) as (url, _):
            run(url)

    finals = [e for e in events if isinstance(e, Final)]
    translations = {e.segment_id: e for e in events if isinstance(e, Translation)}
    assert len(finals) >= 3
    assert sorted(translations) == [f.segment_id for f in finals]  # every final translated
    for final in finals:
        expected = reference.translate(split_sentences(final.text), "en", "fr")
        assert translations[final.segment_id].text == " ".join(r.text for r in expected)
    backends = [e.stage_backends.get("nmt") for e in events if isinstance(e, Stats)]
    assert backends[-1] == LOCAL_FALLBACK, backends
    if fault == "killed":
        assert "remote" in backends  # it was used while it lived


def test_cli_run_with_a_stalled_service(speech_dir, tmp_path):
    """No local model named or installed: the originals are kept, each final is on disk as
    soon as it is final, and the run says so and exits 1. With --translation-model: every
    final translated locally, exit 0, one stderr line about the switch."""
    env = {**os.environ, "DRAGOMAN_HOME": str(tmp_path / "home")}  # no model installed
    with fault_server("stall") as (url, server):
        base = [
            "run",
            speech_dir / "chan3.wav",
            "--source",
            "en",
            "--target",
            "fr",
            "--nmt-url",
            url,
            "--speakers",
            "off",
        ]
        jsonl, srt = tmp_path / "a.jsonl", tmp_path / "a.srt"
        plain = run_cli(*base, "--jsonl", jsonl, "--subtitles", srt, env=env)
        named = run_cli(
            *base,
            "--translation-model",
            FIXTURE,
            "--jsonl",
            tmp_path / "b.jsonl",
            env=env,
        )
        requests = server.requests  # type: ignore[attr-defined]
    finals = jsonl_finals(jsonl.read_text().splitlines())
    cues = srt.read_text().count(" --> ")
    assert len(finals) == cues >= 3  # nothing held back
    assert not any(f["translation"] for f in finals)
    assert plain.returncode == 1, plain.stderr
    assert "original text is kept" in plain.stderr
    assert plain.stderr.strip().splitlines()[-1].startswith("dragoman: error: none of the")
    assert "Traceback" not in plain.stderr
    assert named.returncode == 0, named.stderr
    translated = jsonl_finals((tmp_path / "b.jsonl").read_text().splitlines())
    assert translated and all(f["translation"] and f["target_lang"] == "fr" for f in translated)
    switch = [line for line in named.stderr.splitlines() if "local model" in line]
    assert len(switch) == 1 and "did not answer within 5 s" in switch[0], named.stderr
    assert requests <= 4  # two per run, then the circuit stayed open


def test_cli_run_with_broken_speech_and_speaker_services(speech_dir, tmp_path):
    """Speech service answering garbage, speaker service stalled: every utterance is still
    spoken (local Piper), every final still gets a speaker (local encoder), one line each."""
    import soundfile as sf

    wav, jsonl = tmp_path / "speech.wav", tmp_path / "run.jsonl"
    with fault_server("garbage") as (tts_url, _), fault_server("stall") as (speaker_url, stalled):
        proc = run_cli(
            "run",
            speech_dir / "chan3.wav",
            "--source",
            "en",
            "--speech",
            wav,
            "--tts-url",
            tts_url,
            "--speaker-url",
            speaker_url,
            "--jsonl",
            jsonl,
        )
        speaker_requests = stalled.requests  # type: ignore[attr-defined]
    assert proc.returncode == 0, proc.stderr
    finals = jsonl_finals(jsonl.read_text().splitlines())
    assert len(finals) >= 3
    assert all(f["speech"] and not f["speech"]["skipped"] for f in finals)
    assert all(f["speaker"] for f in finals)
    audio, rate = sf.read(wav, dtype="float32")
    assert len(audio) / rate > 5.0 and float(abs(audio).max()) > 0.05
    lines = proc.stderr.splitlines()
    assert len([x for x in lines if "speech service" in x]) == 1, proc.stderr
    assert len([x for x in lines if "speaker service" in x]) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert speaker_requests <= 2  # then the circuit stayed open


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is installed by CI")
def test_whisper_translates_when_the_service_fails_and_no_local_model(
    tmp_path, monkeypatch, whisper_auto
):
    """Target English, translation service answering HTTP 500, no local model installed: each
    final is translated by Whisper's own X->English on its audio, and Stats say so."""
    import subprocess

    from engine.translate.stage import WHISPER_FALLBACK

    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path / "home"))  # nothing installed
    wav = tmp_path / "de.wav"
    sentence = "Guten Morgen, ich trinke jeden Tag Kaffee."
    subprocess.run(["espeak-ng", "-v", "de", "-s", "130", sentence, "-w", str(wav)], check=True)
    events: list = []
    with fault_server("500") as (url, _):
        config = EngineConfig(
            asr=AsrOptions(language="de"),
            speakers=SpeakerOptions(mode="off"),
            translation=TranslationOptions(target_lang="en", backend="remote", remote_url=url),
        )
        Pipeline(config, events.append, transcriber=whisper_auto).run(FileSource(wav))
    finals = [e for e in events if isinstance(e, Final)]
    translations = [e for e in events if isinstance(e, Translation)]
    assert finals and [t.segment_id for t in translations] == [f.segment_id for f in finals]
    english = " ".join(t.text for t in translations).lower()
    assert all(t.model == "whisper-translate" for t in translations)
    assert "morning" in english and ("coffee" in english or "cafe" in english), english
    backends = [e.stage_backends.get("nmt") for e in events if isinstance(e, Stats)]
    assert backends[-1] == WHISPER_FALLBACK, backends
