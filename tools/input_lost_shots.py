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
import sys
import tempfile
from pathlib import Path

from screenshots import REPO, pump, run_inner, themed_app, wait_for, xvfb_session

MIC = "test_mic"


def inner(out: Path) -> int:
    """Runs on the Xvfb display, with the PulseAudio server of `main` in the environment."""
    from app.controller import AppController
    from app.settings import Settings
    from app.worker import IDLE, RUNNING
    from tests.audio_env import Microphone, refresh_portaudio

    refresh_portaudio()
    app = themed_app()
    out.mkdir(parents=True, exist_ok=True)

    mic = Microphone(name=MIC, description="USB_microphone")
    mic.plug()
    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.source = f"pulse:{MIC}"
    c = AppController(settings)
    win = c.window
    win.setGeometry(30, 30, 1100, 560)
    c.show()
    assert c.start()
    assert wait_for(lambda: c.state == RUNNING, 180), "the app did not start listening"
    pump(1.0)
    win.grab().save(str(out / "01-listening.png"))

    mic.unplug()
    assert wait_for(win.input_banner.isVisible, 10), "no banner after the unplug"
    pump(0.5)
    win.grab().save(str(out / "02-unplugged-waiting.png"))

    win.input_combo.showPopup()
    pump(0.5)
    app.primaryScreen().grabWindow(0).save(str(out / "03-picker-while-away.png"))
    win.input_combo.hidePopup()

    win.input_banner.choice.click()
    assert wait_for(lambda: "listening to" in win.input_banner.title.text(), 10), "did not follow"
    pump(0.5)
    win.grab().save(str(out / "04-listening-to-the-speakers-meanwhile.png"))

    mic.plug()
    assert wait_for(lambda: not win.input_banner.isVisible(), 10), "banner stayed after replug"
    pump(0.5)
    win.grab().save(str(out / "05-back.png"))

    mic.unplug()  # away again (following, as chosen in 04): wait instead
    assert wait_for(win.input_banner.isVisible, 10), "no banner after the second unplug"
    win.input_banner.choice.click()
    assert wait_for(lambda: win.input_banner.title.text() == "Microphone disconnected", 10), (
        win.input_banner.title.text()
    )
    c.stop()  # Stop, then Start while it is away: the new run waits for it
    assert wait_for(lambda: c.state == IDLE, 30), "did not stop"
    assert c.start()
    assert wait_for(lambda: c.state == RUNNING and win.input_banner.isVisible(), 180), "no wait"
    pump(0.5)
    win.grab().save(str(out / "06-restarted-while-away.png"))
    mic.plug()
    assert wait_for(lambda: not win.input_banner.isVisible(), 10), "banner stayed after replug"
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
    sys.path.insert(0, str(REPO))
    from tests.audio_env import noise_floor, room_and_speakers

    with (
        tempfile.TemporaryDirectory() as tmp,
        room_and_speakers(Path(tmp) / "pulse") as pulse,
        xvfb_session(wm=True) as env,
    ):
        pulse.play_in_background("room", noise_floor(300, pulse.rate))
        env = {**env, **{k: v for k, v in pulse.env.items() if k.startswith("PULSE_")}}
        rc = run_inner(__file__, env, Path(tmp) / "home", "--out", str(args.out.resolve()))
    print(f"pictures in {args.out.resolve()}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
