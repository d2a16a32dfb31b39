"""System tray icon with the few actions a user needs while the main window is hidden."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

TRAY_SIZES = (16, 22, 24, 32, 48, 64)
LISTENING_COLOR = QColor("#e5484d")  # the red of a recording light


def listening_icon(base: QIcon) -> QIcon:
    """`base` with a red recording light in its lower right corner, at every tray size: the
    tray shows at a glance that Dragoman is listening."""
    icon = QIcon()
    for size in TRAY_SIZES:
        pixmap = QPixmap(base.pixmap(size, size))
        if pixmap.isNull():
            pixmap = QPixmap(size, size)
            pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        dot = max(5.0, size * 0.42)
        rect = QRectF(size - dot, size - dot, dot, dot).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QColor("white"))
        painter.setBrush(LISTENING_COLOR)
        painter.drawEllipse(rect)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


class TrayController(QObject):
    """Owns the tray icon and its menu. The actions exist (and can be triggered) even where no
    system tray is available, e.g. on the offscreen platform."""

    start_stop_requested = Signal()
    show_window_requested = Signal()
    overlay_toggled = Signal(bool)
    click_through_toggled = Signal(bool)
    quit_requested = Signal()

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = QMenu()
        self.menu.setAccessibleName("Dragoman tray menu")
        self.start_stop = QAction("Start interpreting", self.menu)
        self.start_stop.triggered.connect(self.start_stop_requested)
        self.show_window = QAction("Show window", self.menu)
        self.show_window.triggered.connect(self.show_window_requested)
        self.overlay = QAction("Caption overlay", self.menu)
        self.overlay.setCheckable(True)
        self.overlay.toggled.connect(self.overlay_toggled)
        # with click-through on, the overlay ignores the mouse: this is the way back
        self.click_through = QAction("Overlay click-through", self.menu)
        self.click_through.setCheckable(True)
        self.click_through.toggled.connect(self.click_through_toggled)
        self.quit = QAction("Quit Dragoman", self.menu)
        self.quit.triggered.connect(self.quit_requested)
        self.menu.addAction(self.start_stop)
        self.menu.addSeparator()
        self.menu.addAction(self.show_window)
        self.menu.addAction(self.overlay)
        self.menu.addAction(self.click_through)
        self.menu.addSeparator()
        self.menu.addAction(self.quit)
        self.idle_icon = icon
        self.listening_icon = listening_icon(icon)
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setContextMenu(self.menu)
        self.icon.setToolTip("Dragoman")
        self.icon.activated.connect(self._activated)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Show the icon when the desktop has a tray; returns whether it could."""
        if not self.available():
            return False
        self.icon.show()
        return True

    def hide(self) -> None:
        self.icon.hide()

    def set_running(self, running: bool, busy: bool = False) -> None:
        """busy: the engine is finishing the last sentence (the action waits for it)."""
        if busy:
            text, tip = "Stopping…", "Dragoman — finishing the last sentence"
        elif running:
            text, tip = "Stop interpreting", "Dragoman — interpreting"
        else:
            text, tip = "Start interpreting", "Dragoman"
        self.start_stop.setText(text)
        self.start_stop.setEnabled(not busy)
        self.icon.setToolTip(tip)
        self.icon.setIcon(self.listening_icon if running or busy else self.idle_icon)

    def set_overlay_checked(self, on: bool) -> None:
        if self.overlay.isChecked() != on:
            self.overlay.blockSignals(True)
            self.overlay.setChecked(on)
            self.overlay.blockSignals(False)

    def set_click_through_checked(self, on: bool) -> None:
        if self.click_through.isChecked() != on:
            self.click_through.blockSignals(True)
            self.click_through.setChecked(on)
            self.click_through.blockSignals(False)

    def notify(self, title: str, message: str) -> None:
        if self.icon.isVisible() and self.icon.supportsMessages():
            self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Warning, 6000)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_window_requested.emit()
