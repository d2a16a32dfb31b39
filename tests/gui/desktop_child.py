"""Runs the real app on an X display with a window manager (openbox) for test_caption_bar.py:
`python desktop_child.py CHECK` prints one JSON line of what it saw. CHECK is "dock",
"shortcut", "aside" or "nowm" (no window manager). Driven from outside the app's own event
handling with xdotool, as a person would (keys and clicks go through the X server).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QListView, QWidget

from app.caption_bar import ShortcutDialog
from app.controller import AppController
from app.settings import Settings
from app.x11 import X11, parse_shortcut


def pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def wait(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def xdotool(*args: str) -> str:
    return subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def activate_other() -> None:
    """Focus the other application's window (another process)."""
    wid = xdotool("search", "--sync", "--name", "^Other app$")
    xdotool("windowactivate", "--sync", wid.split()[0])
    wait(lambda: QApplication.focusWindow() is None, 10)  # this app has heard of it


def make(**ui: object) -> AppController:
    settings = Settings()
    settings.ui.preload_models = False
    for key, value in ui.items():
        setattr(settings.ui, key, value)
    c = AppController(settings)
    c.window.setGeometry(40, 60, 1000, 540)
    c.show()
    pump(0.5)
    return c


def check_dock() -> dict[str, object]:
    c = make(overlay_enabled=True)
    x11 = X11.open()
    assert x11 is not None
    out: dict[str, object] = {"before": x11.workarea(), "bar_height": c.overlay.bar_height()}
    h = c.overlay.bar_height()
    floated = c.overlay.geometry()
    out["floated"] = rect(floated)
    expect = {"top": ((0, h, 1280, 800 - h), 0), "bottom": ((0, 0, 1280, 800 - h), 800 - h)}
    for edge in ("top", "bottom"):
        c.window.dock_actions[edge].trigger()
        area, y = expect[edge]
        wait(lambda a=area, y=y: x11.workarea() == a and c.overlay.geometry().y() == y, 10)
        if edge == "top":  # Qt heard the work area change: confirmed before the 3 s timeout
            began = time.monotonic()
            wait(lambda: not c.captions.desktop._verify_pending, 10)
            out["confirmed_in_s"] = round(time.monotonic() - began, 2)
            out["reserved"] = c.captions.desktop.reserved
        pump(0.3)
        out[edge] = {
            "workarea": x11.workarea(),
            "bar": rect(c.overlay.geometry()),
            "visible": c.overlay.isVisible(),
            "saved": c.settings.ui.overlay_dock,
        }
        # a maximised window of another kind keeps off the bar
        other = QWidget()
        other.setWindowTitle(f"maximised {edge}")
        other.showMaximized()
        wait(lambda w=other: w.frameGeometry().height() > 400, 10)
        pump(0.4)
        out[edge]["maximised"] = rect(other.frameGeometry())  # type: ignore[index]
        other.close()
    # click-through on the bar (its window flags change): still a dock with its strip
    c.window.act_click_through.trigger()
    wait(lambda: x11.workarea() == expect["bottom"][0] and c.overlay.isVisible(), 10)
    pump(0.5)
    dock = x11.atom("_NET_WM_WINDOW_TYPE_DOCK")
    out["through"] = {
        "workarea": x11.workarea(),
        "bar": rect(c.overlay.geometry()),
        "dock_type": x11.get_cardinals(int(c.overlay.winId()), "_NET_WM_WINDOW_TYPE") == [dock],
    }
    c.window.act_click_through.trigger()
    c.window.dock_actions[""].trigger()
    wait(lambda: x11.workarea() == out["before"] and c.overlay.geometry() == floated, 10)
    out["after"] = x11.workarea()
    out["after_saved"] = c.settings.ui.overlay_dock
    out["floating"] = rect(c.overlay.geometry())
    x11.close()
    c.shutdown()
    return out


def check_no_window_manager() -> dict[str, object]:
    """A bare X server: nobody reserves space for a dock, and the app must notice."""
    c = make(overlay_enabled=True)
    c.window.dock_actions["top"].trigger()
    out: dict[str, object] = {"reserved_at_first": c.captions.desktop.reserved}
    wait(lambda: bool(c.window.notice_label.text()), 8)
    out["notice"] = c.window.notice_label.text()
    out["badge"] = c.overlay.float_badge.text() if c.overlay.float_badge.isVisible() else ""
    out["tooltip"] = c.window.dock_actions["top"].toolTip()
    out["reserved"] = c.captions.desktop.reserved
    out["bar"] = rect(c.overlay.geometry())
    c.shutdown()
    return out


