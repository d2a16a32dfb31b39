"""The transcript view and the caption overlay on their own (display logic, no engine):
per-speaker colours and labels, dimmed partials replaced in place, the original / translation /
both toggle, the inline rename editor, and the overlay's last two lines and click-through."""

from __future__ import annotations

import os

import pytest
from gui_helpers import wait_until
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app import theme
from app.overlay import CaptionOverlay
from app.subtitle_view import SubtitleView
from engine.session import SessionLine


@pytest.fixture
def view(themed_app: object):  # noqa: ANN201
    v = SubtitleView(theme.SpeakerColors())
    v.resize(700, 400)
    v.show()
    QApplication.processEvents()
    yield v
    v.close()
    v.deleteLater()


def line(
    sid: int,
    text: str,
    speaker: str | None = "S1",
    *,
    final: bool = True,
    translation: str | None = None,
    start: float | None = None,
) -> SessionLine:
    start = float(sid * 3) if start is None else start
    return SessionLine(
        sid,
        start,
        start + 2.0,
        text,
        speaker,
        "en",
        final,
        translation,
        "pt" if translation else None,
    )


def test_partial_is_dimmed_and_replaced_in_place(view: SubtitleView) -> None:
    view.upsert(line(1, "go forward", final=False))
    row = view.row_state(1)
    assert view.row_count() == 1 and row.live and row.dimmed and row.original == "go forward"
    view.upsert(line(1, "go forward ten meters"))
    row = view.row_state(1)
    assert view.row_count() == 1
    assert row.original == "go forward ten meters" and not row.live and not row.dimmed


def test_speakers_get_their_own_colour_and_label(view: SubtitleView) -> None:
    view.upsert(line(1, "hello", "S1"))
    view.upsert(line(2, "and more", "S1"))
    view.upsert(line(3, "hi there", "S2"))
    rows = [view.row_state(i) for i in (1, 2, 3)]
    assert [r.speaker for r in rows] == ["S1", "S1", "S2"]
    assert [r.header_visible for r in rows] == [True, False, True]  # same speaker continues
    assert rows[0].color == rows[1].color != rows[2].color
    # lines are ordered by time even when they arrive out of order
    view.upsert(line(4, "early", "S2", start=0.5))
    model = view.model_
    assert [model.line_at(r).segment_id for r in range(4)] == [4, 1, 2, 3]
    assert view.row_state(1).header_visible  # S1 follows S2 now


def test_original_translation_both_toggle(view: SubtitleView) -> None:
    view.upsert(line(1, "good morning", translation="bom dia"))
    view.upsert(line(2, "untranslated yet"))
    view.set_mode("both")
    r1, r2 = view.row_state(1), view.row_state(2)
    assert r1.original_visible and r1.translation_visible and r1.translation == "bom dia"
    view.set_mode("translation")
    r1, r2 = view.row_state(1), view.row_state(2)
    assert not r1.original_visible and r1.translation_visible
    assert r2.original_visible  # nothing to translate yet: keep the original
    view.set_mode("original")
    r1 = view.row_state(1)
    assert r1.original_visible and not r1.translation_visible


def test_click_label_to_rename_escape_cancels(view: SubtitleView) -> None:
    got: list[tuple[object, str]] = []
    view.rename_requested.connect(lambda old, new: got.append((old, new)))
    view.upsert(line(1, "hello", "S1"))
    view.upsert(line(2, "more", "S1"))
    QApplication.processEvents()
    # the text is not a rename target, the name is
    text_pos = view.visualRect(view.model_.index(1)).center()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=text_pos)
    assert not view.editor.isVisible()
    name = view.speaker_rect(1)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=name.center())
    assert view.editor.isVisible() and view.editor.text() == "S1"
    QTest.keyClicks(view.editor, "Nobody")
    QTest.keyClick(view.editor, Qt.Key.Key_Escape)
    assert got == [] and not view.editor.isVisible()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=name.center())
    view.editor.selectAll()
    QTest.keyClicks(view.editor, "Maria")
    QTest.keyClick(view.editor, Qt.Key.Key_Return)
    assert got == [("S1", "Maria")]


def test_long_meeting_stays_quick(view: SubtitleView) -> None:
    """1,000 lines: a partial update of the last line still costs only milliseconds."""
    import time

    for i in range(1000):
        text = f"sentence {i} of a long meeting with enough words to wrap"
        view.upsert(line(i, text, f"S{i % 3}", translation=f"frase {i}"))
    QApplication.processEvents()
    costs = []
    for k in range(10):
        t0 = time.perf_counter()
        view.upsert(line(1000, "growing partial " * (k + 1), "S1", final=False))
        QApplication.processEvents()
        costs.append(time.perf_counter() - t0)
    print(f"\npartial update with 1000 lines: max {max(costs) * 1000:.0f} ms")
    assert view.row_count() == 1001 and view.row_state(1000).live


