"""The live transcript: one row per utterance, coloured and labelled by speaker.

A row shows the speaker label (click to rename), the original text (dimmed while it is a partial
hypothesis, replaced in place as it grows, solid once final) and the translation beneath it.
The view follows new lines unless the user has scrolled up to read.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import theme
from engine.session import SessionLine

DEFAULT_SPEAKER = "Speaker"


def _clock(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class SpeakerChip(QWidget):
    """Speaker name that turns into a line edit when clicked; emits (old, new) on Enter."""

    renamed = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name: str | None = None
        self.button = QToolButton(self)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.setAutoRaise(True)
        self.button.setToolTip("Click to rename this speaker")
        self.button.clicked.connect(self.begin_edit)
        self.edit = QLineEdit(self)
        self.edit.setAccessibleName("Speaker name")
        self.edit.setPlaceholderText("Name")
        self.edit.setMaxLength(40)
        self.edit.hide()
        self.edit.installEventFilter(self)
        self.edit.editingFinished.connect(self._commit)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.button)
        lay.addWidget(self.edit)

    def set_speaker(self, name: str | None, color: str) -> None:
        self._name = name
        shown = name or DEFAULT_SPEAKER
        self.button.setText(shown)
        self.button.setAccessibleName(f"Speaker {shown}, click to rename")
        self.button.setStyleSheet(
            f"QToolButton {{ color: {color}; font-weight: 600; border: none; padding: 0px;"
            f" margin: 0px; }}"
            f"QToolButton:hover {{ text-decoration: underline; }}"
        )

    def begin_edit(self) -> None:
        self.edit.setText(self._name or "")
        self.edit.setMinimumWidth(max(self.button.sizeHint().width() + 40, 140))
        self.button.hide()
        self.edit.show()
        self.edit.setFocus(Qt.FocusReason.MouseFocusReason)
        self.edit.selectAll()

    def _end_edit(self) -> None:
        self.edit.hide()
        self.button.show()

    def _commit(self) -> None:
        if not self.edit.isVisible():
            return
        new = self.edit.text().strip()
        self._end_edit()
        if new and new != (self._name or ""):
            self.renamed.emit(self._name, new)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if (
            obj is self.edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self._end_edit()
            return True
        return super().eventFilter(obj, event)


class LineRow(QFrame):
    """One utterance."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lineRow")
        self.bar = QFrame(self)
        self.bar.setFixedWidth(4)
        self.chip = SpeakerChip(self)
        self.time = QLabel(self)
        self.time.setFixedWidth(52)
        self.time.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.time.setStyleSheet(f"color: {theme.TEXT_DIM}; font-size: 12px; padding-top: 5px;")
        self.live = QLabel("live", self)
        self.live.setStyleSheet(
            f"color: {theme.TEXT_DIM}; border: 1px solid #3a3f48; border-radius: 7px;"
            "padding: 0 6px; font-size: 11px;"
        )
        self.original = QLabel(self)
        self.translation = QLabel(self)
        for label in (self.original, self.translation):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.header = QWidget(self)
        head = QHBoxLayout(self.header)
        head.setContentsMargins(0, 0, 0, 0)
        head.setSpacing(8)
        head.addWidget(self.chip)
        head.addWidget(self.live)
        head.addStretch(1)
        body = QVBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(2)
        body.addWidget(self.header)
        body.addWidget(self.original)
        body.addWidget(self.translation)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 16, 4)
        lay.setSpacing(12)
        lay.addWidget(self.time, 0, Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.bar)
        lay.addLayout(body, 1)
        self.line: SessionLine | None = None

    def show_line(self, line: SessionLine, color: str, mode: str, font_px: int) -> None:
        self.line = line
        self.chip.set_speaker(line.speaker, color)
        self.bar.setStyleSheet(f"background: {color}; border-radius: 2px;")
        self.time.setText(_clock(line.start))
        self.live.setVisible(not line.final)
        dim = theme.TEXT_DIM if not line.final else theme.TEXT
        show_original = mode in ("original", "both") or not line.translation
        self.original.setVisible(show_original and bool(line.text))
        self.original.setText(line.text)
        self.original.setStyleSheet(f"color: {dim}; font-size: {font_px}px;")
        self.original.setAccessibleName(f"{line.speaker or DEFAULT_SPEAKER} said")
        show_tr = mode in ("translation", "both") and bool(line.translation)
        self.translation.setVisible(show_tr)
        self.translation.setText(line.translation or "")
        tr_px = font_px if mode == "translation" else max(font_px - 1, 9)
        self.translation.setStyleSheet(f"color: {theme.TRANSLATION}; font-size: {tr_px}px;")
        self.translation.setAccessibleName("Translation")


