"""Screenshots of the real app under Xvfb (not offscreen): main window, caption overlay, desktop.

    .venv/bin/python tools/screenshots.py [--out DIR] [--clip WAV ...] [--target LANG]

Starts Xvfb (1280x800x24), a system tray (trayer) and a compositor (xcompmgr, so the overlay's
translucency blends), then runs the app in a child process on that display: it interprets the
clips (joined with pauses, played at real-time pace), and saves `main-window.png`,
`main-window-live.png` (mid-sentence), `overlay.png` (the overlay as composited over the
desktop), `tray-menu.png` and `desktop.png` into DIR
(default: ./screenshots). Also used by tests/gui/test_tray.py for a real tray, and by the other
picture tools (review_shots, desktop_shots, input_lost_shots) for the display and the app.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO / ".." / "shared" / "data" / "speech"
DEFAULT_CLIPS = ("forever.wav", "goforward.wav", "cards-005.wav")


def _read_display(read_fd: int, timeout: float = 15.0) -> str:
    """Xvfb -displayfd writes the display number and a newline; read until the newline."""
    deadline = time.monotonic() + timeout
    data = b""
    os.set_blocking(read_fd, False)
    while not data.endswith(b"\n"):
        if time.monotonic() > deadline:
            raise RuntimeError("Xvfb did not report its display")
        try:
            chunk = os.read(read_fd, 64)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        if not chunk:
            raise RuntimeError("Xvfb exited before reporting its display")
        data += chunk
    return data.decode().strip()


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait_for_wm(env: dict[str, str], timeout: float = 30.0) -> None:
    """Until the window manager announces itself (_NET_SUPPORTING_WM_CHECK on the root)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run(
            ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"],
            env=env,
            capture_output=True,
            text=True,
        )
        if "window id" in done.stdout:
            return
        time.sleep(0.05)
    raise RuntimeError("the window manager did not start")