def test_overlay_shows_last_two_lines_in_speaker_colour(themed_app: object) -> None:
    colors = theme.SpeakerColors()
    overlay = CaptionOverlay(colors, font_size=24)
    try:
        overlay.show()
        assert overlay.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
        assert overlay.windowFlags() & Qt.WindowType.FramelessWindowHint
        assert overlay.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        lines = [
            line(1, "one"),
            line(2, "two", "S2", translation="dois"),
            line(3, "three", "S1", final=False),
        ]
        overlay.set_lines(lines)
        assert overlay.text_lines() == ["dois", "three"]  # mode "both": translation if any
        assert colors.color("S2") in overlay.labels[0].text()
        overlay.set_mode("original")
        assert overlay.text_lines() == ["two", "three"]
        overlay.set_font_size(30)
        assert "font-size:30px" in overlay.labels[1].text()
        overlay.set_click_through(True)
        assert overlay.isVisible()
        assert overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
        overlay.set_click_through(False)
        assert not overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
    finally:
        overlay.close()
        overlay.deleteLater()


def test_render_for_review(view: SubtitleView, tmp_path) -> None:  # noqa: ANN001
    """Renders a two-speaker transcript with translations (kept only when asked for)."""
    view.upsert(
        line(
            1,
            "Good morning everyone, shall we start?",
            "Alice",
            translation="Bom dia a todos, vamos começar?",
        )
    )
    view.upsert(
        line(
            2,
            "Yes. The first item is the budget.",
            "Bob",
            translation="Sim. O primeiro item é o orçamento.",
        )
    )
    view.upsert(line(3, "We spent less than planned", "Bob", final=False))
    image = view.grab()
    assert image.width() > 0
    target = os.environ.get("DRAGOMAN_REVIEW_DIR")
    if target:
        image.save(os.path.join(target, "subtitle-view.png"))


def test_overlay_moves_by_dragging_and_resizes_by_its_grip(themed_app: object) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QMouseEvent

    colors = theme.SpeakerColors()
    overlay = CaptionOverlay(colors)
    moved: list[object] = []
    overlay.geometry_changed.connect(moved.append)
    try:
        overlay.setGeometry(100, 100, 500, 120)
        overlay.show()
        QApplication.processEvents()
        start = overlay.pos()

        def send(kind: QMouseEvent.Type, local: QPoint, buttons: Qt.MouseButton) -> None:
            global_pos = overlay.mapToGlobal(local)
            event = QMouseEvent(
                kind,
                local,
                global_pos,
                Qt.MouseButton.LeftButton,
                buttons,
                Qt.KeyboardModifier.NoModifier,
            )
            QApplication.sendEvent(overlay, event)

        left = Qt.MouseButton.LeftButton
        send(QMouseEvent.Type.MouseButtonPress, QPoint(50, 50), left)
        send(QMouseEvent.Type.MouseMove, QPoint(90, 20), left)
        send(QMouseEvent.Type.MouseButtonRelease, QPoint(90, 20), Qt.MouseButton.NoButton)
        QApplication.processEvents()
        assert overlay.pos() - start == QPoint(40, -30)
        overlay.resize(640, 150)  # what the corner grip does
        wait_until(lambda: bool(moved), 3, "the geometry to be reported for saving")
        assert moved[-1].size().width() == 640
        assert not overlay.grip.isHidden()
    finally:
        overlay.close()
        overlay.deleteLater()


def test_an_unknown_speaker_is_said_plainly_and_is_nobody(view: SubtitleView) -> None:
    """A final line whose voice was not recognised reads "Unknown speaker" in the neutral
    colour and shows its label even after another unknown line. Clicking it asks who said that
    one line (renaming "unknown" would give one name to different people)."""
    view.upsert(line(1, "We start with the report.", "S1"))
    view.upsert(line(2, "Yes.", None))
    view.upsert(line(3, "Okay.", None))
    QApplication.processEvents()
    known, first, second = (view.row_state(i) for i in (1, 2, 3))
    assert first.speaker == second.speaker == "Unknown speaker"
    assert first.color == second.color == theme.TEXT_DIM != known.color
    assert first.color not in theme.SPEAKER_COLORS
    assert first.header_visible and second.header_visible
    given: list[tuple[int, str]] = []
    renamed: list[tuple[object, str]] = []
    view.speaker_given.connect(lambda sid, name: given.append((sid, name)))
    view.rename_requested.connect(lambda old, new: renamed.append((old, new)))
    assert view.begin_rename(2)
    assert view.editor.text() == "" and view.editor.placeholderText() == "Who said this?"
    completer = view.editor.completer()
    assert completer is not None and completer.model().data(completer.model().index(0, 0)) == "S1"
    QTest.keyClicks(view.editor, "S1")
    QTest.keyClick(view.editor, Qt.Key.Key_Return)
    assert given == [(2, "S1")] and renamed == []
    assert view.begin_rename(1) and view.editor.completer() is None