class SubtitleView(QScrollArea):
    """Rows keyed by segment id, ordered by start time."""

    rename_requested = Signal(object, str)  # old name (None = unlabelled), new name

    def __init__(self, colors: theme.SpeakerColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("subtitleView")
        self.setAccessibleName("Live transcript")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.colors = colors
        self.mode = "both"
        self.font_px = 17
        self._rows: dict[int, LineRow] = {}
        self._order: list[tuple[float, int]] = []
        self._follow = True
        canvas = QWidget()
        canvas.setObjectName("subtitleCanvas")
        self._layout = QVBoxLayout(canvas)
        self._layout.setContentsMargins(0, 10, 0, 10)
        self._layout.setSpacing(6)
        self.placeholder = QLabel(canvas)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet(f"color: {theme.TEXT_DIM}; font-size: 15px;")
        self._layout.addWidget(self.placeholder, 1)
        self._layout.addStretch(0)
        self.setWidget(canvas)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range)
        bar.valueChanged.connect(self._on_scroll)

    # ------------------------------------------------------------------ API
    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)

    def row_count(self) -> int:
        return len(self._rows)

    def row(self, segment_id: int) -> LineRow | None:
        return self._rows.get(segment_id)

    def rows(self) -> list[LineRow]:
        return [self._rows[sid] for _, sid in self._order]

    def upsert(self, line: SessionLine) -> None:
        row = self._rows.get(line.segment_id)
        if row is None:
            row = LineRow(self.widget())
            row.chip.renamed.connect(self.rename_requested)
            key = (line.start, line.segment_id)
            index = bisect.bisect(self._order, key)
            self._order.insert(index, key)
            self._rows[line.segment_id] = row
            self._layout.insertWidget(index, row)
            row.show()  # at once, not on the next event-loop turn
            self.placeholder.hide()
            self._layout.setStretch(self._layout.count() - 1, 1)
        row.show_line(line, self.colors.color(line.speaker), self.mode, self.font_px)
        self._update_headers(line.segment_id)

    def set_lines(self, lines: list[SessionLine]) -> None:
        for line in lines:
            self.upsert(line)

    def refresh(self) -> None:
        for row in self._rows.values():
            if row.line is not None:
                row.show_line(row.line, self.colors.color(row.line.speaker), self.mode,
                              self.font_px)
        self._update_headers(None)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.refresh()

    def set_font_px(self, px: int) -> None:
        self.font_px = max(10, min(px, 40))
        self.refresh()

    def clear(self) -> None:
        for row in self._rows.values():
            row.deleteLater()
        self._rows.clear()
        self._order.clear()
        self.placeholder.show()
        self._layout.setStretch(self._layout.count() - 1, 0)
        self._follow = True

    # ------------------------------------------------------------------ internals
    def _update_headers(self, segment_id: int | None) -> None:
        """Show the speaker header only when the speaker changes (chat-style runs)."""
        rows = self.rows()
        if segment_id is None:
            indexes = range(len(rows))
        else:
            i = next(i for i, r in enumerate(rows) if r is self._rows[segment_id])
            indexes = range(i, min(i + 2, len(rows)))
        for i in indexes:
            cur = rows[i].line
            prev = rows[i - 1].line if i > 0 else None
            same = prev is not None and cur is not None and prev.speaker == cur.speaker
            continuing = same and cur.start - prev.end < 30.0  # type: ignore[union-attr]
            rows[i].chip.setVisible(not continuing)
            rows[i].header.setVisible(not continuing or not cur.final)  # type: ignore[union-attr]

    def _on_scroll(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _on_range(self, _min: int, maximum: int) -> None:
        if self._follow:
            QTimer.singleShot(0, lambda: self.verticalScrollBar().setValue(
                self.verticalScrollBar().maximum()))

    def scroll_to_end(self) -> None:
        self._follow = True
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())


def make_font(px: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font
