"""Issue 8, revisions in the window: a `FinalRevised` from the engine replaces its line's text in
place (same row, speaker and time, selection and scroll position kept, a small mark), the new
`Translation` replaces the translation, the overlay follows only while the line is on it, and
the session file saves the revised text.

The engine side is the revisions engineer's; here real event objects enter the worker where
engine threads hand them over (`_on_event`, called from a plain thread), so what is tested is the
GUI contract: worker signal, controller, session, transcript view and overlay.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest
import soundfile as sf
from gui_helpers import app_settings, wait_until
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from app.worker import IDLE
from bench import corpus
from engine.events import Final, FinalRevised, StageTimes, Translation

T = StageTimes()


def _final(sid: int, text: str) -> Final:
    return Final(sid, 3.0 * sid, 3.0 * sid + 2.0, text, "en", T, f"S{sid % 2 + 1}")


def _translation(sid: int, source: str, text: str) -> Translation:
    return Translation(sid, 3.0 * sid, 3.0 * sid + 2.0, source, "en", text, "de", None, "m", {}, T)


def _revised(sid: int, text: str, previous: str) -> FinalRevised:
    return FinalRevised(sid, 3.0 * sid, 3.0 * sid + 2.0, text, previous, "en", T, None, 1)


def _settle(seconds: float = 0.2) -> None:
    """Let queued layouts and scrolls run."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)


def _from_engine_thread(worker, events) -> None:  # noqa: ANN001
    """Hand events to the worker as the engine does: from a thread of its own."""
    thread = threading.Thread(target=lambda: [worker._on_event(e) for e in events])
    thread.start()
    thread.join()


