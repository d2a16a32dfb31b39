"""Entry point of the desktop app: `main(argv) -> int` (used by `dragoman` and `python -m app`).

Importing this module has no side effects; Qt is imported only when `main` runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dragoman", description="Dragoman live interpreter")
    parser.add_argument(
        "--tray", action="store_true", help="start in the system tray with the caption overlay"
    )
    parser.add_argument(
        "--input", metavar="SPEC", help="audio input: mic, mic:NAME, pulse:SOURCE or a file path"
    )
    parser.add_argument("--start", action="store_true", help="start interpreting right away")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser.add_argument(
        "file",
        nargs="?",
        metavar="AUDIO_FILE",
        help="open this audio file and caption it (what the desktop's 'Open with' passes)",
    )
    return parser


def no_display() -> bool:
    """True on Linux/BSD when there is no screen to open a window on (and Qt was not told to
    render elsewhere): Qt would abort with a confusing plugin message."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv) if argv is not None else sys.argv[1:])
    if no_display():
        print(
            "dragoman: error: no display to open the window on (DISPLAY and WAYLAND_DISPLAY "
            "are unset); for headless captioning use `dragoman run INPUT`",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app import settings as settings_mod
    from app.controller import AppController
    from app.qt_compat import guard_none_refcount
    from app.theme import apply_theme

    guard_none_refcount()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Dragoman")
    app.setApplicationDisplayName("Dragoman")
    app.setDesktopFileName("dragoman")
    app.setQuitOnLastWindowClosed(not args.tray)
    apply_theme(app)
    settings = settings_mod.load()
    if args.input:
        settings.ui.source = args.input
    if args.file:
        settings.ui.source = str(Path(args.file).resolve())
    controller = AppController(settings, tray_mode=args.tray)
    app.setWindowIcon(controller.icon)
    app.aboutToQuit.connect(controller.shutdown)
    controller.show()
    if args.start or args.file:
        QTimer.singleShot(0, controller.start)
    return int(app.exec())
