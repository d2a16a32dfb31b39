"""The transcript view and the caption overlay on their own (display logic, no engine):
per-speaker colours and labels, dimmed partials replaced in place, the original / translation /
both toggle, the inline rename editor, and the overlay's last two lines and click-through."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app import theme
from app.overlay import CaptionOverlay
from app.subtitle_view import SubtitleView
from engine.session import SessionLine


@pytest.fixture
def view(themed_app: object):  # noqa: ANN201
    v = SubtitleView(theme.SpeakerColors())
    v.resize(700, 400)
    v.show()
    yield v
    v.close()
    v.deleteLater()


def line(sid: int, text: str, speaker: str | None = "S1", *, final: bool = True,
         translation: str | None = None, start: float | None = None) -> SessionLine:
    start = float(sid * 3) if start is None else start
    return SessionLine(sid, start, start + 2.0, text, speaker, "en", final, translation,
                       "pt" if translation else None)


def test_partial_is_dimmed_and_replaced_in_place(view: SubtitleView) -> None:
    view.upsert(line(1, "go forward", final=False))
    row = view.row(1)
    assert view.row_count() == 1 and not row.live.isHidden()
    assert theme.TEXT_DIM in row.original.styleSheet()
    view.upsert(line(1, "go forward ten meters"))
    assert view.row_count() == 1 and view.row(1) is row
    assert row.original.text() == "go forward ten meters" and row.live.isHidden()
    assert theme.TEXT_DIM not in row.original.styleSheet()


def test_speakers_get_their_own_colour_and_label(view: SubtitleView) -> None:
    view.upsert(line(1, "hello", "S1"))
    view.upsert(line(2, "and more", "S1"))
    view.upsert(line(3, "hi there", "S2"))
    rows = view.rows()
    assert [r.chip.button.text() for r in rows] == ["S1", "S1", "S2"]
    assert not rows[0].chip.isHidden() and rows[1].chip.isHidden()  # same speaker continues
    assert not rows[2].chip.isHidden()
    c1, c2 = view.colors.color("S1"), view.colors.color("S2")
    assert c1 != c2 and c1 in rows[0].bar.styleSheet() and c2 in rows[2].bar.styleSheet()
    # lines are ordered by time even when they arrive out of order
    view.upsert(line(4, "early", "S2", start=0.5))
    assert [r.line.segment_id for r in view.rows()] == [4, 1, 2, 3]


def test_original_translation_both_toggle(view: SubtitleView) -> None:
    view.upsert(line(1, "good morning", translation="bom dia"))
    view.upsert(line(2, "untranslated yet"))
    r1, r2 = view.row(1), view.row(2)
    view.set_mode("both")
    assert not r1.original.isHidden() and not r1.translation.isHidden()
    assert r1.translation.text() == "bom dia"
    view.set_mode("translation")
    assert r1.original.isHidden() and not r1.translation.isHidden()
    assert not r2.original.isHidden()  # nothing to translate yet: keep the original
    view.set_mode("original")
    assert not r1.original.isHidden() and r1.translation.isHidden()


def test_click_label_to_rename_escape_cancels(view: SubtitleView) -> None:
    got: list[tuple[object, str]] = []
    view.rename_requested.connect(lambda old, new: got.append((old, new)))
    view.upsert(line(1, "hello", "S1"))
    chip = view.row(1).chip
    QTest.mouseClick(chip.button, Qt.MouseButton.LeftButton)
    QTest.keyClicks(chip.edit, "Nobody")
    QTest.keyClick(chip.edit, Qt.Key.Key_Escape)
    assert got == [] and chip.edit.isHidden() and not chip.button.isHidden()
    QTest.mouseClick(chip.button, Qt.MouseButton.LeftButton)
    chip.edit.selectAll()
    QTest.keyClicks(chip.edit, "Maria")
    QTest.keyClick(chip.edit, Qt.Key.Key_Return)
    assert got == [("S1", "Maria")]


def test_overlay_shows_last_two_lines_in_speaker_colour(themed_app: object) -> None:
    colors = theme.SpeakerColors()
    overlay = CaptionOverlay(colors, font_size=24)
    try:
        overlay.show()
        assert overlay.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
        assert overlay.windowFlags() & Qt.WindowType.FramelessWindowHint
        assert overlay.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        lines = [line(1, "one"), line(2, "two", "S2", translation="dois"),
                 line(3, "three", "S1", final=False)]
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
    view.upsert(line(1, "Good morning everyone, shall we start?", "Alice",
                     translation="Bom dia a todos, vamos começar?"))
    view.upsert(line(2, "Yes. The first item is the budget.", "Bob",
                     translation="Sim. O primeiro item é o orçamento."))
    view.upsert(line(3, "We spent less than planned", "Bob", final=False))
    image = view.grab()
    assert image.width() > 0
    target = os.environ.get("DRAGOMAN_REVIEW_DIR")
    if target:
        image.save(os.path.join(target, "subtitle-view.png"))
