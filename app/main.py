"""Entry point of the desktop app: `main(argv) -> int` (used by `dragoman` and `python -m app`).

Importing this module has no side effects; Qt is imported only when `main` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtCore import QObject


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
    _defer_termination_signals()  # a logout while Qt and the models load still saves and exits 0
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app import settings as settings_mod
    from app.controller import AppController
    from app.single_instance import Request, SingleInstance
    from app.theme import apply_theme
    from app.worker import engine_thread_stuck

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Dragoman")
    app.setApplicationDisplayName("Dragoman")
    app.setDesktopFileName("org.dragoman.dragoman")  # installers/linux/*.desktop
    app.setQuitOnLastWindowClosed(not args.tray)
    apply_theme(app)
    source = str(Path(args.file).resolve()) if args.file else args.input
    instance = SingleInstance()
    if not instance.acquire():
        # one Dragoman per user: hand the request to the running one (it shows its window)
        request = Request(source=source, start=bool(args.start or args.file))
        if instance.send(request):
            print("dragoman: already running; the open window takes this request")
            return 0
        print(
            "dragoman: error: another Dragoman holds the lock but does not answer", file=sys.stderr
        )
        return 1
    settings = settings_mod.load()
    if source:
        settings.ui.source = source
    controller = AppController(settings, tray_mode=args.tray)
    instance.requested.connect(controller.handle_request)
    app.setWindowIcon(controller.icon)
    app.aboutToQuit.connect(controller.shutdown)
    quit_on_termination_signals(app, controller.quit)
    controller.show()
    if args.start or args.file:
        QTimer.singleShot(0, controller.start)
    rc = int(app.exec())
    controller.shutdown()
    instance.release()
    if engine_thread_stuck():
        # the session and settings are saved; Qt's teardown would abort on the live thread
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    return rc


def quit_on_termination_signals(app: QObject, quit_app: Callable[[], None]) -> None:
    """SIGTERM (logout, systemd) and SIGINT quit like the Quit menu: the session is saved and
    the exit status is 0. Qt's event loop runs in C++, so the signal wakes it through a socket
    (`signal.set_wakeup_fd`) watched by a QSocketNotifier."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)

    notifier.activated.connect(drain)
    _keep_alive.extend([reader, writer, notifier])

    def on_signal(signum: int, _frame: object) -> None:
        logging.getLogger(__name__).info("signal %d: saving and quitting", signum)
        quit_app()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if _early_signals:  # arrived while starting up
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, quit_app)


_keep_alive: list[object] = []
_early_signals: list[int] = []


def _defer_termination_signals() -> None:
    """Until the window exists, note SIGTERM/SIGINT instead of dying; the app quits cleanly as
    soon as it is up (see `quit_on_termination_signals`)."""
    import signal

    def note(signum: int, _frame: object) -> None:
        _early_signals.append(signum)

    signal.signal(signal.SIGTERM, note)
    signal.signal(signal.SIGINT, note)
