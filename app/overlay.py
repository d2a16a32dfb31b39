"""Frameless, always-on-top, translucent caption overlay showing the last two lines.

Drag anywhere to move, the grip in the corner resizes; right-click for text size, click-through
and hide. With click-through on, mouse clicks pass to the windows below (turn it off from the
tray menu or the main window, Ctrl+Shift+T).

The same window becomes the caption bar docked to a screen edge (`set_docked`; the space is
reserved by app/caption_bar.py), and steps aside (`set_aside`) while a Dragoman window it covers
is in use.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QLabel, QMenu, QSizeGrip, QVBoxLayout, QWidget

from app import theme
from engine.session import SessionLine

DEFAULT_SIZE = (760, 150)
DOCK_EDGES = ("top", "bottom")


class CaptionOverlay(QWidget):
    geometry_changed = Signal(QRect)
    font_size_changed = Signal(int)
    click_through_changed = Signal(bool)
    visibility_changed = Signal(bool)
    dock_requested = Signal(str)  # "top", "bottom" or "" (float), from the context menu

    def __init__(
        self,
        colors: theme.SpeakerColors,
        *,
        font_size: int = 22,
        opacity: float = 0.8,
        click_through: bool = False,
    ) -> None:
        super().__init__(None)
        self.setObjectName("captionOverlay")
        self.setWindowTitle("Dragoman captions")
        self.setAccessibleName("Caption overlay")
        self.setWindowFlags(
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setMinimumSize(280, 70)
        self.colors = colors
        self.mode = "both"
        self.font_size = font_size
        self.opacity = opacity
        self.click_through = False
        self.listening = False
        self.docked: str | None = None  # the edge of the docked bar, None when floating
        self.aside = False  # hidden for a moment: a Dragoman window it covered is in use
        self._float_geometry: QRect | None = None
        # the place set by set_docked, kept for a moment against a window manager that places
        # the window anew when it is mapped again (openbox does, now and then)
        self._pin: QRect | None = None
        self._pin_until = 0.0
        self._corrections = 0
        self._drag_from: QPoint | None = None
        self._lines: list[SessionLine] = []
        self._shown: dict[int, str] = {}  # label index -> the text that fits on screen
        self.labels = [QLabel(self), QLabel(self)]
        lay = self._layout = QVBoxLayout(self)
        lay.setContentsMargins(22, 14, 22, 14)
        lay.setSpacing(6)
        lay.addStretch(1)
        for label in self.labels:
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            lay.addWidget(label)
        # a visible sign that clicks pass through (it is easy to forget, and then the overlay
        # seems to be broken)
        self.through_badge = QLabel("clicks pass through · Ctrl+Shift+T", self)
        self.through_badge.setStyleSheet(
            f"color: {theme.TEXT_DIM}; font-size: 11px; background: transparent;"
        )
        self.through_badge.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.through_badge.move(14, 4)
        self.through_badge.adjustSize()
        self.through_badge.hide()
        # a bar that could not reserve its space says so on itself (it floats over windows)
        self.float_badge = QLabel("", self)
        self.float_badge.setStyleSheet(
            f"color: {theme.TEXT_DIM}; font-size: 11px; background: transparent;"
        )
        self.float_badge.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.float_badge.hide()
        self.grip = QSizeGrip(self)
        self.grip.setFixedSize(16, 16)
        self.grip.setToolTip("Drag to resize")
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(400)
        self._save_timer.timeout.connect(lambda: self.geometry_changed.emit(self.geometry()))
        self.resize(*DEFAULT_SIZE)
        self._place_default()
        self.set_font_size(font_size)
        self.set_click_through(click_through)
        self._render()

    # ------------------------------------------------------------------ API
    def set_lines(self, lines: list[SessionLine]) -> None:
        """Show the last two of `lines` (the caller passes the transcript tail)."""
        self._lines = [ln for ln in lines if ln.text or ln.translation][-2:]
        self._render()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._render()

    def set_listening(self, on: bool) -> None:
        """Whether the engine listens: an idle overlay says so instead of promising captions;
        captions of a finished run are cleared by the caller."""
        self.listening = on
        self._render()

    def set_font_size(self, size: int) -> None:
        self.font_size = max(10, min(int(size), 72))
        self._render()
        self.font_size_changed.emit(self.font_size)

    def set_opacity(self, opacity: float) -> None:
        self.opacity = max(0.3, min(opacity, 1.0))
        self.update()

    def set_click_through(self, on: bool) -> None:
        if on == self.click_through:
            return
        self.click_through = on
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowTransparentForInput, on)
        self.grip.setVisible(not on and self.docked is None)
        self.through_badge.setVisible(on)
        if visible:  # changing window flags hides the window
            self.show()
        self.click_through_changed.emit(on)

    def set_docked(self, edge: str | None, rect: QRect | None, note: str = "") -> None:
        """Become the bar at `edge` with geometry `rect` (square corners, no grip, does not move
        with the mouse), or float again (edge None) where it floated before. `note` is shown
        on the bar (why it floats instead of reserving its space)."""
        if edge is not None and self.docked is None:
            self._float_geometry = self.geometry()
        was = self.docked
        self.docked = edge
        self.grip.setVisible(edge is None and not self.click_through)
        self.float_badge.setText(note if edge is not None else "")
        self.float_badge.adjustSize()
        self.float_badge.setVisible(bool(note) and edge is not None)
        target = rect
        if edge is None and was is not None and self._float_geometry is not None:
            target = self._float_geometry
        if target is not None:
            self.setGeometry(target)
            self._pin, self._pin_until = QRect(target), time.monotonic() + 2.0
            self._corrections = 0
        self.update()

    def bar_height(self) -> int:
        """The docked bar's height: two caption lines at the current text size."""
        margins = self._layout.contentsMargins()
        line = round(self.font_size * 1.45)
        return margins.top() + margins.bottom() + 2 * line + self._layout.spacing()

    def set_aside(self, on: bool) -> None:
        """Hide (on) or come back, without changing whether the captions are switched on."""
        if on == self.aside:
            return
        self.aside = on
        if on:
            self.hide()
        else:
            self.show()

    def floating_geometry(self) -> QRect:
        """Where the overlay floats (also while it is docked: where it floated before)."""
        if self.docked is not None and self._float_geometry is not None:
            return QRect(self._float_geometry)
        return self.geometry()

    def restore_geometry(self, geometry: list[int] | None) -> None:
        if not geometry or len(geometry) != 4:
            return
        rect = QRect(*geometry)
        screens = [s.availableGeometry() for s in QGuiApplication.screens()]
        if not any(s.intersects(rect) for s in screens):  # never restore off-screen
            return
        if self.docked is not None:  # where it floats once undocked; the bar stays
            self._float_geometry = rect
        else:
            self.setGeometry(rect)

    def text_lines(self) -> list[str]:
        """Plain text of what is shown (for tests and accessibility)."""
        return [self._line_text(ln) for ln in self._lines]

    # ------------------------------------------------------------------ rendering
    def _place_default(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        w = min(DEFAULT_SIZE[0], area.width() - 40)
        self.setGeometry(
            area.x() + (area.width() - w) // 2,
            area.y() + area.height() - DEFAULT_SIZE[1] - 60,
            w,
            DEFAULT_SIZE[1],
        )

    def _line_text(self, line: SessionLine) -> str:
        if self.mode == "original" or not line.translation:
            return line.text
        return line.translation

    def _line_html(self, line: SessionLine, text: str) -> str:
        color = self.colors.color(line.speaker) if line.speaker else theme.TEXT_DIM
        text_color = "#ffffff" if line.final else "#c3c7cd"
        who = html.escape(line.speaker) + "&nbsp;&nbsp;" if line.speaker else ""
        return (
            f"<div style='font-size:{self.font_size}px; line-height:120%'>"
            f"<span style='color:{color}; font-weight:600'>{who}</span>"
            f"<span style='color:{text_color}'>{html.escape(text)}</span>"
            "</div>"
        )

    def _text_room(self) -> tuple[int, int]:
        """Width and height the caption labels may use inside the margins."""
        margins = self._layout.contentsMargins()
        return (
            max(self.width() - margins.left() - margins.right(), 1),
            max(self.height() - margins.top() - margins.bottom(), 1),
        )

    def _fit(self, index: int, line: SessionLine, width: int, room: int) -> bool:
        """Show as much of the END of `line` as fits in `room` pixels (newest words matter;
        older words give way to an ellipsis). False when not even one line fits."""
        label = self.labels[index]
        words = self._line_text(line).split()
        label.setText(self._line_html(line, " ".join(words)))
        if label.heightForWidth(width) <= room:
            self._shown[index] = " ".join(words)
            return True
        lo, hi = 1, len(words) - 1  # smallest number of dropped leading words that fits
        best: int | None = None
        while lo <= hi:
            mid = (lo + hi) // 2
            label.setText(self._line_html(line, "… " + " ".join(words[mid:])))
            if label.heightForWidth(width) <= room:
                best, hi = mid, mid - 1
            else:
                lo = mid + 1
        if best is None:
            best = len(words) - 1  # not even the last word fits: show it anyway (clipped)
            if index == 0 or best < 0:
                return False
        text = "… " + " ".join(words[best:])
        label.setText(self._line_html(line, text))
        self._shown[index] = text
        return True

    def _render(self) -> None:
        lines = self._lines
        self._shown = {}
        if not lines:
            self.labels[0].setText("")
            self.labels[0].setVisible(False)
            self.labels[1].setVisible(True)
            self.labels[1].setText(
                f"<span style='color:{theme.TEXT_DIM}; font-size:{self.font_size}px'>"
                f"{'Listening…' if self.listening else 'Not listening'}</span>"
            )
            self.setAccessibleDescription("")
            return
        for ln in lines:  # colours in order of appearance, as in the transcript
            self.colors.color(ln.speaker) if ln.speaker else None
        width, room = self._text_room()
        spacing = self._layout.spacing()
        # the newest line first: it always shows (its end, when it is too long); the older
        # line gets what room is left, or gives way entirely
        newest, older = lines[-1], lines[-2] if len(lines) > 1 else None
        self.labels[1].setVisible(True)
        self._fit(1, newest, width, room)
        left = room - self.labels[1].heightForWidth(width) - spacing
        shown_older = older is not None and self._fit(0, older, width, left)
        self.labels[0].setVisible(shown_older)
        if not shown_older:
            self.labels[0].setText("")
        self.setAccessibleDescription(" / ".join(self.text_lines()))

    def shown_lines(self) -> list[str]:
        """Plain text as it fits on screen (long lines lose their start to an ellipsis)."""
        return [
            self._shown[i]
            for i, label in enumerate(self.labels)
            if not label.isHidden() and i in self._shown
        ]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(12, 14, 18, round(255 * self.opacity)))
        if self.docked is not None:
            painter.drawRect(self.rect())
        else:
            painter.drawRoundedRect(self.rect().adjusted(1, 1, -1, -1), 12, 12)
        painter.end()

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().resizeEvent(event)
        self.grip.move(self.width() - self.grip.width() - 4, self.height() - self.grip.height() - 4)
        self.float_badge.move(self.width() - self.float_badge.width() - 14, 4)
        self._render()  # what fits depends on the size
        self._keep_pinned_place()
        if self.docked is None:
            self._save_timer.start()

    def moveEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().moveEvent(event)
        self._keep_pinned_place()
        if self.docked is None:
            self._save_timer.start()

    def _keep_pinned_place(self) -> None:
        """Just after docking or floating again, the window stays where it was put: a window
        manager that places it anew when mapped gets it moved back (a few times at most)."""
        rect = self._pin
        if rect is None or self.geometry() == rect:
            return
        if time.monotonic() > self._pin_until or self._corrections >= 3:
            self._pin = None
            return
        self._corrections += 1
        QTimer.singleShot(0, lambda: self.setGeometry(rect))

    def showEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().showEvent(event)
        self.aside = False
        self.visibility_changed.emit(True)

    def hideEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().hideEvent(event)
        if not self.isVisible() and not self.aside:
            self.visibility_changed.emit(False)

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self._pin = None  # the user moves it now
        if event.button() == Qt.MouseButton.LeftButton and self.docked is None:
            handle = self.windowHandle()
            if handle is not None and handle.startSystemMove():
                return
            self._drag_from = event.globalPosition().toPoint() - self.frameGeometry().topLeft()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._drag_from is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag_from)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self._drag_from = None
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt API)
        menu = QMenu(self)
        bigger = QAction("Larger text", menu)
        bigger.triggered.connect(lambda: self.set_font_size(self.font_size + 2))
        smaller = QAction("Smaller text", menu)
        smaller.triggered.connect(lambda: self.set_font_size(self.font_size - 2))
        through = QAction("Click-through", menu)
        through.setCheckable(True)
        through.setChecked(self.click_through)
        through.toggled.connect(self.set_click_through)
        hide = QAction("Hide captions", menu)
        hide.triggered.connect(self.hide)
        for action in (bigger, smaller, through):
            menu.addAction(action)
        menu.addSeparator()
        places = (("", "Float"), ("top", "Dock at the top"), ("bottom", "Dock at the bottom"))
        for edge, label in places:
            place = QAction(label, menu)
            place.setCheckable(True)
            place.setChecked((self.docked or "") == edge)
            place.triggered.connect(lambda _=False, e=edge: self.dock_requested.emit(e))
            menu.addAction(place)
        menu.addSeparator()
        menu.addAction(hide)
        menu.exec(event.globalPos())
