"""Tray mode: the tray menu toggles the caption overlay and starts/stops interpreting.

Offscreen there is no system tray, so the menu's actions are triggered directly (they are the
same QActions the tray menu shows). `test_tray_icon_under_xvfb` checks the real tray icon under
Xvfb with a tray (trayer) when those are installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gui_helpers import REPO, app_settings, clip, wait_until

from app.settings import Settings
from app.worker import IDLE, RUNNING


def test_tray_menu_toggles_overlay_and_start_stop(make_controller, qtbot) -> None:  # noqa: ANN001
    settings = app_settings(str(clip("chan3.wav")))  # 21 s of speech: long enough to stop mid-way
    c = make_controller(settings)
    c.show()
    tray = c.tray
    menu_texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert menu_texts == [
        "Start interpreting",
        "Show window",
        "Caption overlay",
        "Overlay click-through",
        "Quit Dragoman",
    ]

    tray.overlay.trigger()
    assert c.overlay.isVisible() and c.window.act_overlay.isChecked()
    assert c.settings.ui.overlay_enabled
    tray.overlay.trigger()
    assert not c.overlay.isVisible() and not c.window.act_overlay.isChecked()
    c.window.act_overlay.trigger()  # the window's toggle keeps the tray's check in step
    assert tray.overlay.isChecked() and c.overlay.isVisible()

    idle_key = tray.icon.icon().cacheKey()
    tray.start_stop.trigger()
    wait_until(lambda: c.state == RUNNING, 120, "interpreting to start")
    assert tray.start_stop.text() == "Stop interpreting"
    assert tray.icon.icon().cacheKey() == tray.listening_icon.cacheKey() != idle_key
    wait_until(lambda: len(c.session) > 0, 60, "the first words")
    # the overlay shows the last lines as they come
    wait_until(lambda: bool(c.overlay.text_lines()), 10, "the overlay to show captions")
    with qtbot.waitSignal(c.worker.finished, timeout=60_000) as finished:
        tray.start_stop.trigger()
    assert finished.args[0].reason == "stopped"
    wait_until(lambda: c.state == IDLE, 60, "interpreting to stop")
    assert tray.start_stop.text() == "Start interpreting"
    assert tray.icon.icon().cacheKey() == idle_key
    lines = c.session.lines()
    assert lines and all(ln.final for ln in lines)  # stop flushed the open segment
    assert lines[-1].end < 20.0  # it really stopped before the end of the clip
    # after Stop the overlay holds no old captions (issue 12); the transcript keeps them
    assert c.overlay.text_lines() == [] and "Not listening" in c.overlay.labels[1].text()

    tray.show_window.trigger()
    assert c.window.isVisible()
    tray.quit.trigger()  # quits cleanly: session and settings saved, overlay gone
    assert not c.overlay.isVisible()
    assert c.session.path.is_file()


def test_tray_mode_without_a_tray_falls_back_to_the_window(make_controller) -> None:  # noqa: ANN001
    settings = Settings()
    settings.ui.preload_models = False
    c = make_controller(settings, tray_mode=True)
    c.show()
    assert not c.tray.available()  # offscreen has no system tray
    assert c.window.isVisible() and c.overlay.isVisible()


XVFB_CHECK = r"""
import json, sys
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
from app.settings import Settings
from app.controller import AppController
app = QApplication([])
s = Settings(); s.ui.preload_models = False
c = AppController(s, tray_mode=True)
out = {}
def check():
    out["tray_available"] = c.tray.available()
    out["icon_visible"] = c.tray.icon.isVisible()
    out["window_visible"] = c.window.isVisible()
    out["overlay_visible"] = c.overlay.isVisible()
    c.tray.overlay.trigger()
    out["overlay_after_toggle"] = c.overlay.isVisible()
    c.tray.show_window.trigger()
    out["window_after_show"] = c.window.isVisible()
    c.window.close()  # in tray mode closing the window only hides it
    out["window_after_close"] = c.window.isVisible()
    c.shutdown()
    print(json.dumps(out)); app.quit()
c.show()
QTimer.singleShot(1500, check)
app.exec()
"""


@pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("trayer")), reason="needs Xvfb and trayer"
)
def test_tray_icon_under_xvfb(tmp_path: Path) -> None:
    import json

    from tools.screenshots import xvfb_session

    with xvfb_session(tray=True, compositor=False) as env:
        env = {**env, "DRAGOMAN_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
        env.pop("QT_QPA_PLATFORM", None)
        done = subprocess.run(
            [sys.executable, "-c", XVFB_CHECK],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "tray_available": True,
        "icon_visible": True,
        "window_visible": False,  # --tray starts in the tray
        "overlay_visible": True,  # with the caption overlay
        "overlay_after_toggle": False,
        "window_after_show": True,
        "window_after_close": False,
    }, result
    assert os.environ.get("QT_QPA_PLATFORM") == "offscreen"  # this process untouched


def test_the_listening_icon_carries_a_red_light_at_every_tray_size(themed_app) -> None:  # noqa: ANN001
    from app.icons import app_icon
    from app.tray import LISTENING_COLOR, TRAY_SIZES, listening_icon

    icon = listening_icon(app_icon())
    for size in TRAY_SIZES:
        image = icon.pixmap(size, size).toImage()
        assert image.width() == size
        corner = image.pixelColor(size - max(3, size // 6), size - max(3, size // 6))
        assert (corner.red(), corner.green(), corner.blue()) == (
            LISTENING_COLOR.red(),
            LISTENING_COLOR.green(),
            LISTENING_COLOR.blue(),
        ), (size, corner.name())
