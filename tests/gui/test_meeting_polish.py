"""Issue 12, defects 8 and 9: sessions (no empty files, a reopened session is not extended
without asking) and keyboard and help (title, Speak shortcut, shortcut list, what the empty
transcript says while listening)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gui_helpers import app_settings, clip, wait_until
from PySide6.QtWidgets import QMessageBox

from app.worker import IDLE
from engine.events import Final, StageTimes
from engine.session import Session


def test_title_speak_shortcut_and_help(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    win = c.window
    assert win.windowTitle() == "Live interpreter"  # Qt adds " — Dragoman" once
    assert [k.toString() for k in win.act_speak.shortcuts()] == ["Ctrl+Shift+S"]
    win.act_speak.trigger()
    assert win.speak_check.isChecked() and c.settings.engine.speech.enabled
    win.act_speak.trigger()
    assert not c.settings.engine.speech.enabled
    assert [k.toString() for k in win.act_shortcuts.shortcuts()] == ["F1"]
    text = win.help_html()
    for keys in ("Ctrl+R", "Ctrl+Shift+S", "Ctrl+E", "F1", "Ctrl+Shift+T"):
        assert keys in text, keys
    assert "Getting started" in text


def test_a_launch_that_records_nothing_leaves_no_session_file(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    path = c.session.path
    assert path is not None
    c.shutdown()
    assert not path.exists()


def test_a_reopened_session_is_extended_only_when_asked(
    make_controller,  # noqa: ANN001
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved = Session(tmp_path / "session-old.json")
    saved.apply(Final(1, 0.0, 2.0, "Go forward ten meters.", "en", StageTimes(), "S1"))
    saved.close()
    before = saved.path.read_text()
    c = make_controller(app_settings(str(clip("goforward.wav"))))
    c.show()
    assert c.open_session(saved.path)
    answers: list[str] = []

    def answer(box: QMessageBox) -> int:
        wanted = answers.pop(0)
        for button in box.buttons():
            if box.standardButton(button) == QMessageBox.StandardButton.Cancel:
                if wanted == "Cancel":
                    button.click()
                    return 0
            elif button.text() == wanted:
                button.click()
                return 0
        raise AssertionError(f"no button {wanted!r}")

    monkeypatch.setattr(QMessageBox, "exec", answer)
    answers.append("Cancel")
    assert not c.start() and c.state == IDLE
    assert c.session.path == saved.path
    answers.append("New session")
    assert c.start()
    assert c.session.path != saved.path and len(c.session) == 0
    assert "Listening to" in c.window.subtitles.placeholder.text()  # not "Press Start"
    c.stop()
    wait_until(lambda: c.state == IDLE, 120, "the run to stop")
    assert "Press <b>Start</b>" in c.window.subtitles.placeholder.text()
    after = json.loads(saved.path.read_text())
    assert after["lines"] == json.loads(before)["lines"]  # the saved session was not extended
    assert after["closed"] is True  # left for a new one: not offered on the next launch
    assert json.loads(before)["lines"][0]["text"] == "Go forward ten meters."


def test_overlay_says_when_it_is_not_listening_and_shows_click_through(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings(str(clip("chan3.wav"))))  # long enough to Stop mid-run
    c.show()
    c.set_overlay_visible(True)
    overlay = c.overlay
    assert "Not listening" in overlay.labels[1].text()
    assert not overlay.through_badge.isVisibleTo(overlay)
    c.window.act_click_through.trigger()
    assert overlay.click_through and overlay.through_badge.isVisibleTo(overlay)
    assert c.start()
    assert "Listening" in overlay.labels[1].text() and "Not" not in overlay.labels[1].text()
    wait_until(lambda: overlay.text_lines() != [], 120, "a caption on the overlay")
    assert c.running
    c.stop()
    wait_until(lambda: c.state == IDLE, 120, "the run to stop")
    assert overlay.text_lines() == []  # no old captions after Stop
    assert "Not listening" in overlay.labels[1].text()
    assert c.session.lines()  # the transcript keeps them


def test_each_line_shows_its_detected_language(make_controller) -> None:  # noqa: ANN001
    """Issue 12, defect 10: the language a line was recognised in is shown as a small tag."""
    c = make_controller(app_settings())
    c.show()
    c.session.apply(Final(1, 0.0, 2.0, "Guten Morgen zusammen.", "de", StageTimes(), "S1"))
    c.session.apply(Final(2, 2.0, 4.0, "Good morning.", "en", StageTimes(), "S2"))
    c.window.show_lines(c.session.lines())
    view = c.window.subtitles
    assert [view.row_state(i).lang for i in (1, 2)] == ["DE", "EN"]


def test_find_in_transcript(make_controller) -> None:  # noqa: ANN001
    """Meeting users' request (issue 12): search in the transcript (Ctrl+F, Enter for the next
    match, in the original or the translation)."""
    c = make_controller(app_settings())
    c.show()
    for i, text in enumerate(("Good morning.", "Go forward ten meters.", "Go on, please.")):
        c.session.apply(Final(i + 1, 2.0 * i, 2.0 * i + 1.5, text, "en", StageTimes(), "S1"))
    c.window.show_lines(c.session.lines())
    win, view = c.window, c.window.subtitles
    assert [k.toString() for k in win.act_find.shortcuts()] == ["Ctrl+F"]
    win.act_find.trigger()
    assert win.find_box.isVisibleTo(win)
    win.find_box.setText("FORWARD")
    assert view.currentIndex().row() == 1
    win.find_box.setText("go ")
    assert view.currentIndex().row() == 1
    win.find_box.returnPressed.emit()  # the next match
    assert view.currentIndex().row() == 2
    win.find_box.returnPressed.emit()  # wraps around
    assert view.currentIndex().row() == 1
    win.find_box.setText("nowhere")
    assert view.currentIndex().row() == 1 and "color" in win.find_box.styleSheet()
