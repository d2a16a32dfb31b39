"""The last source of all vanishes while Dragoman captures it (issue 12, defect 5), on a real
PulseAudio server whose only device is one null sink: its monitor is the input. Unloading the
sink leaves the server no source to move the stream to, so it ends the stream. Before the fix
the run ended with "stopped delivering audio"; now capture waits for the device and comes back
to it when it returns, the run going on.
"""

from __future__ import annotations

import time

import pytest

from engine.audio import SAMPLE_RATE, pulse
from engine.audio.sources import MicrophoneSource
from engine.config import AudioOptions
from engine.events import InputLost, InputRestored
from tests.audio_env import band_energies, pulse_available, pulse_server, tone
from tests.integration.test_input_lost_pulse import Listener

pytestmark = pytest.mark.audio

SINK, HZ = "only", 440.0
NULL_SINK = ("module-null-sink", f"sink_name={SINK}", "rate=48000", "channels=1")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    if not pulse_available():  # installed by installers/setup.sh: missing means a broken setup
        pytest.fail("needs pulseaudio, pactl, pacat, parecord and libportaudio2 (see .ci/run)")
    with pulse_server(tmp_path_factory.mktemp("pulse"), sink=SINK, keepalive=False) as srv:
        yield srv


@pytest.mark.parametrize("policy", ["wait", "follow"])
def test_the_last_source_vanishing_waits_for_it(server, policy) -> None:  # noqa: ANN001
    source = MicrophoneSource(f"pulse:{SINK}.monitor", AudioOptions(when_input_lost=policy))
    listener = Listener(source)
    try:
        listener.wait_audio(0.5)
        server.pactl("unload-module", "module-null-sink")  # no source left on the server
        assert not pulse.list_sources()
        lost = listener.wait_event(InputLost)
        print(f"\n{lost}")
        assert lost.device == f"{SINK}.monitor" and lost.moved_to is None
        assert not lost.following  # nothing to follow
        time.sleep(1.5)  # before: "stopped delivering audio" within 0.5 s, the blocks ended
        assert listener.thread.is_alive() and source.waiting

        server.pactl("load-module", *NULL_SINK)
        listener.wait_event(InputRestored)
        assert not source.waiting
        player = server.play_in_background(SINK, tone(HZ, 3.0, server.rate, 0.5))
        try:
            t0 = listener.wait_audio(1.5)
            heard = band_energies(listener.audio_between(t0, time.monotonic()), SAMPLE_RATE, [HZ])
            assert float(heard[:, 0].max()) > 1.0, heard[:, 0].max()  # captured from it again
        finally:
            player.wait(10)
    finally:
        listener.close()
        if not any(d.name == f"{SINK}.monitor" for d in pulse.list_sources()):
            server.pactl("load-module", *NULL_SINK)