@contextlib.contextmanager
def xvfb_session(
    *, tray: bool = True, compositor: bool = True, size: str = "1280x800x24", wm: bool = False
) -> Iterator[dict[str, str]]:
    """Xvfb (+ trayer, + xcompmgr, + the openbox window manager when `wm`); yields an
    environment for child processes."""
    if not shutil.which("Xvfb"):
        raise RuntimeError("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    helpers: list[subprocess.Popen] = []
    try:
        display = ":" + _read_display(read_fd)
        env = {**os.environ, "DISPLAY": display}
        env.pop("QT_QPA_PLATFORM", None)
        env.pop("WAYLAND_DISPLAY", None)
        if wm:
            if not shutil.which("openbox"):
                raise RuntimeError("openbox is not installed (apt-get install openbox)")
            helpers.append(
                subprocess.Popen(
                    ["openbox", "--sm-disable"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            _wait_for_wm(env)
        if compositor and shutil.which("xcompmgr"):
            helpers.append(
                subprocess.Popen(
                    ["xcompmgr"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        if tray and shutil.which("trayer"):
            helpers.append(
                subprocess.Popen(
                    [
                        "trayer",
                        "--edge",
                        "top",
                        "--align",
                        "right",
                        "--widthtype",
                        "request",
                        "--height",
                        "24",
                        "--SetDockType",
                        "true",
                        "--transparent",
                        "false",
                        "--tint",
                        "0x202020",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(0.8)  # let the tray claim its selection before Qt asks for it
        yield env
    finally:
        for proc in reversed(helpers):
            _stop(proc)
        _stop(xvfb)
        os.close(read_fd)


def join_clips(names: list[str], out: Path, pause_s: float = 1.2) -> Path:
    """One WAV of the clips with pauses between them (16 kHz mono)."""
    import numpy as np
    import soundfile as sf

    from engine.audio.io import load_audio

    parts = []
    silence = np.zeros(int(16000 * pause_s), dtype=np.float32)
    for name in names:
        path = Path(name) if Path(name).is_file() else SPEECH / name
        parts += [load_audio(path), silence]
    sf.write(out, np.concatenate([silence[:8000], *parts]), 16000)
    return out


def run_inner(
    script: str, env: dict[str, str], home: Path, *args: str, timeout: float = 600
) -> int:
    """Runs `script --inner ARGS` on the display of `env` (an xvfb_session's), with the repository
    on its path and `home` as DRAGOMAN_HOME; returns its exit status."""
    env = {**env, "PYTHONPATH": str(REPO), "DRAGOMAN_HOME": str(home)}
    cmd = [sys.executable, str(Path(script).resolve()), "--inner", *args]
    return subprocess.run(cmd, env=env, cwd=REPO, timeout=timeout).returncode


# --------------------------------------------------------------------------- inside Xvfb
def themed_app() -> QApplication:
    """The app's QApplication, named and themed as `dragoman` makes it."""
    from PySide6.QtWidgets import QApplication

    from app.theme import apply_theme

    app = QApplication(["dragoman"])
    app.setApplicationName("Dragoman")
    apply_theme(app)
    return app


def pump(seconds: float) -> None:
    """Runs the Qt event loop for `seconds` (windows map, repaint, settle)."""
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def wait_for(predicate: Callable[[], object], timeout: float) -> bool:
    """Runs the Qt event loop until `predicate()` holds or `timeout` s passed; whether it holds."""
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)
    return bool(predicate())


def inner(out: Path, audio: Path, target: str | None) -> int:
    """Runs on the Xvfb display: the real app, one run, then the pictures."""
    from PySide6.QtCore import QPoint, QTimer

    from app.controller import AppController
    from app.settings import Settings

    app = themed_app()
    settings = Settings()
    settings.ui.source = str(audio)
    settings.ui.overlay_enabled = True
    settings.ui.overlay_geometry = [260, 610, 760, 130]
    if target:
        import dataclasses

        cfg = settings.engine
        settings.engine = dataclasses.replace(
            cfg, translation=dataclasses.replace(cfg.translation, target_lang=target)
        )
    controller = AppController(settings)
    controller.window.setGeometry(40, 40, 1140, 560)
    controller.show()
    started = False
    began = time.monotonic()

    def start_when_ready() -> None:
        nonlocal started
        if not controller.preloading and controller.state == "idle" and not started:
            started = True
            controller.start()

    live_taken = False

    def shoot() -> None:
        nonlocal live_taken
        view = controller.window.subtitles
        n = view.row_count()
        last = view.row_state(view.model_.line_at(n - 1).segment_id) if n else None
        if (
            not live_taken
            and controller.state == "running"
            and n >= 2
            and last is not None
            and last.live
        ):
            live_taken = True  # mid-sentence: a dimmed partial and a moving level meter
            out.mkdir(parents=True, exist_ok=True)
            controller.window.grab().save(str(out / "main-window-live.png"))
        if (not started or controller.state != "idle") and time.monotonic() - began < 240:
            return
        poll.stop()
        QTimer.singleShot(600, save)

    def save() -> None:
        out.mkdir(parents=True, exist_ok=True)
        controller.window.grab().save(str(out / "main-window.png"))
        screen = app.primaryScreen()
        g = controller.overlay.frameGeometry()
        screen.grabWindow(0, g.x() - 20, g.y() - 20, g.width() + 40, g.height() + 40).save(
            str(out / "overlay.png")
        )
        screen.grabWindow(0).save(str(out / "desktop.png"))
        menu = controller.tray.menu  # the tray menu as it pops up under the tray icon
        menu.popup(QPoint(screen.geometry().width() - menu.sizeHint().width() - 8, 26))
        app.processEvents()
        time.sleep(0.3)
        app.processEvents()
        g = menu.geometry()
        screen.grabWindow(0, g.x() - 10, 0, g.width() + 20, g.bottom() + 10).save(
            str(out / "tray-menu.png")
        )
        menu.hide()
        lines = controller.session.lines()
        print(
            f"tray available: {controller.tray.available()}, icon visible: "
            f"{controller.tray.icon.isVisible()}"
        )
        for line in lines:
            print(
                f"  [{line.start:5.1f}-{line.end:5.1f}] {line.speaker}: {line.text}"
                + (f"  ->  {line.translation}" if line.translation else "")
            )
        if controller.window.banner.isVisible():
            print("banner:", controller.window.banner.text())
        controller.shutdown()
        app.quit()

    def step() -> None:
        try:
            start_when_ready()
            shoot()
        except Exception:
            poll.stop()
            app.exit(1)
            raise

    poll = QTimer()
    poll.timeout.connect(step)
    poll.start(100)
    return app.exec()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--clip", action="append", help="clip(s) from ../shared/data/speech")
    parser.add_argument("--target", help="translate into this language (needs a model)")
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        return inner(args.out, args.inner, args.target)
    with tempfile.TemporaryDirectory() as tmp, xvfb_session() as env:
        audio = join_clips(list(args.clip or DEFAULT_CLIPS), Path(tmp) / "demo.wav")
        home = Path(env.get("DRAGOMAN_HOME", Path(tmp) / "home"))
        target = ["--target", args.target] if args.target else []
        rc = run_inner(__file__, env, home, str(audio), "--out", str(args.out.resolve()), *target)
    print(f"screenshots in {args.out.resolve()}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
