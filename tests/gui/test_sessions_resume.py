"""Issue 12, defect 8: the last session is offered on launch (a banner, never a modal), and a
reopened session shows every speaker in the colour it had."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gui_helpers import app_settings, clip, wait_until
from PySide6.QtWidgets import QApplication, QMessageBox

from app.worker import IDLE
from engine.events import Final, StageTimes
from engine.session import Session, last_session


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sessions folder of this test's own (what earlier tests saved is not "the last")."""
    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path / "home"))


def _final(sid: int, start: float, text: str, speaker: str) -> Final:
    return Final(sid, start, start + 1.5, text, "en", StageTimes(), speaker)


def _saved_session(lines: int = 3) -> Session:
    """A session written as the app writes one (autosaved, closed at quit)."""
    session = Session.new_autosaved()
    for i in range(lines):
        session.apply(_final(i, 2.0 * i, f"Line number {i}.", f"S{i % 3 + 1}"))
    session.close()
    return session


def test_the_last_session_is_offered_in_a_banner_and_opens(make_controller, monkeypatch) -> None:  # noqa: ANN001
    saved = _saved_session(4)
    modal: list[object] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: modal.append(box) or 0)
    c = make_controller(app_settings())
    c.show()
    banner = c.window.offer_banner
    assert banner.isVisible() and not modal  # offered, without a modal dialog
    assert "Continue the last session" in banner.message.text()
    assert "4 lines" in banner.message.text()
    assert c.session.path != saved.path and c.window.subtitles.row_count() == 0
    banner.action_button.click()
    assert c.session.path == saved.path
    assert c.window.subtitles.row_count() == 4 and not banner.isVisible()
    assert not modal
    # "Continue" was the answer: Start adds to it without asking again
    c.devices.set_source(str(clip("goforward.wav")))
    assert c.start() and not modal
    wait_until(lambda: c.state == IDLE and len(c.session) > 4, 120, "the clip's line")
    assert c.session.path == saved.path and not modal


def test_a_dismissed_or_left_session_is_not_offered_again(make_controller) -> None:  # noqa: ANN001
    saved = _saved_session()
    c = make_controller(app_settings())
    c.show()
    assert c.window.offer_banner.isVisible()
    c.window.offer_banner.dismiss.click()
    assert not c.window.offer_banner.isVisible()
    assert json.loads(saved.path.read_text())["closed"] is True
    assert last_session() is None
    again = make_controller(app_settings())
    again.show()
    assert not again.window.offer_banner.isVisible()
    # a session the user left for a new one is not offered either
    again.open_session(saved.path)
    assert again.session.path == saved.path
    again.sessions.new_session()
    assert json.loads(saved.path.read_text())["closed"] is True
    assert last_session() is None


def test_a_session_left_running_at_quit_is_offered(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    for i in range(2):
        c.sessions.on_line_event(_final(i, 2.0 * i, f"Said {i}.", "S1"))
    path = c.session.path
    c.shutdown()  # quit (not New, not Open): the next launch offers it
    offered = last_session()
    assert offered is not None and offered.path == path and offered.lines == 2


def test_a_reopened_session_keeps_every_speaker_colour(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    view = c.window.subtitles
    lines = [("S1", "Good morning."), ("S2", "Hello."), ("S1", "Shall we?"), ("S3", "Yes.")]
    lines += [("S2", "Fine."), ("S3", "Go on.")]
    for i, (speaker, text) in enumerate(lines):
        c.sessions.on_line_event(_final(i, 2.0 * i, text, speaker))
        QApplication.processEvents()
    c.rename_speaker("S2", "Alice")
    before = {view.row_state(i).speaker: view.row_state(i).color for i in range(len(lines))}
    assert len(set(before.values())) == 3 and "Alice" in before
    path = c.session.path
    c.sessions.new_session()  # leave it, then come back to it
    assert c.open_session(path)
    QApplication.processEvents()
    after = {view.row_state(i).speaker: view.row_state(i).color for i in range(len(lines))}
    assert after == before
    overlay = c.overlay.text_lines()
    assert overlay  # the overlay shows the last lines in the same colours
    # and a new speaker in the reopened session gets a colour none of them has
    c.sessions.on_line_event(_final(50, 100.0, "I am new here.", "S4"))
    assert view.row_state(50).color not in before.values()
