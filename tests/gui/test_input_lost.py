"""The chosen microphone is unplugged while the app listens (issue 12, defect 5), on a real
PulseAudio server: the microphone is a `module-remap-source` of a "room" null sink, and the
default source, where PulseAudio moves the stream, is the monitor of the "speakers" sink.

Before the fix the app went on "listening to test_mic" while it captured the speakers' monitor:
no banner, the picker unchanged. Now the banner names both devices, capture waits for the
microphone (the session goes on), the button switches to listening to the speakers meanwhile
(saved in the settings), and plugging the microphone back clears the banner and captions flow.
"""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
from gui_helpers import app_settings, clip, wait_until, words

from app import settings as settings_mod
from app.settings import Settings
from app.worker import IDLE, RUNNING

pytestmark = [pytest.mark.slow, pytest.mark.audio]

MIC = "test_mic"


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from tests.audio_env import noise_floor, pulse_available, room_and_speakers

    if not pulse_available():
        pytest.skip("needs pulseaudio, pactl, pacat and PortAudio (libportaudio2)")
    with room_and_speakers(tmp_path_factory.mktemp("pulse")) as server:
        server.play_in_background("room", noise_floor(600, server.rate))
        yield server


@pytest.fixture
def mic(pulse):  # noqa: ANN001, ANN201
    """The microphone, plugged in."""
    from tests.audio_env import Microphone

    plugged = Microphone(pulse.env, name=MIC)
    plugged.plug()
    yield plugged
    plugged.unplug()


def test_unplugged_microphone_banner_choice_and_reconnect(pulse, mic, make_controller) -> None:  # noqa: ANN001
    settings = app_settings(f"pulse:{MIC}")
    c = make_controller(settings)
    c.show()
    label = c.window.input_label(f"pulse:{MIC}")
    assert label == "Microphone: Test_microphone"
    assert c.start()
    wait_until(lambda: c.state == RUNNING, 120, "capture to start")

    mic.unplug()
    banner = c.window.input_banner
    wait_until(banner.isVisible, 10, "the input banner")
    print("\nbanner:", banner.text(), "|", banner.choice.text())
    assert "Test_microphone" in banner.text() and "Monitor of Speakers" in banner.text()
    assert "waiting" in banner.text()
    assert banner.choice.text() == "Listen to “Monitor of Speakers” meanwhile"
    assert c.window.input_label(f"pulse:{MIC}") == f"{label} (disconnected — waiting for it)"
    assert c.state == RUNNING  # the session goes on
    assert not c.window.banner.isVisible()  # no error
    assert c.window.state_label.text() == "● Waiting for “Test_microphone”"  # not "Listening"

    banner.choice.click()  # the other choice: listen to the speakers meanwhile
    wait_until(lambda: "listening to" in banner.title.text(), 10, "the engine to follow")
    assert c.settings.engine.audio.when_input_lost == "follow"
    assert banner.choice.text() == "Stop listening to “Monitor of Speakers”"
    status = c.window.state_label.text()
    assert status == "● Listening to “Monitor of Speakers” — “Test_microphone” is away", status
    c.save_settings()
    assert settings_mod.load().engine.audio.when_input_lost == "follow"  # the choice is kept

    mic.plug()
    wait_until(lambda: not banner.isVisible(), 10, "the banner to clear on reconnect")
    assert c.window.input_label(f"pulse:{MIC}") == label
    assert c.state == RUNNING
    assert c.window.state_label.text() == "● Listening"
    player = subprocess.Popen(
        ["paplay", "-d", "room", str(clip("goforward.wav"))],
        env=pulse.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: "forward" in words(" ".join(ln.text for ln in c.session.lines() if ln.final)),
            40,
            "a caption from the reconnected microphone",
        )
    finally:
        player.wait(30)


def test_stop_and_start_while_the_microphone_is_away_waits_for_it(mic, make_controller) -> None:  # noqa: ANN001
    """Before: the new run failed with "The input 'test_mic' is not connected" (the error
    banner, the engine idle); now it waits for the microphone and says so."""
    settings = app_settings(f"pulse:{MIC}")
    settings.engine = dataclasses.replace(
        settings.engine,
        audio=dataclasses.replace(settings.engine.audio, when_input_lost="wait"),
    )
    c = make_controller(settings)
    c.show()
    assert c.start()
    wait_until(lambda: c.state == RUNNING, 120, "capture to start")
    mic.unplug()
    banner = c.window.input_banner
    wait_until(banner.isVisible, 10, "the input banner")

    c.stop()  # Stop, then Start while the microphone is away
    wait_until(lambda: c.state == IDLE, 30, "the engine to stop")
    assert not banner.isVisible()
    assert c.start()
    wait_until(lambda: c.state == RUNNING or c.window.banner.isVisible(), 120, "the new run")
    wait_until(banner.isVisible, 10, "the input banner of the new run")
    assert not c.window.banner.isVisible(), c.window.banner.text()  # no "not connected" error
    assert c.state == RUNNING
    print("\nbanner:", banner.text(), "| status:", c.window.state_label.text())
    assert banner.title.text() == "Microphone not connected"
    assert "“Test_microphone” is not connected — waiting for it" in banner.text()
    assert banner.choice.text() == "Listen to “Monitor of Speakers” meanwhile"
    assert c.window.state_label.text() == "● Waiting for “Test_microphone”"
    assert "not connected — waiting for it" in (c.window.input_label(f"pulse:{MIC}") or "")

    mic.plug()
    wait_until(lambda: not banner.isVisible(), 10, "the banner to clear on reconnect")
    assert c.state == RUNNING
    assert c.window.state_label.text() == "● Listening"


def test_the_choice_is_in_the_settings_dialog(themed_app) -> None:  # noqa: ANN001
    from app.settings_dialog import SettingsDialog

    settings = Settings()
    dialog = SettingsDialog(settings)
    combo = dialog.input_lost
    assert combo.currentData() == "wait"  # the safe default: never the speakers by surprise
    combo.setCurrentIndex(combo.findData("follow"))
    assert dialog.result_settings().engine.audio.when_input_lost == "follow"
    dialog.deleteLater()
