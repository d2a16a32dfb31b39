"""Pictures of the captions on a desktop: the caption bar docked at the top and at the bottom
under a real window manager, and the floating fallback, for a review (issue 12, defect 7).

    .venv/bin/python tools/desktop_shots.py [--out DIR]

Runs the app (no engine run: a few transcript lines are put in) on Xvfb 1280x800 with openbox,
trayer and xcompmgr, and saves whole-screen pictures into DIR (default ./desktop-shots):
`10-bar-top.png` and `11-bar-bottom.png` (the main window maximised: it keeps clear of the
bar), `12-bar-float-fallback.png` (as on a desktop that cannot reserve space, e.g. Wayland:
X11 switched off in the app; the bar floats at the edge and says so on itself and in the status
bar), `13-overlay-default.png`
(a floating overlay's first place, off the main window), `14-overlay-aside.png` (a file
dialog in use: the overlay that covered it has stepped aside) and `15-view-menu.png` (View →
Caption position). Look at every picture.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from screenshots import REPO, pump, run_inner, themed_app, xvfb_session

LINES = (
    ("S1", "Good morning everyone, thanks for joining the quarterly review.", "Bonjour à tous."),
    (
        "S2",
        "Let's start with the numbers from the last three months, which were better than "
        "expected in almost every region.",
        "Commençons par les chiffres des trois derniers mois, meilleurs que prévu presque partout.",
    ),
)


def inner(out: Path, fallback: bool) -> int:
    """Runs on the Xvfb display."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QFileDialog

    import app.caption_bar
    from app.controller import AppController
    from app.settings import Settings
    from engine.session import SessionLine

    if fallback:  # a desktop where no app may reserve space (as on Wayland)
        app.caption_bar.X11.open = staticmethod(lambda display_name=None: None)  # type: ignore[method-assign]
    qapp = themed_app()
    out.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> None:
        pump(0.8)
        subprocess.run(["import", "-window", "root", str(out / name)], check=True)

    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.overlay_enabled = True
    c = AppController(settings)
    c.window.setGeometry(40, 60, 1000, 540)
    c.show()
    lines = [
        SessionLine(100 + i, float(i), i + 1.0, text, speaker, "en", True, translation, "fr")
        for i, (speaker, text, translation) in enumerate(LINES)
    ]
    c.window.show_lines(lines)
    c.overlay.set_lines(lines)
    pump(1.0)
    if fallback:
        c.captions.set_dock("bottom")
        shoot("12-bar-float-fallback.png")
    else:
        shoot("13-overlay-default.png")
        c.overlay.setGeometry(QRect(200, 200, 860, 300))
        dialog = QFileDialog(c.window, "Interpret an audio file", str(REPO))
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setGeometry(QRect(160, 160, 700, 420))
        dialog.open()
        pump(1.0)
        shoot("14-overlay-aside.png")
        dialog.reject()
        c.window.showMaximized()
        for edge, name in (("top", "10-bar-top.png"), ("bottom", "11-bar-bottom.png")):
            c.captions.set_dock(edge)
            c.window.activateWindow()
            shoot(name)
        c.captions.set_dock("")
        c.window.showNormal()
        pump(0.8)
        view = c.window.dock_menu.menuAction().associatedObjects()[0]  # the View menu
        bar = c.window.menuBar()
        view.popup(bar.mapToGlobal(bar.actionGeometry(view.menuAction()).bottomLeft()))
        pump(0.4)
        sub = c.window.dock_menu
        sub.popup(view.mapToGlobal(view.actionGeometry(sub.menuAction()).topRight()))
        view.setActiveAction(sub.menuAction())
        shoot("15-view-menu.png")
        sub.close()
        view.close()
    c.shutdown()
    qapp.quit()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("desktop-shots"))
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fallback", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        return inner(args.out, args.fallback)
    rc, out = 0, str(args.out.resolve())
    for fallback in ([], ["--fallback"]):  # the second run only if the first went well
        with tempfile.TemporaryDirectory() as tmp, xvfb_session(wm=True) as env:
            home = Path(tmp) / "home"
            rc = rc or run_inner(__file__, env, home, "--out", out, *fallback, timeout=300)
    print(f"desktop pictures in {args.out.resolve()}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
