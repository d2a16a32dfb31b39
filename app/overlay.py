"""Frameless, always-on-top, translucent caption overlay showing the last two lines.

Drag anywhere to move, the grip in the corner resizes; right-click for text size, click-through
and hide. With click-through on, mouse clicks pass to the windows below (turn it off from the
tray menu or the main window).
"""

from __future__ import annotations

import html

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


class CaptionOverlay(QWidget):
    geometry_changed = Signal(QRect)
    font_size_changed = Signal(int)
    click_through_changed = Signal(bool)
    visibility_changed = Signal(bool)

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
        self._drag_from: QPoint | None = None
        self._lines: list[SessionLine] = []
        self.labels = [QLabel(self), QLabel(self)]
        lay = QVBoxLayout(self)
        lay.setContentsMargins(22, 14, 22, 14)
        lay.setSpacing(6)
        lay.addStretch(1)
        for label in self.labels:
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            lay.addWidget(label)
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
        self.grip.setVisible(not on)
        if visible:  # changing window flags hides the window
            self.show()
        self.click_through_changed.emit(on)

    def restore_geometry(self, geometry: list[int] | None) -> None:
        if not geometry or len(geometry) != 4:
            return
        rect = QRect(*geometry)
        screens = [s.availableGeometry() for s in QGuiApplication.screens()]
        if any(s.intersects(rect) for s in screens):  # never restore off-screen
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

    def _render(self) -> None:
        lines = self._lines
        if not lines:
            self.labels[0].setText("")
            self.labels[1].setText(
                f"<span style='color:{theme.TEXT_DIM}; font-size:{self.font_size}px'>"
                "Captions will appear here</span>"
            )
            self.setAccessibleDescription("")
            return
        padded: list[SessionLine | None] = [None] * (2 - len(lines)) + list(lines)
        for label, line in zip(self.labels, padded, strict=True):
            if line is None:
                label.setText("")
                label.setVisible(False)
                continue
            label.setVisible(True)
            color = self.colors.color(line.speaker) if line.speaker else theme.TEXT_DIM
            text_color = "#ffffff" if line.final else "#c3c7cd"
            who = html.escape(line.speaker) + "&nbsp;&nbsp;" if line.speaker else ""
            label.setText(
                f"<div style='font-size:{self.font_size}px; line-height:120%'>"
                f"<span style='color:{color}; font-weight:600'>{who}</span>"
                f"<span style='color:{text_color}'>{html.escape(self._line_text(line))}</span>"
                "</div>"
            )
        self.setAccessibleDescription(" / ".join(self.text_lines()))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(12, 14, 18, round(255 * self.opacity)))
        painter.drawRoundedRect(self.rect().adjusted(1, 1, -1, -1), 12, 12)
        painter.end()

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().resizeEvent(event)
        self.grip.move(self.width() - self.grip.width() - 4, self.height() - self.grip.height() - 4)
        self._save_timer.start()

    def moveEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().moveEvent(event)
        self._save_timer.start()

    def showEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().showEvent(event)
        self.visibility_changed.emit(True)

    def hideEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().hideEvent(event)
        if not self.isVisible():
            self.visibility_changed.emit(False)

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton:
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
        menu.addAction(hide)
        menu.exec(event.globalPos())
