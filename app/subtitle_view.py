"""The live transcript: one row per utterance, coloured and labelled by speaker.

A row shows the time, a bar in the speaker's colour, the speaker's name (click it to rename the
speaker), the original text (dimmed while it is a partial hypothesis, replaced in place as it
grows, solid once final) and the translation beneath it. The view follows new lines unless the
user has scrolled up to read.

Model/view with a painting delegate, so a meeting of thousands of lines stays as quick as the
first minute: only visible rows are painted and row heights are cached per width.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app import theme
from engine.session import SessionLine

# A final line whose voice the engine could not tell (too short, unlike everyone heard so far):
# said plainly, in a neutral colour, never as if it were one more person.
UNKNOWN_SPEAKER = "Unknown speaker"
UNKNOWN_TIP = "Speaker not recognised: the line was too short or unlike the voices heard so far"
REVISED_MARK = "✎"  # beside the time of a line a revision corrected
LINE_ROLE = Qt.ItemDataRole.UserRole + 1
HEADER_ROLE = Qt.ItemDataRole.UserRole + 2

GUTTER = 68  # language tag and time column
BAR_X = 76
BAR_W = 4
TEXT_X = 92
RIGHT = 18
PAD_Y = 7
GAP = 3


def _clock(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def speaker_name(line: SessionLine) -> str:
    if line.speaker is None and not line.final:
        return "…"  # the speaker is known only once the sentence is final
    return line.speaker or UNKNOWN_SPEAKER


def speaker_color(colors: theme.SpeakerColors, line: SessionLine) -> str:
    if line.speaker is None:
        return theme.TEXT_DIM  # no palette colour for "not known (yet)": it is nobody's
    return colors.color(line.speaker)


@dataclass(frozen=True)
class RowState:
    """What one row shows (for tests and accessibility)."""

    speaker: str
    color: str
    header_visible: bool
    original: str
    original_visible: bool
    translation: str
    translation_visible: bool
    live: bool
    dimmed: bool
    lang: str = ""  # the language tag shown (the detected language of the line)
    revised: bool = False  # the small "revised" mark beside the time


class TranscriptModel(QAbstractListModel):
    """Session lines ordered by (start, segment id); rows replaced in place by segment id."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lines: list[SessionLine] = []
        self._keys: list[tuple[float, int]] = []
        self._rows: dict[int, int] = {}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._lines)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        if role == LINE_ROLE:
            return line
        if role == HEADER_ROLE:
            return self.header_visible(index.row())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            text = f"{speaker_name(line)}: {line.text}"
            if line.translation:
                text += f" — {line.translation}"
            return text if line.final else text + " (still listening)"
        if role == Qt.ItemDataRole.ToolTipRole and not line.final:
            return "Still being recognised: this line may change"
        if role == Qt.ItemDataRole.ToolTipRole and line.speaker is None:
            return UNKNOWN_TIP
        if role == Qt.ItemDataRole.ToolTipRole and line.revision:
            return "Revised: heard again with the whole sentence, and corrected"
        return None

    def header_visible(self, row: int) -> bool:
        """Show the speaker name when the speaker changes, after a long pause, while live, or
        when it is not known (two unknown lines in a row need not be one person)."""
        line = self._lines[row]
        if row == 0 or not line.final or line.speaker is None:
            return True
        prev = self._lines[row - 1]
        return prev.speaker != line.speaker or line.start - prev.end > 30.0

    def row_of(self, segment_id: int) -> int | None:
        return self._rows.get(segment_id)

    def line_at(self, row: int) -> SessionLine:
        return self._lines[row]

    def upsert(self, line: SessionLine) -> int:
        row = self._rows.get(line.segment_id)
        if row is not None and self._keys[row] == (line.start, line.segment_id):
            self._lines[row] = line
            last = min(row + 1, len(self._lines) - 1)  # the next row's header may change
            self.dataChanged.emit(self.index(row), self.index(last))
            return row
        if row is not None:  # its start time moved: take it out and insert it again
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._lines[row]
            del self._keys[row]
            self.endRemoveRows()
            self._reindex(row)
        key = (line.start, line.segment_id)
        row = bisect.bisect(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._lines.insert(row, line)
        self._keys.insert(row, key)
        self.endInsertRows()
        self._reindex(row)
        if row + 1 < len(self._lines):
            self.dataChanged.emit(self.index(row + 1), self.index(row + 1))
        return row

    def reset(self, lines: list[SessionLine]) -> None:
        self.beginResetModel()
        self._lines = sorted(lines, key=lambda ln: (ln.start, ln.segment_id))
        self._keys = [(ln.start, ln.segment_id) for ln in self._lines]
        self._rows = {}
        self._reindex(0)
        self.endResetModel()

    def _reindex(self, start: int) -> None:
        for i in range(start, len(self._lines)):
            self._rows[self._lines[i].segment_id] = i
        live = {ln.segment_id for ln in self._lines}
        for sid in [s for s in self._rows if s not in live]:
            del self._rows[sid]


class LineDelegate(QStyledItemDelegate):
    """Paints one row and measures its height (cached per line and width)."""

    def __init__(self, view: SubtitleView) -> None:
        super().__init__(view)
        self.view = view
        self._cache: dict[tuple[int, int], tuple[SessionLine, bool, int]] = {}

    # -------------------------------------------------------------- fonts and geometry
    def fonts(self) -> tuple[QFont, QFont, QFont, QFont]:
        base = QFont(self.view.font())
        original = QFont(base)
        original.setPixelSize(self.view.font_px)
        translation = QFont(base)
        translation.setPixelSize(
            self.view.font_px if self.view.mode == "translation" else max(self.view.font_px - 1, 9)
        )
        header = QFont(base)
        header.setPixelSize(max(self.view.font_px - 3, 11))
        header.setBold(True)
        small = QFont(base)
        small.setPixelSize(12)
        return original, translation, header, small

    def parts(self, line: SessionLine) -> tuple[bool, bool]:
        mode = self.view.mode
        # a translation equal to the text (Whisper's own English, a same-language pair) once
        translated = bool(line.translation) and line.translation != line.text
        show_tr = mode in ("translation", "both") and translated
        show_orig = bool(line.text) and (mode in ("original", "both") or not translated)
        return show_orig, show_tr

    def layout(self, line: SessionLine, header: bool, width: int, top: int = 0) -> dict[str, QRect]:
        """Rectangles of the row's parts for a row `width` wide starting at y = `top`."""
        original_font, tr_font, header_font, _small = self.fonts()
        text_w = max(width - TEXT_X - RIGHT, 80)
        y = top + PAD_Y
        rects: dict[str, QRect] = {}
        if header:
            hm = QFontMetrics(header_font)
            name_w = hm.horizontalAdvance(speaker_name(line)) + 4
            rects["speaker"] = QRect(TEXT_X, y, name_w, hm.height())
            y += hm.height() + GAP
        show_orig, show_tr = self.parts(line)
        flags = int(Qt.TextFlag.TextWordWrap)
        if show_orig:
            h = (
                QFontMetrics(original_font)
                .boundingRect(QRect(0, 0, text_w, 100000), flags, line.text)
                .height()
            )
            rects["original"] = QRect(TEXT_X, y, text_w, h)
            y += h + GAP
        if show_tr:
            h = (
                QFontMetrics(tr_font)
                .boundingRect(QRect(0, 0, text_w, 100000), flags, line.translation or "")
                .height()
            )
            rects["translation"] = QRect(TEXT_X, y, text_w, h)
            y += h + GAP
        rects["row"] = QRect(0, top, width, y - GAP + PAD_Y - top)
        return rects

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(self.view.viewport().width(), self.height_of(index.row()))

    def height_of(self, row: int) -> int:
        """Row height at the current width (cached: the model is read directly, no QVariant
        round trips, since this runs for every row whenever the layout is redone)."""
        model = self.view.model_
        width = self.view.viewport().width()
        line = model._lines[row]
        header = model.header_visible(row)
        key = (line.segment_id, width)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is line and cached[1] == header:
            return cached[2]
        height = self.layout(line, header, width)["row"].height()
        self._cache[key] = (line, header, height)
        return height

    def clear_cache(self) -> None:
        self._cache.clear()

    # -------------------------------------------------------------- painting
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        line: SessionLine = index.data(LINE_ROLE)
        header: bool = index.data(HEADER_ROLE)
        rect = option.rect
        rects = self.layout(line, header, rect.width(), rect.top())
        original_font, tr_font, header_font, small = self.fonts()
        color = speaker_color(self.view.colors, line)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor(61, 139, 253, 40))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor(255, 255, 255, 8))
        # time gutter
        painter.setFont(small)
        painter.setPen(QColor(theme.TEXT_DIM))
        first_text = rects.get("speaker") or rects.get("original") or rects["row"]
        gutter = QRect(0, first_text.top(), GUTTER - 4, QFontMetrics(small).height())
        painter.drawText(
            gutter,
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            _clock(line.start),
        )
        if line.revision:  # a subtle mark left of the time: this line was corrected
            time_w = QFontMetrics(small).horizontalAdvance(_clock(line.start))
            painter.setPen(QColor(theme.TEXT_DIM))
            painter.drawText(
                gutter.adjusted(0, 0, -time_w - 3, 0),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                REVISED_MARK,
            )
        if line.lang:  # the detected language of the line, as a small tag
            painter.setPen(QColor(theme.ACCENT))
            painter.drawText(
                gutter.adjusted(4, 0, 0, 0),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                line.lang.upper()[:3],
            )
        # speaker bar
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(color))
        painter.drawRoundedRect(
            QRect(BAR_X, rect.top() + PAD_Y - 1, BAR_W, rect.height() - 2 * PAD_Y + 2), 2, 2
        )
        # header: speaker name (+ live pill)
        if "speaker" in rects:
            name = rects["speaker"]
            painter.setFont(header_font)
            painter.setPen(QColor(color))
            painter.drawText(
                name,
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                speaker_name(line),
            )
            if self.view.hover_speaker == line.segment_id:
                painter.drawLine(name.left(), name.bottom(), name.right() - 4, name.bottom())
            if not line.final:
                fm = QFontMetrics(small)
                pill = QRect(
                    name.right() + 10,
                    name.top() + (name.height() - fm.height()) // 2,
                    fm.horizontalAdvance("live") + 14,
                    fm.height(),
                )
                painter.setPen(QColor("#3a3f48"))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
                painter.setFont(small)
                painter.setPen(QColor(theme.TEXT_DIM))
                painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), "live")
        flags = int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft)
        if "original" in rects:
            painter.setFont(original_font)
            painter.setPen(QColor(theme.TEXT if line.final else theme.TEXT_DIM))
            painter.drawText(rects["original"], flags, line.text)
        if "translation" in rects:
            painter.setFont(tr_font)
            painter.setPen(QColor(theme.TRANSLATION))
            painter.drawText(rects["translation"], flags, line.translation or "")
        painter.restore()


