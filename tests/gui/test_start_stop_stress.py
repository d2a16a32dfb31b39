"""Start/Stop stress on real capture devices (issue 12, defect 1): 50 cycles at random intervals
on a PulseAudio monitor ("system audio") and on a microphone-type source.
Before the fix, Stop hung for good in most runs of a handful of cycles ("Stopping…" forever):
the UI thread and the engine thread were inside PortAudio's stop at once.
"""

from __future__ import annotations

import faulthandler
import random
import tempfile
import time

import pytest
from gui_helpers import wait_until

from app.settings import Settings
from app.worker import IDLE, LOADING, RUNNING

pytestmark = [pytest.mark.slow, pytest.mark.audio]

CYCLES = 50


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from tests.audio_env import pulse_available, pulse_server

    if not pulse_available():
        pytest.skip("needs pulseaudio, pactl, pacat and PortAudio (libportaudio2)")
    with pulse_server(tmp_path_factory.mktemp("pulse")) as server:
        # a microphone as PulseAudio sees one (not a monitor), fed by the sink
        server.pactl(
            "load-module",
            "module-remap-source",
            "source_name=test_mic",
            f"master={server.monitor}",
            "source_properties=device.description=Test_microphone",
        )
        yield server


def _stacks() -> str:
    with tempfile.TemporaryFile("w+") as fh:
        faulthandler.dump_traceback(fh, all_threads=True)
        fh.seek(0)
        return fh.read()


@pytest.mark.parametrize("source", ["monitor", "mic"])
def test_fifty_start_stop_cycles_never_hang(pulse, make_controller, source: str) -> None:  # noqa: ANN001
    spec = f"pulse:{pulse.monitor}" if source == "monitor" else "pulse:test_mic"
    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.source = spec
    c = make_controller(settings)
    c.show()
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"\nstress on {spec}, seed {seed}")
    stop_waits: list[float] = []
    for cycle in range(CYCLES):
        c.toggle_running()  # what F5 does
        assert c.state in (LOADING, RUNNING), (cycle, c.state)
        if cycle == 0:  # the first start loads the models
            wait_until(lambda: c.state == RUNNING, 180, "the first run to start")
        pause = rng.uniform(0.05, 0.8)
        until = time.monotonic() + pause
        wait_until(lambda u=until: time.monotonic() > u, 5, "the pause")
        assert c.state != IDLE, (cycle, c.last_error)
        t0 = time.monotonic()
        c.toggle_running()
        try:
            wait_until(lambda: c.state == IDLE, 30, f"Stop to finish (cycle {cycle})")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; seed {seed}\n{_stacks()}") from None
        stop_waits.append(time.monotonic() - t0)
        assert not c.window.banner.isVisible(), (cycle, c.window.banner.text())
    print(f"stop took max {max(stop_waits):.2f} s, median {sorted(stop_waits)[CYCLES // 2]:.2f} s")
