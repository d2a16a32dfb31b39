"""Pictures of the app while its microphone is unplugged and plugged back (issue 12, defect 5),
under Xvfb with openbox and a private PulseAudio server.

    .venv/bin/python tools/input_lost_shots.py [--out DIR]

The microphone is a `module-remap-source` of a "room" null sink; the default source, where
PulseAudio moves the stream, is the monitor of a "speakers" sink. Saves into DIR (default:
./input-lost-shots): listening to the microphone, just after it was unplugged (waiting), after
"Listen to … meanwhile", the input picker opened while it is away, after it came back, and
after Stop and Start while it is away again (the new run waits for it).
Look at every picture.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MIC = "test_mic"


def inner(out: Path) -> int:
    """Runs on the Xvfb display, with the PulseAudio server of `main` in the environment."""
    from PySide6.QtWidgets import QApplication

    from app.controller import AppController
    from app.settings import Settings
    from app.theme import apply_theme
    from app.worker import IDLE, RUNNING
    from tests.audio_env import refresh_portaudio

    refresh_portaudio()
    app = QApplication(["dragoman"])
    app.setApplicationName("Dragoman")
    apply_theme(app)
    out.mkdir(parents=True, exist_ok=True)

    def wait(predicate, timeout: float) -> bool:  # noqa: ANN001
        end = time.monotonic() + timeout
        while not predicate() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        return bool(predicate())

    def pactl(*args: str) -> str:
        return subprocess.run(
            ["pactl", *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    def plug() -> str:
        return pactl(
            "load-module",
            "module-remap-source",
            f"source_name={MIC}",
            "master=room.monitor",
            "source_properties=device.description=USB_microphone",
        )

    module = plug()
    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.source = f"pulse:{MIC}"
    c = AppController(settings)
    win = c.window
    win.setGeometry(30, 30, 1100, 560)
    c.show()
    assert c.start()
    assert wait(lambda: c.state == RUNNING, 180), "the app did not start listening"
    wait(lambda: False, 1.0)
    win.grab().save(str(out / "01-listening.png"))

    pactl("unload-module", module)
    assert wait(win.input_banner.isVisible, 10), "no banner after the unplug"
    wait(lambda: False, 0.5)
    win.grab().save(str(out / "02-unplugged-waiting.png"))

    win.input_combo.showPopup()
    wait(lambda: False, 0.5)
    app.primaryScreen().grabWindow(0).save(str(out / "03-picker-while-away.png"))
    win.input_combo.hidePopup()

    win.input_banner.choice.click()
    assert wait(lambda: "listening to" in win.input_banner.title.text(), 10), "did not follow"
    wait(lambda: False, 0.5)
    win.grab().save(str(out / "04-listening-to-the-speakers-meanwhile.png"))

    module = plug()
    assert wait(lambda: not win.input_banner.isVisible(), 10), "banner stayed after replug"
    wait(lambda: False, 0.5)
    win.grab().save(str(out / "05-back.png"))

    pactl("unload-module", module)  # away again (following, as chosen in 04): wait instead
    assert wait(win.input_banner.isVisible, 10), "no banner after the second unplug"
    win.input_banner.choice.click()
    assert wait(lambda: win.input_banner.title.text() == "Microphone disconnected", 10), (
        win.input_banner.title.text()
    )
    c.stop()  # Stop, then Start while it is away: the new run waits for it
    assert wait(lambda: c.state == IDLE, 30), "did not stop"
    assert c.start()
    assert wait(lambda: c.state == RUNNING and win.input_banner.isVisible(), 180), "no wait"
    wait(lambda: False, 0.5)
    win.grab().save(str(out / "06-restarted-while-away.png"))
    module = plug()
    assert wait(lambda: not win.input_banner.isVisible(), 10), "banner stayed after replug"
    c.shutdown()
    app.quit()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("input-lost-shots"))
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        return inner(args.out)
    sys.path.insert(0, str(REPO / "tools"))
    sys.path.insert(0, str(REPO))
    from screenshots import xvfb_session

    from tests.audio_env import pulse_server

    with (
        tempfile.TemporaryDirectory() as tmp,
        pulse_server(Path(tmp) / "pulse", sink="room") as pulse,
        xvfb_session(wm=True) as env,
    ):
        pulse.pactl(
            "load-module",
            "module-null-sink",
            "sink_name=speakers",
            "rate=48000",
            "sink_properties=device.description=Speakers",
        )
        pulse.pactl("set-default-source", "speakers.monitor")
        # a microphone's noise floor (exact zeros would rightly be reported as "no signal")
        noise = Path(tmp) / "noise.wav"
        samples = np.random.default_rng(0).normal(0, 0.001, 300 * pulse.rate)
        with wave.open(str(noise), "wb") as fh:
            fh.setnchannels(1)
            fh.setsampwidth(2)
            fh.setframerate(pulse.rate)
            fh.writeframes((samples * 32767).astype("<i2").tobytes())
        floor = subprocess.Popen(["paplay", "-d", "room", str(noise)], env=pulse.env)
        env = {
            **env,
            **{k: v for k, v in pulse.env.items() if k.startswith("PULSE_")},
            "PYTHONPATH": str(REPO),
            "DRAGOMAN_HOME": str(Path(tmp) / "home"),
        }
        cmd = [sys.executable, str(Path(__file__).resolve()), "--inner", "--out"]
        try:
            done = subprocess.run([*cmd, str(args.out.resolve())], env=env, cwd=REPO, timeout=600)
        finally:
            floor.terminate()
            floor.wait(5)
    print(f"pictures in {args.out.resolve()}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
