"""The real capture path: a private PulseAudio server with a null sink; a clip is played into
the sink with paplay and the app captures the sink's monitor through sounddevice (PortAudio's
`pulse` device), exactly as it captures "system audio" on a desktop. Then the capture device
disappears mid-run: the banner explains it (the run waits for the device), the transcript
stays, and the app still works.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gui_helpers import app_settings, clip, wait_until, words

from app.settings import Settings
from app.worker import IDLE, RUNNING

pytestmark = [pytest.mark.slow, pytest.mark.audio]


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from tests.audio_env import pulse_available, pulse_server

    if not pulse_available():
        pytest.skip("needs pulseaudio, pactl, pacat and PortAudio (libportaudio2)")
    with pulse_server(tmp_path_factory.mktemp("pulse")) as server:
        yield server


def _play(server, path: Path) -> subprocess.Popen:  # noqa: ANN001
    return subprocess.Popen(
        ["paplay", "-d", server.sink, str(path)],
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_speech_output_plays_into_the_chosen_device(
    pulse,
    make_controller,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    """The speak toggle, output picker and volume drive real playback on the null sink."""
    import soundfile as sf

    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.realtime_files = False
    settings.ui.source = str(clip("goforward.wav"))
    c = make_controller(settings)
    c.show()
    out = c.window.output_combo
    index = out.findData(f"pulse:{pulse.sink}")
    assert index >= 0, [out.itemData(i) for i in range(out.count())]
    out.setCurrentIndex(index)
    out.activated.emit(index)
    c.window.speak_check.setChecked(True)
    c.window.volume.setValue(80)
    assert c.settings.engine.speech.enabled and c.settings.engine.speech.play
    assert c.settings.engine.speech.output_device == f"pulse:{pulse.sink}"
    assert c.settings.engine.speech.volume == 0.8
    recording = tmp_path / "played.wav"
    recorder = pulse.start_recording(recording)
    try:
        assert c.start()
        wait_until(lambda: c.state == RUNNING, 120, "the run to start")
        speech = c.worker._pipeline.speech
        c.window.volume.setValue(50)  # the volume changes while speaking
        assert speech.player.options.volume == 0.5
        wait_until(lambda: c.state == IDLE, 180, "the run to finish")
    finally:
        pulse.stop_recording(recorder)
    assert not c.window.banner.isVisible(), c.window.banner.text()
    assert "Speech" in c.window.latency_label.text()
    audio, rate = sf.read(recording, dtype="float32")
    assert rate == pulse.rate and float(abs(audio).max()) > 0.05  # speech reached the sink


def test_pause_keeps_the_session_and_resume_carries_on(pulse, make_controller) -> None:  # noqa: ANN001
    """Pause stops listening to a live input without ending the meeting: the lines stay, the
    status says so, and Resume listens again in the same session without asking."""
    settings = app_settings(f"pulse:{pulse.monitor}")
    c = make_controller(settings)
    c.show()
    pause = c.window.act_pause
    assert not pause.isEnabled()  # nothing to pause yet
    assert c.start()
    wait_until(lambda: c.state == RUNNING, 120, "capture to start")
    assert pause.isEnabled() and pause.text() == "&Pause listening"
    player = _play(pulse, clip("goforward.wav"))
    try:
        wait_until(lambda: any(ln.final for ln in c.session.lines()), 40, "the first line")
    finally:
        player.wait(30)
    session, first = c.session, [ln for ln in c.session.lines() if ln.final]

    pause.trigger()
    wait_until(lambda: c.state == IDLE, 30, "the pause")
    assert c.window.state_label.text().startswith("Paused")
    assert pause.isEnabled() and pause.text() == "&Resume listening"
    assert c.session is session and [ln for ln in session.lines() if ln.final] == first

    pause.trigger()  # resume: same session, no question asked
    wait_until(lambda: c.state == RUNNING, 60, "listening again")
    player = _play(pulse, clip("cards-003.wav"))
    try:
        wait_until(
            lambda: "clubs" in words(" ".join(ln.text for ln in c.session.lines() if ln.final)),
            40,
            "the line after the pause",
        )
    finally:
        player.wait(30)
    assert c.session is session and c.session.lines()[: len(first)] == first
    c.stop()
    wait_until(lambda: c.state == IDLE, 30, "stop")
    assert pause.text() == "&Pause listening" and not pause.isEnabled()
    assert c.window.state_label.text() == "Ready"


def test_capture_from_monitor_then_device_disappears(pulse, make_controller) -> None:  # noqa: ANN001
    settings = app_settings(f"pulse:{pulse.monitor}")
    c = make_controller(settings)
    c.show()
    # the input picker lists the sink's monitor as system audio
    combo = c.window.input_combo
    labels = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert labels.get(f"pulse:{pulse.monitor}", "").startswith("System audio"), labels

    assert c.start()
    wait_until(lambda: c.state == RUNNING, 120, "capture to start")
    player = _play(pulse, clip("goforward.wav"))
    try:
        wait_until(
            lambda: any(ln.final for ln in c.session.lines()),
            40,
            "the played clip to be transcribed",
        )
    finally:
        player.wait(30)
    assert not c.window.banner.isVisible(), c.window.banner.text()
    text = " ".join(ln.text for ln in c.session.lines() if ln.final)
    said = words(text)
    assert "forward" in said and "ten" in said, text
    rows_before = c.window.subtitles.row_count()
    kept = c.session.lines()

    # the capture device disappears (like a pulled USB microphone), and with it the server's
    # last source: nowhere to move the stream. The run waits for the device (issue 12, defect 5)
    pulse.pactl("unload-module", "module-null-sink")
    wait_until(c.window.input_banner.isVisible, 30, "the device-lost banner")
    banner = c.window.input_banner.text()
    print(f"\nbanner after the device disappeared: {banner}")
    assert "was disconnected — waiting for it to come back" in banner, banner
    assert c.window.input_banner.choice.isHidden()  # no other input to offer
    assert c.window.state_label.text().startswith("● Waiting for"), c.window.state_label.text()
    assert c.state == RUNNING and c.last_error is None, c.last_error
    assert not c.window.banner.isVisible(), c.window.banner.text()
    assert [ln for ln in c.session.lines() if ln.final] == [ln for ln in kept if ln.final]
    c.stop()
    wait_until(lambda: c.state == IDLE, 30, "stop")
    assert c.window.subtitles.row_count() >= rows_before
    assert c.session.flush()
    saved = c.session.path.read_text()
    assert kept[0].text in saved  # on disk too

    # still usable: interpret a file
    c.settings.ui.realtime_files = False
    assert c.start(str(clip("cards-003.wav")))
    wait_until(
        lambda: c.state == IDLE and "clubs" in words(c.session.lines()[-1].text),
        120,
        "a run on a file after the device was lost",
    )
    assert not c.window.banner.isVisible()