def check_shortcut() -> dict[str, object]:
    c = make(overlay_enabled=True, caption_shortcut="Ctrl+Alt+C")
    out: dict[str, object] = {"problem": c.captions.shortcut_problem}
    activate_other()
    out["focus_is_other"] = QApplication.focusWindow() is None
    shown = []
    for expect in (False, True):
        xdotool("key", "ctrl+alt+c")
        wait(lambda e=expect: c.overlay.isVisible() is e, 10)
        shown.append(c.overlay.isVisible())
    xdotool("key", "Num_Lock")  # NumLock on: the shortcut still works
    for expect in (False, True):
        xdotool("key", "ctrl+alt+c")
        wait(lambda e=expect: c.overlay.isVisible() is e, 10)
        shown.append(c.overlay.isVisible())
    xdotool("key", "Num_Lock")
    out["toggles"] = shown
    out["enabled_setting"] = c.settings.ui.overlay_enabled
    # another application holds Ctrl+Alt+T: the app says so and keeps no dead shortcut
    other = X11.open()
    assert other is not None
    other.grab(parse_shortcut("Ctrl+Alt+T"))
    out["taken"] = c.captions.apply_shortcut("Ctrl+Alt+T", announce=True)
    out["notice"] = c.window.notice_label.text()
    out["active_shortcut"] = c.captions.desktop.shortcut
    # choosing one in the dialog: the taken key is said there (the dialog stays), a free one
    # is kept, saved, and works
    seen: dict[str, object] = {}

    def in_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ShortcutDialog)
        dialog.edit.setKeySequence(QKeySequence("Ctrl+Alt+T"))
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
        seen["problem"] = dialog.problem.text()
        seen["still_open"] = dialog.isVisible()
        dialog.edit.setKeySequence(QKeySequence("Ctrl+Alt+G"))
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    QTimer.singleShot(300, in_dialog)
    c.window.act_caption_shortcut.trigger()
    out["dialog"] = seen
    out["saved_shortcut"] = c.settings.ui.caption_shortcut
    activate_other()
    xdotool("key", "ctrl+alt+g")
    wait(lambda: not c.overlay.isVisible(), 10)
    out["new_key_hides"] = not c.overlay.isVisible()
    other.close()
    c.shutdown()
    return out


def check_aside(folder: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    c = make(overlay_enabled=True)
    frame = c.window.frameGeometry()
    out["window"] = rect(frame)
    out["default_place"] = rect(c.overlay.frameGeometry())
    out["default_overlaps"] = c.overlay.frameGeometry().intersects(frame)
    # the user drags the overlay over the window's lower half (newest lines) and banner
    c.window.show_error("Audio input problem", "The microphone went away.")
    c.overlay.setGeometry(QRect(frame.x() + 60, frame.y() + 80, 860, 400))
    activate_other()
    wait(lambda: c.overlay.isVisible(), 10)
    out["visible_over_other_app"] = c.overlay.isVisible()
    xdotool("windowactivate", "--sync", str(int(c.window.winId())))
    wait(lambda: not c.overlay.isVisible(), 10)
    out["visible_while_window_active"] = c.overlay.isVisible()
    out["enabled_while_aside"] = c.settings.ui.overlay_enabled
    activate_other()
    wait(lambda: c.overlay.isVisible(), 10)
    out["visible_after_leaving"] = c.overlay.isVisible()
    # a file dialog opens under the overlay: a double-click on a folder must open the folder
    (folder / "inner").mkdir()
    dialog = QFileDialog(c.window, "Interpret an audio file", str(folder))
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setViewMode(QFileDialog.ViewMode.List)
    dialog.setGeometry(QRect(frame.x() + 120, frame.y() + 100, 700, 420))
    dialog.open()
    view = dialog.findChild(QListView, "listView")
    assert view is not None
    wait(lambda: view.model().rowCount(view.rootIndex()) > 0, 10)
    pump(0.4)
    index = view.model().index(0, 0, view.rootIndex())
    point = view.viewport().mapToGlobal(view.visualRect(index).center())
    out["row"] = index.data()
    out["row_under_overlay"] = c.overlay.floating_geometry().contains(point)
    xdotool("mousemove", "--sync", str(point.x()), str(point.y()))
    xdotool("click", "--repeat", "2", "--delay", "80", "1")
    wait(lambda: Path(dialog.directory().absolutePath()).name == "inner", 10)
    out["dialog_folder"] = Path(dialog.directory().absolutePath()).name
    out["visible_while_dialog"] = c.overlay.isVisible()
    dialog.reject()
    activate_other()
    wait(lambda: c.overlay.isVisible(), 10)
    out["visible_after_dialog"] = c.overlay.isVisible()
    c.shutdown()
    return out


def main() -> int:
    app = QApplication(["dragoman"])
    app.setApplicationName("Dragoman")
    check = sys.argv[1]
    if check == "dock":
        out = check_dock()
    elif check == "shortcut":
        out = check_shortcut()
    elif check == "nowm":
        out = check_no_window_manager()
    else:
        out = check_aside(Path(sys.argv[2]))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