def test_a_revision_replaces_the_line_in_place(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    c.overlay.set_mode("original")
    view = c.window.subtitles
    n = 30
    events: list[object] = []
    for sid in range(n):
        text = f"Sentence number {sid} as first heard."
        events += [_final(sid, text), _translation(sid, text, f"Satz {sid}.")]
    heard: list[FinalRevised] = []
    c.worker.revised.connect(heard.append)
    _from_engine_thread(c.worker, events)
    wait_until(lambda: view.row_count() == n and view.row_state(n - 1).translation, 10, "lines")
    _settle()
    # the reader scrolled up and selected a line
    view.verticalScrollBar().setValue(0)
    view.setCurrentIndex(view.model_.index(5))
    _settle()
    scroll = view.verticalScrollBar().value()
    assert scroll < view.verticalScrollBar().maximum() and not view._follow
    before = view.row_state(5)
    assert before is not None and not before.revised

    revised_text = "Sentence number five, now heard with its whole paragraph."
    _from_engine_thread(
        c.worker,
        [
            _revised(5, revised_text, "Sentence number 5 as first heard."),
            _translation(5, revised_text, "Satz fünf, mit dem ganzen Absatz gehört."),
        ],
    )
    wait_until(lambda: "fünf" in view.row_state(5).translation, 10, "the new translation")
    _settle()
    after = view.row_state(5)
    assert after.original == revised_text and after.revised
    assert (after.speaker, after.color, after.lang) == (before.speaker, before.color, before.lang)
    assert view.row_count() == n  # replaced, not added
    assert view.model_.line_at(5).start == 15.0  # same time, same place
    assert [i.row() for i in view.selectionModel().selectedIndexes()] == [5]
    assert view.verticalScrollBar().value() == scroll
    assert len(heard) == 1 and heard[0].text == revised_text  # a typed worker signal
    # the overlay shows the last two lines; a revision of an older line leaves it alone
    assert revised_text not in " ".join(c.overlay.text_lines())
    c.session.flush()
    saved = {ln["segment_id"]: ln for ln in json.loads(c.session.path.read_text())["lines"]}
    assert saved[5]["text"] == revised_text and saved[5]["revision"] == 1
    assert saved[5]["translation"] == "Satz fünf, mit dem ganzen Absatz gehört."
    assert saved[4]["text"] == "Sentence number 4 as first heard."


def test_a_longer_revision_above_the_view_does_not_move_what_is_read(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    view = c.window.subtitles
    n = 40
    _from_engine_thread(c.worker, [_final(sid, f"Line {sid}.") for sid in range(n)])
    wait_until(lambda: view.row_count() == n, 10, "lines")
    _settle()
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)  # reading in the middle
    _settle()
    top = view.indexAt(view.viewport().rect().topLeft() + QPoint(100, 2)).row()
    offset = view.visualRect(view.model_.index(top)).top()
    assert top > 3 and not view._follow
    longer = " ".join(["A much longer revised line that wraps over several rows."] * 6)
    _from_engine_thread(c.worker, [_revised(1, longer, "Line 1.")])
    wait_until(lambda: view.row_state(1).original == longer, 10, "the revision")
    _settle()
    assert view.indexAt(view.viewport().rect().topLeft() + QPoint(100, 2)).row() == top
    assert view.visualRect(view.model_.index(top)).top() == offset
    assert view.row_count() == n


def test_the_overlay_shows_a_revision_of_a_line_it_shows(make_controller) -> None:  # noqa: ANN001
    c = make_controller(app_settings())
    c.show()
    c.set_overlay_visible(True)
    c.overlay.set_mode("original")
    _from_engine_thread(c.worker, [_final(0, "Fail again."), _final(1, "They'll better.")])
    wait_until(lambda: len(c.overlay.text_lines()) == 2, 10, "two captions")
    _from_engine_thread(c.worker, [_revised(1, "Fail better.", "They'll better.")])
    wait_until(lambda: "Fail better." in " ".join(c.overlay.text_lines()), 10, "the revision")
    assert "They'll better." not in " ".join(c.overlay.text_lines())
    # after Stop the overlay is cleared: a late revision does not bring old captions back
    c.overlay.set_lines([])
    _from_engine_thread(c.worker, [_revised(1, "Fail better!", "Fail better.")])
    wait_until(lambda: c.window.subtitles.row_state(1).original == "Fail better!", 10, "it")
    assert c.overlay.text_lines() == []


@pytest.mark.slow
def test_a_real_revision_replaces_its_row(make_controller, tmp_path: Path) -> None:  # noqa: ANN001
    """The real engine on Piper commands 1.5 s apart: "Try again." alone comes back wrong and
    is revised with "Fail better." as context (tests/integration/test_revisions.py); in the
    window its row changes in place and no row is added."""
    timeline = corpus.build_timeline("commands", corpus.piper(corpus.COMMANDS, "cmd"), 1.5)
    wav = tmp_path / "commands.wav"
    sf.write(wav, timeline.audio, 16000)
    settings = app_settings()
    settings.ui.source = str(wav)
    settings.ui.realtime_files = False
    settings.engine = dataclasses.replace(
        settings.engine,
        asr=dataclasses.replace(settings.engine.asr, language="en"),
    )
    c = make_controller(settings)
    c.show()
    revised: list[FinalRevised] = []
    finals: list[Final] = []
    c.worker.revised.connect(revised.append)
    c.worker.final.connect(finals.append)
    assert c.start()
    wait_until(lambda: c.state != IDLE, 30, "the run to start")
    wait_until(lambda: c.state == IDLE, 180, "the run to end")
    _settle()
    view = c.window.subtitles
    assert len(finals) == len(corpus.COMMANDS) and revised, [f.text for f in finals]
    assert view.row_count() == len(finals)  # revisions replaced rows, added none
    for rev in revised:
        state = view.row_state(rev.segment_id)
        assert state is not None and state.original == rev.text and state.revised
        first = next(f for f in finals if f.segment_id == rev.segment_id)
        assert first.text != rev.text and view.model_.line_at(
            view.model_.row_of(rev.segment_id)
        ).start == pytest.approx(first.start)
    assert "Try again." in [r.text for r in revised]
    assert c.session.flush()
    saved = json.loads(c.session.path.read_text())
    texts = [ln["text"] for ln in saved["lines"]]
    assert texts == [view.model_.line_at(i).text for i in range(view.row_count())]
