"""Settings persist as TOML under the config directory and survive a restart of the app."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from gui_helpers import choose, wait_until

from app import settings as settings_mod
from app.settings import Settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path))
    return tmp_path


def test_settings_round_trip_through_restart(home: Path, make_controller) -> None:  # noqa: ANN001
    first = Settings()
    first.ui.preload_models = False
    # a translation model of its own (the test fixture): choosing a target needs no download
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "m2m100" / "m2m100"
    first.engine = dataclasses.replace(
        first.engine,
        translation=dataclasses.replace(first.engine.translation, model=str(fixture)),
    )
    settings_mod.save(first)
    c1 = make_controller(settings_mod.load())
    c1.show()
    win = c1.window
    choose(win.source_lang, "en")
    choose(win.target_lang, "pt")
    win.mode_buttons["translation"].click()
    win.speak_check.setChecked(True)
    win.volume.setValue(40)
    win.act_zoom_in.trigger()
    win.act_overlay.trigger()
    assert c1.overlay.isVisible()
    c1.overlay.set_font_size(30)
    c1.overlay.setGeometry(60, 500, 520, 130)
    win.act_click_through.trigger()
    wait_until(
        lambda: c1.settings.ui.overlay_geometry == [60, 500, 520, 130],
        5,
        "the overlay geometry to be recorded",
    )
    c1.shutdown()  # closing the app saves

    text = (home / "config" / "settings.toml").read_text()
    data = tomllib.loads(text)  # valid TOML, None values left out
    assert data["engine"]["translation"]["target_lang"] == "pt"
    assert "output_device" not in data["engine"]["speech"]

    c2 = make_controller(settings_mod.load())
    c2.show()
    s = c2.settings
    assert s.engine.asr.language == "en" and s.engine.translation.target_lang == "pt"
    assert s.engine.speech.enabled and s.engine.speech.play and s.engine.speech.volume == 0.4
    assert s.ui.view_mode == "translation" and s.ui.overlay_enabled
    assert s.ui.subtitle_font_px == Settings().ui.subtitle_font_px + 2
    w2 = c2.window
    assert w2.source_lang.currentData() == "en" and w2.target_lang.currentData() == "pt"
    assert w2.mode_buttons["translation"].isChecked()
    assert w2.speak_check.isChecked() and w2.volume.value() == 40
    assert w2.act_overlay.isChecked() and c2.overlay.isVisible()
    assert c2.overlay.font_size == 30 and c2.overlay.click_through
    g = c2.overlay.geometry()
    assert [g.x(), g.y(), g.width(), g.height()] == [60, 500, 520, 130]
    assert s.engine == c1.settings.engine


def test_settings_dialog_edits_persist(home: Path, make_controller) -> None:  # noqa: ANN001
    from app.settings_dialog import SettingsDialog

    start = Settings()
    start.ui.preload_models = False
    c = make_controller(start)
    dialog = SettingsDialog(c.settings, c.window)
    dialog.threads.setValue(3)
    dialog.vad_threshold.setValue(0.6)
    dialog.min_silence.setValue(700)
    assert dialog.revisions.isChecked()  # revisions are on by default
    dialog.revisions.setChecked(False)
    dialog.tr_url.setText("http://10.0.0.5:5008")
    dialog.tr_token.setText(" s3cret-token ")
    dialog.speed.setValue(1.25)
    dialog.spk_mode.setCurrentIndex(dialog.spk_mode.findData("off"))
    dialog.ov_font.setValue(34)
    edited = dialog.result_settings()
    assert c.settings.engine.asr.cpu_threads == 2  # the dialog edits a copy
    c.apply_settings(edited)
    assert c.overlay.font_size == 34
    loaded = settings_mod.load()
    assert loaded.engine.asr.cpu_threads == 3
    assert loaded.engine.vad.threshold == pytest.approx(0.6)
    assert loaded.engine.vad.min_silence_ms == 700
    assert loaded.engine.asr.revisions is False
    assert loaded.engine.translation.remote_url == "http://10.0.0.5:5008"
    assert loaded.engine.translation.remote_token == "s3cret-token"  # sent as a bearer token
    assert dialog.tr_token.echoMode() == dialog.tr_token.EchoMode.Password
    assert loaded.engine.speech.remote_token == ""  # one token per service
    assert loaded.engine.speech.length_scale == pytest.approx(0.8)
    assert loaded.engine.speakers.mode == "off"
    assert loaded.ui.overlay_font_size == 34
    assert dataclasses.asdict(loaded.engine) == dataclasses.asdict(c.settings.engine)


def test_damaged_settings_file_falls_back_to_defaults(home: Path) -> None:
    path = settings_mod.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("[ui\nthis is not toml")
    assert settings_mod.load() == Settings()
    assert path.with_name("settings.toml.bad").is_file()


def test_a_bad_settings_file_keeps_the_good_settings_and_says_what_was_wrong(
    home: Path,
    make_controller,  # noqa: ANN001
) -> None:
    """Issue 9 item 6: a hand-edited settings.toml with a wrong value names the key, keeps every
    other setting, and never crashes the app."""
    path = home / "config" / "settings.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '[ui]\nview_mode = "translation"\npreload_models = false\n'
        '[engine.asr]\nlanguage = "de"\nbeam_size = "five"\n'
    )
    loaded = settings_mod.load()
    assert loaded.ui.view_mode == "translation" and loaded.engine.asr.language == "de"
    assert loaded.engine.asr.beam_size == Settings().engine.asr.beam_size  # the default
    assert any("beam_size" in p for p in loaded.problems), loaded.problems
    c = make_controller(loaded)
    c.show()
    banner = c.window.banner
    assert banner.isVisible() and "beam_size" in banner.text(), banner.text()
    assert "--" not in banner.text() and banner.action_button.text() == "Open settings"
    assert c.window.source_lang.currentData() == "de"
