"""Keyboard shortcuts, accessible names, and changing a setting while interpreting."""

from __future__ import annotations

import pytest
from gui_helpers import app_settings, clip, wait_until
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QComboBox,
    QLineEdit,
    QScrollBar,
    QWidget,
)

from app.worker import IDLE, RUNNING


def test_keyboard_shortcuts(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    win = c.window
    keys = {
        a.text().replace("&", ""): [k.toString() for k in a.shortcuts()]
        for a in (
            win.act_start,
            win.act_overlay,
            win.act_export,
            win.act_settings,
            win.act_models,
            win.act_quit,
        )
    }
    assert keys == {
        "Start interpreting": ["Ctrl+R", "F5"],
        "Caption overlay": ["Ctrl+Shift+C"],
        "Export transcript…": ["Ctrl+E"],
        "Settings…": ["Ctrl+,"],
        "Models…": ["Ctrl+M"],
        "Quit": ["Ctrl+Q"],
    }
    win.activateWindow()
    wait_until(lambda: win.isActiveWindow(), 5, "the window to become active")
    QTest.keyClick(win, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert c.settings.ui.view_mode == "translation"
    assert win.mode_buttons["translation"].isChecked()
    QTest.keyClick(win, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert c.settings.ui.view_mode == "original"
    QTest.keyClick(
        win, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert c.overlay.isVisible() and c.tray.overlay.isChecked()
    QTest.keyClick(
        win, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert not c.overlay.isVisible()
    before = c.settings.ui.subtitle_font_px
    QTest.keyClick(win, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert c.settings.ui.subtitle_font_px == before + 2


def test_every_control_has_an_accessible_name(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    missing = []
    for widget in c.window.findChildren(QWidget):
        if not isinstance(widget, QAbstractButton | QComboBox | QAbstractSlider | QLineEdit):
            continue
        if widget.parent() is not None and type(widget.parent()).__name__ == "QToolBarExtension":
            continue
        if widget.objectName().startswith("qt_") or isinstance(widget, QScrollBar):
            continue  # Qt's own internals (menus, scroll bars, scroll arrows)
        name = widget.accessibleName() or (
            widget.text() if isinstance(widget, QAbstractButton) else ""
        )
        if not name.strip():
            missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    assert not missing, missing


@pytest.mark.slow
def test_changing_the_language_while_running_restarts_cleanly(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings(str(clip("chan3.wav"))))
    c.show()
    states: list[str] = []

    class Recorder(QObject):
        @Slot(str)
        def state(self, s: str) -> None:
            states.append(s)

    recorder = Recorder()
    c.worker.state_changed.connect(recorder.state, Qt.ConnectionType.QueuedConnection)
    assert c.start()
    wait_until(lambda: c.state == RUNNING and len(c.session) > 0, 120, "the first words")
    first = c.session.lines()
    whisper = c.worker._pipeline.transcriber.model
    combo = c.window.source_lang
    index = combo.findData("en")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)  # as the user's pick
    assert c.settings.engine.asr.language == "en"
    wait_until(
        lambda: "stopping" in states and states[-1] == RUNNING,
        60,
        "the engine to restart with the new language",
    )
    assert c.worker._pipeline_config.asr.language == "en"
    transcriber = c.worker._pipeline.transcriber
    assert transcriber.language == "en"  # decodes in the new language...
    assert transcriber.model is whisper  # ...with the model already loaded (no reload gap)
    wait_until(lambda: len(c.session) > len(first), 60, "words after the restart")
    c.stop()
    wait_until(lambda: c.state == IDLE, 60, "stop")
    lines = c.session.lines()
    kept = [c.session.line(ln.segment_id) for ln in first]
    assert all(ln is not None and ln.final and ln.text for ln in kept)  # flushed and kept
    first_end = max(ln.end for ln in kept if ln is not None)
    assert lines[-1].start > first_end  # the second run continues the session after them
    assert all(ln.final for ln in lines)
    assert not c.window.banner.isVisible(), c.window.banner.text()
    recorder.deleteLater()


@pytest.mark.slow
def test_closing_the_window_mid_sentence_flushes_and_saves(make_controller) -> None:  # noqa: ANN001
    import json

    c = make_controller(app_settings(str(clip("chan3.wav"))))
    c.show()
    assert c.start()
    wait_until(lambda: any(not ln.final for ln in c.session.lines()), 120, "a sentence in progress")
    c.window.close()  # stops capture, flushes the open sentence, saves
    assert (c.state, c.worker.state) == (IDLE, IDLE)
    saved = json.loads(c.session.path.read_text())
    assert saved["lines"] and all(ln["final"] for ln in saved["lines"]), saved["lines"]
    assert saved["lines"][-1]["text"]