class SubtitleView(QListView):
    """The transcript list. API used by the controller: upsert, set_lines, clear, set_mode,
    set_font_px, set_placeholder, and the `rename_requested(old, new)` signal."""

    rename_requested = Signal(object, str)  # old name (None = unlabelled), new name
    speaker_given = Signal(int, str)  # a line of an unknown speaker: its segment id, who said it

    def __init__(self, colors: theme.SpeakerColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("subtitleView")
        self.setAccessibleName("Live transcript")
        self.colors = colors
        self.mode = "both"
        self.font_px = 17
        self.hover_speaker: int | None = None
        self.model_ = TranscriptModel(self)
        self.setModel(self.model_)
        self.delegate = LineDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(True)
        self.setSpacing(1)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWordWrap(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._follow = True
        self._edit_for: tuple[int, str | None] | None = None
        self.editor = QLineEdit(self.viewport())
        self.editor.setAccessibleName("Speaker name")
        self.editor.setPlaceholderText("Name")
        self.editor.setToolTip("Type the speaker's name: Enter keeps it, Esc cancels")
        self.editor.setMaxLength(40)
        self.editor.hide()
        self.editor.installEventFilter(self)
        self.editor.editingFinished.connect(self._commit_rename)
        self.placeholder = QLabel(self.viewport())
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet(
            f"color: {theme.TEXT_DIM}; font-size: 15px;background: transparent;"
        )
        self.placeholder.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range)
        bar.valueChanged.connect(self._on_scroll)
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(0)
        self._relayout.timeout.connect(self.doItemsLayout)

    # ------------------------------------------------------------------ API
    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self._place_placeholder()

    def row_count(self) -> int:
        return self.model_.rowCount()

    def upsert(self, line: SessionLine) -> None:
        was_at_end = self._follow
        old_row = self.model_.row_of(line.segment_id)
        old_height = self.delegate.height_of(old_row) if old_row is not None else None
        # a row above what the reader is looking at (a revision of an earlier line)
        above = (
            old_row is not None
            and not was_at_end
            and self.visualRect(self.model_.index(old_row)).bottom() < 0
        )
        rows_before = self.model_.rowCount()
        row = self.model_.upsert(line)
        self.placeholder.setVisible(False)
        height = self.delegate.height_of(row)
        if above and row == old_row and old_height is not None and height != old_height:
            # it changed height: keep the lines in view where they are on screen
            bar = self.verticalScrollBar()
            value = bar.value()
            self.doItemsLayout()
            bar.setValue(value + height - old_height)
        elif self.model_.rowCount() != rows_before or row != old_row or height != old_height:
            self._relayout.start()  # a row appeared or changed height
        else:
            self.viewport().update(self.visualRect(self.model_.index(row)))
        if was_at_end:
            QTimer.singleShot(0, self.scroll_to_end)

    def set_lines(self, lines: list[SessionLine]) -> None:
        self.model_.reset(lines)
        self.delegate.clear_cache()
        self.placeholder.setVisible(not lines)
        if self._follow:
            QTimer.singleShot(0, self.scroll_to_end)

    def refresh(self) -> None:
        self.delegate.clear_cache()
        self.doItemsLayout()
        self.viewport().update()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.refresh()

    def set_font_px(self, px: int) -> None:
        self.font_px = max(10, min(px, 40))
        self.refresh()

    def clear(self) -> None:
        self.model_.reset([])
        self.delegate.clear_cache()
        self.placeholder.show()
        self._follow = True

    def scroll_to_end(self) -> None:
        self._follow = True
        self.scrollToBottom()

    def row_state(self, segment_id: int) -> RowState | None:
        """What the row of `segment_id` shows (None when there is no such row)."""
        row = self.model_.row_of(segment_id)
        if row is None:
            return None
        line = self.model_.line_at(row)
        show_orig, show_tr = self.delegate.parts(line)
        return RowState(
            speaker_name(line),
            speaker_color(self.colors, line),
            self.model_.header_visible(row),
            line.text,
            show_orig,
            line.translation or "",
            show_tr,
            not line.final,
            not line.final,
            (line.lang or "").upper()[:3],
            line.revision > 0,
        )

    def speaker_rect(self, segment_id: int) -> QRect | None:
        """Where the speaker name of this row is painted (viewport coordinates)."""
        row = self.model_.row_of(segment_id)
        if row is None:
            return None
        index = self.model_.index(row)
        rect = self.visualRect(index)
        line = self.model_.line_at(row)
        parts = self.delegate.layout(
            line, self.model_.header_visible(row), rect.width(), rect.top()
        )
        return parts.get("speaker")

    def begin_rename(self, segment_id: int) -> bool:
        rect = self.speaker_rect(segment_id)
        row = self.model_.row_of(segment_id)
        if rect is None or row is None:
            return False
        line = self.model_.line_at(row)
        if line.speaker is None and not line.final:
            return False  # no speaker yet
        # An unknown speaker is not renamed (that would give one name to different people):
        # the user says who said this one line.
        self._edit_for = (segment_id, line.speaker)
        self.editor.setText(line.speaker or "")
        self.editor.setPlaceholderText("Name" if line.speaker else "Who said this?")
        completer = None
        if line.speaker is None:  # offer the speakers of the transcript
            known = {ln.speaker for ln in self.model_._lines if ln.speaker}
            completer = QCompleter(sorted(known, key=str.casefold), self.editor)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.editor.setCompleter(completer)  # type: ignore[arg-type]  # None removes it
        self.editor.setGeometry(
            rect.left() - 4, rect.top() - 3, max(rect.width() + 60, 160), rect.height() + 6
        )
        self.editor.show()
        self.editor.setFocus(Qt.FocusReason.MouseFocusReason)
        self.editor.selectAll()
        return True

    # ------------------------------------------------------------------ internals
    def _commit_rename(self) -> None:
        if self._edit_for is None or not self.editor.isVisible():
            return
        sid, old = self._edit_for
        new = self.editor.text().strip()
        self._end_rename()
        if new and old is None:
            self.speaker_given.emit(sid, new)
        elif new and new != old:
            self.rename_requested.emit(old, new)

    def _end_rename(self) -> None:
        self._edit_for = None
        self.editor.hide()
        self.setFocus()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if (
            obj is self.editor
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self._end_rename()
            return True
        return super().eventFilter(obj, event)

    def _speaker_hit(self, pos: Any) -> int | None:
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        line: SessionLine = index.data(LINE_ROLE)
        if line.speaker is None and not line.final:
            return None
        rect = self.speaker_rect(line.segment_id)
        return line.segment_id if rect is not None and rect.contains(pos) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton:
            sid = self._speaker_hit(event.position().toPoint())
            if sid is not None:
                self.begin_rename(sid)
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        sid = self._speaker_hit(event.position().toPoint())
        if sid != self.hover_speaker:
            self.hover_speaker = sid
            self.viewport().setCursor(
                Qt.CursorShape.PointingHandCursor if sid is not None else Qt.CursorShape.ArrowCursor
            )
            line = self.model_.line_at(self.model_.row_of(sid) or 0) if sid is not None else None
            self.setToolTip(
                ""
                if line is None
                else "Click to rename this speaker"
                if line.speaker
                else f"{UNKNOWN_TIP}. Click to say who said it"
            )
            self.viewport().update()
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            return
        super().keyPressEvent(event)

    def find_text(self, text: str, *, after: int = -1) -> int | None:
        """Select and show the first line after row `after` whose text or translation contains
        `text` (case-insensitive), wrapping around; None when no line does."""
        needle = text.casefold()
        count = self.model_.rowCount()
        if not needle.strip() or not count:
            return None
        for step in range(1, count + 1):
            row = (after + step) % count
            line = self.model_.line_at(row)
            if needle in line.text.casefold() or needle in (line.translation or "").casefold():
                index = self.model_.index(row)
                self.setCurrentIndex(index)
                self.scrollTo(index)
                self._follow = row == count - 1
                return row
        return None

    def copy_selection(self) -> None:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        text = "\n".join(self.model_.data(self.model_.index(r)) for r in rows)
        if text:
            QGuiApplication.clipboard().setText(text)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt API)
        menu = QMenu(self)
        copy = menu.addAction("Copy selected lines")
        copy.setEnabled(self.selectionModel().hasSelection())
        copy.triggered.connect(self.copy_selection)
        select_all = menu.addAction("Select all")
        select_all.triggered.connect(self.selectAll)
        index = self.indexAt(event.pos())
        line = index.data(LINE_ROLE) if index.isValid() else None
        if line is not None and (line.final or line.speaker):
            sid = line.segment_id
            label = "Rename this speaker…" if line.speaker else "Who said this line?…"
            rename = menu.addAction(label)
            rename.triggered.connect(lambda: self._rename_from_menu(sid))
        menu.exec(event.globalPos())

    def _rename_from_menu(self, segment_id: int) -> None:
        row = self.model_.row_of(segment_id)
        if row is None:
            return
        if not self.model_.header_visible(row):  # name hidden on continuation rows
            while row > 0 and not self.model_.header_visible(row):
                row -= 1
            segment_id = self.model_.line_at(row).segment_id
        self.scrollTo(self.model_.index(row))
        self.begin_rename(segment_id)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._place_placeholder()
        if self._follow:
            QTimer.singleShot(0, self.scroll_to_end)

    def _place_placeholder(self) -> None:
        self.placeholder.setGeometry(self.viewport().rect().adjusted(40, 40, -40, -40))

    def _on_scroll(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 24

    def _on_range(self, _min: int, _max: int) -> None:
        if self._follow:
            self.scrollToBottom()
