"""The caption overlay on the desktop: docked as a bar that reserves screen space, a global
show/hide shortcut, and keeping out of the way of Dragoman's own windows.

- Docking (View → Caption position): on X11 the overlay becomes a `_NET_WM_WINDOW_TYPE_DOCK`
  window with `_NET_WM_STRUT_PARTIAL` across the screen the main window is on, so the window
  manager shrinks the work area and maximised windows stay clear of it. Where an app cannot
  reserve space (Wayland: no layer-shell for Qt widgets from Python; Windows, macOS: not done)
  the bar floats at that edge instead, and `dock()` says so.
- Global shortcut (X11 only): `XGrabKey` on the root window of a second X connection whose socket
  a QSocketNotifier watches; a key taken by another application is reported, never ignored.
- Stepping aside: while a Dragoman window (the main window, a file dialog, settings) is the
  active window and the floating overlay covers part of it, the overlay hides; it comes back
  when that window is left. So it never hides the newest lines, the error banner, or catches
  double-clicks meant for a dialog.

UI thread only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, QRect, QSize, QSocketNotifier, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QScreen, QWindow
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QKeySequenceEdit,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.main_window import MainWindow
from app.overlay import DOCK_EDGES, CaptionOverlay
from app.settings_controller import SettingsController
from app.x11 import X11, ShortcutError, parse_shortcut

log = logging.getLogger(__name__)

FLOATS_INSTEAD = "This desktop does not let apps reserve screen space; the captions float instead."
NO_GLOBAL_SHORTCUT = (
    "This desktop does not let apps have a global shortcut; use the tray icon or the window."
)
VERIFY_MS = 3000  # how long a window manager may take to shrink the work area
BADGE_FLOATS = "floats: this desktop cannot reserve screen space"


def default_overlay_rect(area: QRect, avoid: QRect | None, size: QSize) -> QRect:
    """Where a new overlay goes in the screen's `area`: centred below the main window (`avoid`)
    when there is room, else above it, else beside it, else at the bottom of the screen."""
    w, h = min(size.width(), area.width() - 40), size.height()
    centre_x = area.x() + (area.width() - w) // 2
    low_y = area.y() + area.height() - h - 40  # 40 px above the screen's bottom edge
    bottom = QRect(centre_x, low_y, w, h)
    if avoid is None or not avoid.intersects(area):
        return bottom
    gap = 12
    below = area.bottom() - avoid.bottom() - gap
    above = avoid.top() - area.top() - gap
    if below >= h:
        return QRect(centre_x, area.bottom() - min(below, h + 40) + 1, w, h)
    if above >= h:
        return QRect(centre_x, area.top() + max(above - h - 40, 0), w, h)
    right = area.right() - avoid.right() - gap
    left = avoid.left() - area.left() - gap
    side = max(right, left)
    if side >= 280:
        sw = min(w, side)
        x = avoid.right() + gap + 1 if right >= left else avoid.left() - gap - sw
        return QRect(x, low_y, sw, h)
    return bottom


def bar_rect(screen: QRect, edge: str, height: int) -> QRect:
    """The bar across `screen` (the screen's full geometry) at `edge`."""
    if edge == "top":
        return QRect(screen.x(), screen.y(), screen.width(), height)
    return QRect(screen.x(), screen.y() + screen.height() - height, screen.width(), height)


class DesktopCaptions(QObject):
    """Docks the overlay, runs the global shortcut, and steps the overlay aside."""

    shortcut_pressed = Signal()
    space_refused = Signal(str)  # the window manager did not reserve the bar's strip: why

    def __init__(self, overlay: CaptionOverlay) -> None:
        super().__init__()
        self._overlay = overlay
        self.platform = QGuiApplication.platformName()
        self._x11 = X11.open() if self.platform == "xcb" else None
        self._notifier: QSocketNotifier | None = None
        if self._x11 is not None:
            self._notifier = QSocketNotifier(self._x11.fileno(), QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self._on_x11_readable)
        self._grab: int | None = None
        self.shortcut: str | None = None
        self.reserved = False  # the docked bar reserves its space (the WM was told)
        self._bar: QRect | None = None  # the strip it reserves
        # the work area before docking, until it is seen to change (or not): some window
        # managers, and XWayland compositors, ignore struts
        self._verify_pending = False
        self._workarea_before: tuple[int, int, int, int] | None = None
        self._verify_timer = QTimer(self)
        self._verify_timer.setSingleShot(True)
        self._verify_timer.setInterval(VERIFY_MS)
        self._verify_timer.timeout.connect(self._verify_reserved)
        overlay.visibility_changed.connect(self._on_overlay_visible)
        for screen in QGuiApplication.screens():  # Qt follows _NET_WORKAREA: seen at once
            screen.availableGeometryChanged.connect(self._on_workarea_changed)
        # under Wayland an X11 key grab only sees keys typed into other X11 apps
        self._wayland_session = bool(os.environ.get("WAYLAND_DISPLAY"))
        self._dock_type: list[int] | None = None  # the window types Qt gave the overlay
        self._watched: QWindow | None = None
        app = QGuiApplication.instance()
        # where windows have no real places (offscreen) there is nothing to step aside from
        if isinstance(app, QGuiApplication) and self.platform not in ("offscreen", "minimal"):
            app.focusWindowChanged.connect(self._on_focus_window)

    @property
    def can_reserve_space(self) -> bool:
        return self._x11 is not None

    @property
    def has_global_shortcut(self) -> bool:
        return self._x11 is not None and not self._wayland_session

    # ------------------------------------------------------------------ docking
    def dock(self, edge: str | None, screen: QScreen | None) -> str | None:
        """Dock the overlay at `edge` ("top"/"bottom") of `screen`, or float it (None).
        Returns a message for the user when the bar cannot reserve its space here."""
        ov = self._overlay
        if edge not in DOCK_EDGES:
            edge = None
        if edge == ov.docked and (edge is None or screen is None):
            return None if edge is None or self.reserved else FLOATS_INSTEAD
        visible = ov.isVisible() or ov.aside
        x11, wid = self._x11, int(ov.winId())
        if x11 is not None and ov.isVisible():
            ov.hide()  # the window manager reads a window's type when it is mapped
        if edge is None:
            if x11 is not None and self.reserved:
                x11.release_edge(wid)
                if self._dock_type:
                    x11.set_atom_ids(wid, "_NET_WM_WINDOW_TYPE", self._dock_type)
                x11.flush()
            self.reserved = False
            self._bar = None
            self._verify_pending = False
            ov.set_docked(None, None)
            if visible and x11 is not None:
                ov.show()
            return None
        screen = screen or QGuiApplication.primaryScreen()
        if screen is None:
            return None
        # below a top panel / above a bottom one: the screen less what others reserve (our own
        # strip, when docked already, counts as free)
        area = screen.availableGeometry()
        if self.reserved and self._bar is not None and self._bar.intersects(screen.geometry()):
            area = area.united(self._bar) & screen.geometry()
        message: str | None = None
        if x11 is not None:
            rect = bar_rect(area, edge, ov.bar_height())
            if self._dock_type is None:
                self._dock_type = x11.get_cardinals(wid, "_NET_WM_WINDOW_TYPE")
            if not self.reserved:  # see that the work area changes once the bar is mapped
                self._verify_pending = True
                self._workarea_before = x11.workarea()
            root = screen.virtualGeometry()
            if edge == "top":
                thickness = rect.bottom() + 1 - root.top()
            else:
                thickness = root.bottom() + 1 - rect.top()
            x11.reserve_edge(wid, edge, thickness, rect.left(), rect.right())
            self.reserved = True
            self._bar = QRect(rect)
        else:
            # the bar floats over the available area's edge (above a panel, say)
            rect = bar_rect(area, edge, ov.bar_height())
            self.reserved = False
            message = FLOATS_INSTEAD
        ov.set_docked(edge, rect, BADGE_FLOATS if message else "")
        if visible:
            ov.show()
            ov.setGeometry(rect)  # a window mapped again may be placed anew
        return message

    def _on_overlay_visible(self, visible: bool) -> None:
        if visible and self._verify_pending:
            self._verify_timer.start()

    def _on_workarea_changed(self, _area: QRect) -> None:
        if self._verify_pending and self.reserved and self._x11 is not None:
            after = self._x11.workarea()
            if after is not None and after != self._workarea_before:
                self._verify_pending = False  # the window manager took the strip off
                self._verify_timer.stop()

    def _verify_reserved(self) -> None:
        """The bar has been mapped a moment: did the window manager take its strip off the
        work area? If not (no EWMH window manager, or one that ignores struts), say so."""
        ov = self._overlay
        if not (self._verify_pending and self.reserved and ov.isVisible()):
            return
        self._verify_pending = False
        after = self._x11.workarea() if self._x11 is not None else None
        if after is not None and after != self._workarea_before:
            return
        self.reserved = False
        ov.set_docked(ov.docked, None, BADGE_FLOATS)
        self.space_refused.emit(FLOATS_INSTEAD)

    # ------------------------------------------------------------------ global shortcut
    def set_shortcut(self, text: str | None) -> str | None:
        """Grab `text` (e.g. "Ctrl+Alt+C") as the global show/hide shortcut, replacing the old
        one; None or "" turns it off. Returns None on success, else why it is not active."""
        if self._x11 is not None and self._grab is not None:
            self._x11.ungrab(self._grab)
            self._grab = None
        self.shortcut = None
        if not text:
            return None
        if self._x11 is None or self._wayland_session:
            return NO_GLOBAL_SHORTCUT
        try:
            self._grab = self._x11.grab(parse_shortcut(text))
        except PermissionError:
            return f"{text} is already used by another application; choose another shortcut."
        except ShortcutError as exc:
            return str(exc)
        finally:
            self._on_x11_readable()  # the round trips may have queued events
        self.shortcut = text
        return None

    def _on_x11_readable(self) -> None:
        if self._x11 is None:
            return
        hits = self._x11.pending_keys()
        if self._grab is not None and self._grab in hits:
            self.shortcut_pressed.emit()

    # ------------------------------------------------------------------ stepping aside
    def _on_focus_window(self, window: QWindow | None) -> None:
        if window is not None and window is self._overlay.windowHandle():
            return  # the overlay itself was clicked: nothing to step aside from
        self._unwatch()
        if window is not None:
            self._watched = window
            window.installEventFilter(self)  # it may move or grow under the overlay
        self.update_aside()

    def _unwatch(self) -> None:
        window, self._watched = self._watched, None
        if window is not None and shiboken6.isValid(window):  # a closed dialog's is gone
            window.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() in (QEvent.Type.Move, QEvent.Type.Resize):
            self.update_aside()
        return False

    def update_aside(self) -> None:
        """Hide the floating overlay while the active Dragoman window is under it."""
        ov = self._overlay
        if not (ov.isVisible() or ov.aside) or (ov.docked is not None and self.reserved):
            return
        window = self._watched
        if window is not None and not shiboken6.isValid(window):
            window = self._watched = None
        covers = window is not None and window.isVisible()
        if covers and window is not None:
            covers = window.frameGeometry().intersects(ov.frameGeometry())
        ov.set_aside(covers)

    def close(self) -> None:
        self.set_shortcut(None)
        self._unwatch()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        if self._x11 is not None:
            self._x11.close()
            self._x11 = None


class CaptionsController(QObject):
    """Connects the caption position and the global shortcut to the window, the overlay and
    the settings (View → Caption position, View → Show/hide shortcut for captions)."""

    def __init__(
        self,
        overlay: CaptionOverlay,
        window: MainWindow,
        prefs: SettingsController,
        set_visible: Callable[[bool], None],
    ) -> None:
        super().__init__()
        self.desktop = DesktopCaptions(overlay)
        self._overlay, self._window, self._prefs = overlay, window, prefs
        self._set_visible = set_visible
        self._placed = False
        self.shortcut_problem: str | None = None
        window.dock_chosen.connect(self.set_dock)
        overlay.dock_requested.connect(self.set_dock)
        overlay.click_through_changed.connect(self._on_click_through)
        window.caption_shortcut_requested.connect(self.choose_shortcut)
        self.desktop.shortcut_pressed.connect(self.toggle)
        self.desktop.space_refused.connect(self._on_space_refused)

    def start(self) -> None:
        """Apply the saved position and shortcut (once the main window has its place)."""
        ui = self._prefs.settings.ui
        self._window.winId()  # its native window: to follow it from screen to screen
        handle = self._window.windowHandle()
        if handle is not None:
            handle.screenChanged.connect(self._on_window_screen)
        if ui.overlay_dock:
            self.set_dock(ui.overlay_dock, announce=False)
        # a key another app holds is said at once; a desktop without global shortcuts is said
        # in the View menu and the shortcut dialog, not at every start
        self.apply_shortcut(ui.caption_shortcut, announce=self.desktop.has_global_shortcut)

    def before_show(self) -> None:
        """A floating overlay shown for the first time (no saved place) keeps off the window."""
        if self._placed or self._overlay.docked is not None:
            return
        self._placed = True
        if self._prefs.settings.ui.overlay_geometry:
            return
        screen = self._window.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        avoid = self._window.frameGeometry() if self._window.isVisible() else None
        rect = default_overlay_rect(screen.availableGeometry(), avoid, self._overlay.size())
        self._overlay.setGeometry(rect)

    def _on_space_refused(self, why: str) -> None:
        self._window.set_dock_checked(self._overlay.docked or "", why)
        self._window.notify(why, 15000)

    def _on_click_through(self, _on: bool) -> None:
        """Qt sets the window's type again when its flags change: a docked bar docks again."""
        if self._overlay.docked is not None and self.desktop.reserved:
            self.desktop.dock(self._overlay.docked, self._window.screen())

    def _on_window_screen(self, _screen: QScreen) -> None:
        """The bar goes along to the screen the main window is on now."""
        if self._overlay.docked is not None:
            self.set_dock(self._overlay.docked, announce=False)

    def toggle(self) -> None:
        """The global shortcut: show or hide the captions."""
        self._set_visible(not self._prefs.settings.ui.overlay_enabled)

    def set_dock(self, edge: str, *, announce: bool = True) -> None:
        edge = edge if edge in DOCK_EDGES else ""
        note = self.desktop.dock(edge or None, self._window.screen()) or ""
        ui = self._prefs.settings.ui
        if ui.overlay_dock != edge:
            ui.overlay_dock = edge
            self._prefs.schedule_save()
        self._window.set_dock_checked(edge, note)
        if note and announce:
            self._window.notify(note, 15000)
        if edge and announce and not ui.overlay_enabled:
            self._set_visible(True)  # choosing a bar means wanting to see it

    def apply_shortcut(self, text: str, *, announce: bool) -> str | None:
        problem = self.desktop.set_shortcut(text)
        self.shortcut_problem = problem
        act = self._window.act_caption_shortcut
        if problem:
            act.setToolTip(problem)
            if announce:
                self._window.notify(problem, 15000)
        else:
            act.setToolTip(f"Now: {text}" if text else "No shortcut")
        return problem

    def choose_shortcut(self) -> None:
        dialog = ShortcutDialog(
            self._prefs.settings.ui.caption_shortcut,
            self.desktop.has_global_shortcut,
            self._window,
        )
        dialog.try_shortcut = lambda text: self.apply_shortcut(text, announce=False)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._prefs.settings.ui.caption_shortcut = dialog.chosen
            self._prefs.schedule_save()
        else:  # put the saved one back
            self.apply_shortcut(self._prefs.settings.ui.caption_shortcut, announce=False)

    def close(self) -> None:
        self.desktop.close()


class ShortcutDialog(QDialog):
    """Choose the global show/hide shortcut; a key another application holds is said here and
    the dialog stays open."""

    def __init__(self, current: str, available: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Show/hide shortcut for captions")
        self.chosen = current
        self.try_shortcut: Callable[[str], str | None] = lambda _text: None
        lay = QVBoxLayout(self)
        intro = QLabel(
            "Press the keys that show and hide the captions from any application."
            if available
            else NO_GLOBAL_SHORTCUT
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.edit = QKeySequenceEdit(QKeySequence(current))
        self.edit.setMaximumSequenceLength(1)
        self.edit.setClearButtonEnabled(True)
        self.edit.setAccessibleName("Show/hide shortcut")
        self.edit.setEnabled(available)
        lay.addWidget(self.edit)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #ff8a80;")
        lay.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _accept(self) -> None:
        text = self.edit.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
        problem = self.try_shortcut(text)
        if problem:
            self.problem.setText(problem)
            return
        self.chosen = text
        self.accept()
