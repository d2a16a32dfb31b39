"""Whisper's own translation is one choice (issue 12, defect 4): choosing "Whisper (into English
only)" sets the target to English and the recogniser's task to 'translate'; leaving it (another
target, another translator, no translation) sets the task back to 'transcribe'. A real run with
it shows each English line once, not once as "original" and again as its "translation"."""

from __future__ import annotations

import dataclasses

import pytest
from gui_helpers import REPO, choose, clip, wait_until

from app.settings import Settings, consistent_translation
from app.worker import IDLE
from engine.config import EngineConfig, SpeakerOptions


def test_consistent_translation_sets_up_and_undoes_the_task() -> None:
    cfg = EngineConfig()
    whisper = dataclasses.replace(
        cfg, translation=dataclasses.replace(cfg.translation, backend="whisper", target_lang="en")
    )
    assert consistent_translation(whisper).asr.task == "translate"
    off = dataclasses.replace(
        whisper, translation=dataclasses.replace(whisper.translation, target_lang=None)
    )
    assert consistent_translation(off).asr.task == "transcribe"
    german = dataclasses.replace(
        whisper, translation=dataclasses.replace(whisper.translation, target_lang="de")
    )
    fixed = consistent_translation(german)
    assert (fixed.translation.backend, fixed.asr.task) == ("m2m100", "transcribe")
    stuck = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, task="translate"))
    assert consistent_translation(stuck).asr.task == "transcribe"  # a hand-edited leftover


def test_the_whisper_choice_in_settings_and_toolbar(make_controller) -> None:  # noqa: ANN001
    from app.settings_dialog import SettingsDialog

    settings = Settings()
    settings.ui.preload_models = False
    fixture = REPO / "tests" / "fixtures" / "m2m100" / "m2m100"  # no download for German
    settings.engine = dataclasses.replace(
        settings.engine,
        translation=dataclasses.replace(settings.engine.translation, model=str(fixture)),
    )
    c = make_controller(settings)
    c.show()
    dialog = SettingsDialog(c.settings, c.window)
    try:
        choose(dialog.tr_backend, "whisper")
        assert dialog.target_lang.currentData() == "en"
        c.apply_settings(dialog.result_settings())
    finally:
        dialog.deleteLater()
    cfg = c.settings.engine
    assert (cfg.translation.backend, cfg.translation.target_lang, cfg.asr.task) == (
        "whisper",
        "en",
        "translate",
    )
    assert c.window.target_lang.currentData() == "en"
    choose(c.window.target_lang, None)  # the toolbar: "No translation"
    assert c.settings.engine.asr.task == "transcribe"
    choose(c.window.target_lang, "en")
    assert c.settings.engine.asr.task == "translate"
    choose(c.window.target_lang, "de")  # Whisper cannot: the offline translator takes over
    cfg = c.settings.engine
    assert (cfg.translation.backend, cfg.asr.task) == ("m2m100", "transcribe")


@pytest.mark.slow
def test_a_run_with_whisper_translation_shows_each_line_once(make_controller) -> None:  # noqa: ANN001
    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.realtime_files = False
    settings.ui.source = str(clip("goforward.wav"))
    cfg = settings.engine
    settings.engine = consistent_translation(
        dataclasses.replace(
            cfg,
            speakers=SpeakerOptions(mode="off"),
            translation=dataclasses.replace(cfg.translation, backend="whisper", target_lang="en"),
        )
    )
    c = make_controller(settings)
    c.show()
    assert c.start()
    wait_until(lambda: c.state == IDLE, 180, "the run to finish")
    assert not c.window.banner.isVisible(), c.window.banner.text()
    (line,) = c.session.lines()
    assert line.final and "forward" in line.text.lower()
    assert line.translation == line.text
    row = c.window.subtitles.row_state(line.segment_id)
    assert row is not None and row.original_visible and not row.translation_visible
