"""What a demanding user notices in a meeting: long captions keep their newest words, the status
bar never pushes the window wider or hides its figures, the tray can undo click-through and says
when it is stopping, Start/Stop can be pressed again and again, and the export dialog proposes a
sensible file name and adds the extension of the chosen type."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import app_settings, clip, wait_until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel

from app import theme
from app.overlay import CaptionOverlay
from app.worker import IDLE, RUNNING
from engine.session import SessionLine

LONG = (
    "Let us start with the numbers from the last three months which were better than expected "
    "in almost every region we operate in including the new markets in the south"
)


def _line(sid: int, text: str, speaker: str) -> SessionLine:
    return SessionLine(sid, float(sid), sid + 1.0, text, speaker, "en", True, None, None)


def test_overlay_long_caption_keeps_its_newest_words(themed_app: object) -> None:
    overlay = CaptionOverlay(theme.SpeakerColors(), font_size=14)
    try:
        overlay.setGeometry(100, 100, 600, 150)
        overlay.show()
        QApplication.processEvents()
        overlay.set_lines([_line(1, "Good morning everyone.", "S1"), _line(2, LONG, "S2")])
        assert overlay.shown_lines() == ["Good morning everyone.", LONG]  # small text: all fits

        overlay.set_font_size(34)  # larger text: the older line gives way, then the start
        shown = overlay.shown_lines()
        assert len(shown) == 1 and shown[0].startswith("… ")
        assert shown[0].endswith("new markets in the south")
        margins = overlay.layout().contentsMargins()
        width = overlay.width() - margins.left() - margins.right()
        room = overlay.height() - margins.top() - margins.bottom()
        assert overlay.labels[1].heightForWidth(width) <= room  # nothing cut mid-line
        assert overlay.text_lines()[-1] == LONG  # the full text stays for screen readers

        overlay.set_font_size(14)
        overlay.resize(300, 80)  # a small overlay: recomputed on resize
        QApplication.processEvents()
        shown = overlay.shown_lines()
        assert shown[-1].endswith("in the south") and shown[-1].startswith("… ")
    finally:
        overlay.close()
        overlay.deleteLater()


def test_status_bar_shrinks_instead_of_widening_the_window(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    win = c.window
    win.resize(win.minimumWidth(), win.minimumHeight())
    win.latency_label.setText("Latency  ASR 0.30 s · MT 0.06 s · Speech 0.41 s")
    win.backlog_label.setText("Backlog  audio 0.3 s · text 0 · speech 1")
    win.backends_label.setText("ASR http://192.168.10.20:5002 · MT http://192.168.10.20:5008")
    win.notify("Exported /home/someone/Documents/meetings/2026/quarterly-review-session.srt")
    QApplication.processEvents()
    bar = win.statusBar()
    assert bar.minimumSizeHint().width() <= win.minimumWidth()
    assert win.width() == win.minimumWidth()
    session = win.session_label.geometry()
    assert session.right() <= bar.width() and win.session_label.isVisible()
    assert win.notice_label.text().startswith("Exported")  # full text kept (and as tooltip)
    full = win.backends_label.text()
    shown = QLabel.text(win.backends_label)  # what is painted
    assert shown != full and win.backends_label.toolTip() == full  # elided: the tip has it all


def test_tray_undoes_click_through_and_says_when_stopping(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    tray = c.tray
    assert tray.click_through in tray.menu.actions()
    tray.click_through.trigger()
    assert c.overlay.click_through and c.settings.ui.overlay_click_through
    assert c.overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert c.window.act_click_through.isChecked()
    c.window.act_click_through.trigger()  # off from the window: the tray follows
    assert not c.overlay.click_through and not tray.click_through.isChecked()

    labels = []
    for running, busy in ((False, False), (True, False), (False, True)):
        tray.set_running(running, busy=busy)
        labels.append((tray.start_stop.text(), tray.start_stop.isEnabled()))
    assert labels == [
        ("Start interpreting", True),
        ("Stop interpreting", True),
        ("Stopping…", False),
    ]


@pytest.mark.slow
def test_start_stop_five_times_on_a_file(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings(str(clip("chan3.wav"))))
    c.show()
    for round_ in range(5):
        before = len(c.session)
        assert c.start(), f"round {round_}: Start refused"
        assert c.window.start_button.text() == "Stop"
        wait_until(lambda: c.state == RUNNING, 120, f"round {round_}: running")
        if round_ in (0, 4):  # the first and the last run really interpret
            wait_until(lambda n=before: len(c.session) > n, 60, f"round {round_}: words")
        c.window.start_button.click()  # as the user: the same button stops
        wait_until(lambda: c.state == IDLE, 60, f"round {round_}: stopped")
        assert c.window.start_button.text() == "Start" and c.window.start_button.isEnabled()
        assert c.tray.start_stop.text() == "Start interpreting"
        assert not c.window.banner.isVisible(), c.window.banner.text()
    lines = c.session.lines()
    assert len(lines) >= 2 and all(ln.final and ln.text for ln in lines)
    assert c.worker_thread.thread.isRunning()  # one worker thread for all the runs


def test_export_dialog_proposes_the_session_name_and_adds_the_extension(
    make_controller,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    c = make_controller(app_settings())
    from engine.events import Final, StageTimes

    c.session.apply(Final(1, 0.0, 2.0, "Go forward ten meters.", "en", StageTimes(), "S1"))
    asked: list[tuple[str, str]] = []

    def fake_save(parent, caption, directory, filters):  # noqa: ANN001, ANN202
        asked.append((directory, filters))
        return str(tmp_path / "minutes"), "Plain text (*.txt)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    c.sessions.export_dialog()
    directory, filters = asked[0]
    assert Path(directory).name == f"{c.session.path.stem}.srt"
    assert "*.vtt" in filters and "*.json" in filters
    written = tmp_path / "minutes.txt"
    assert written.is_file() and "Go forward ten meters." in written.read_text()
    assert c.settings.ui.export_dir == str(tmp_path)
    wait_until(lambda: "Exported" in c.window.notice_label.text(), 2, "the notice")


def test_settings_service_fields_follow_their_engine(themed_app: object) -> None:
    from app.settings_dialog import SPIN_WIDTH, SettingsDialog

    dialog = SettingsDialog(app_settings())
    try:
        assert dialog.tr_backend.currentData() != "remote"
        assert not dialog.tr_url.isEnabled() and not dialog.tr_timeout.isEnabled()
        dialog.tr_backend.setCurrentIndex(dialog.tr_backend.findData("remote"))
        assert dialog.tr_url.isEnabled() and dialog.tr_timeout.isEnabled()
        assert not dialog.tts_url.isEnabled()
        dialog.spk_mode.setCurrentIndex(dialog.spk_mode.findData("off"))
        assert not dialog.spk_match.isEnabled() and not dialog.spk_backend.isEnabled()
        dialog.spk_mode.setCurrentIndex(dialog.spk_mode.findData("auto"))
        assert dialog.spk_match.isEnabled() and not dialog.spk_url.isEnabled()
        assert dialog.beam.maximumWidth() == SPIN_WIDTH and dialog.beam.toolTip()
        assert dialog.result_settings().engine.translation.backend == "remote"
    finally:
        dialog.deleteLater()


@pytest.mark.slow
def test_choosing_a_target_language_while_running_translates_what_follows(make_controller) -> None:  # noqa: ANN001
    import dataclasses

    from gui_helpers import REPO

    fixture = REPO / "tests" / "fixtures" / "m2m100" / "m2m100"
    if not (fixture / "encoder_model.onnx").is_file():
        pytest.skip("the M2M100 test fixture is not in this checkout")
    s = app_settings(str(clip("chan3.wav")))
    s.ui.realtime_files = True  # a live meeting: the change lands mid-run
    cfg = s.engine
    s.engine = dataclasses.replace(
        cfg,
        asr=dataclasses.replace(cfg.asr, language="en"),
        translation=dataclasses.replace(cfg.translation, backend="m2m100", model=str(fixture)),
    )
    c = make_controller(s)
    c.show()
    assert c.start()
    wait_until(lambda: c.state == RUNNING and len(c.session) > 0, 120, "the first words")
    combo = c.window.target_lang
    index = combo.findData("fr")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)  # as the user's pick
    assert c.settings.engine.translation.target_lang == "fr"
    wait_until(lambda: any(ln.translation for ln in c.session.lines()), 90, "a translated line")
    assert c.window.start_button.text() == "Stop"  # still interpreting after the restart
    c.stop()
    wait_until(lambda: c.state == IDLE, 60, "stop")
    lines = c.session.lines()
    assert all(ln.final for ln in lines) and lines[-1].target_lang == "fr"
    assert not c.window.banner.isVisible(), c.window.banner.text()


def test_show_window_from_the_tray_restores_a_minimized_window(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    c.window.showMinimized()
    QApplication.processEvents()
    assert c.window.isMinimized()
    c.tray.show_window.trigger()
    QApplication.processEvents()
    assert not c.window.isMinimized() and c.window.isVisible()


def test_a_long_device_name_is_in_the_tooltip(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    combo = c.window.input_combo
    name = "System audio: Built-in Audio Analog Stereo (HDMI 2 / DisplayPort 1)"
    combo.addItem(name, "pulse:hdmi")
    combo.setCurrentIndex(combo.count() - 1)
    assert combo.width() <= combo.maximumWidth() and name in combo.toolTip()
    assert "Now: " in c.window.output_combo.toolTip()


def test_click_through_has_a_working_shortcut(make_controller) -> None:  # noqa: ANN001
    from PySide6.QtTest import QTest

    c = make_controller(app_settings())
    c.show()
    win = c.window
    win.activateWindow()
    wait_until(lambda: win.isActiveWindow(), 5, "the window to become active")
    both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(win, Qt.Key.Key_T, both)
    assert c.overlay.click_through and c.tray.click_through.isChecked()
    QTest.keyClick(win, Qt.Key.Key_T, both)
    assert not c.overlay.click_through and not c.settings.ui.overlay_click_through
