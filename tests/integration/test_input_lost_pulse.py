"""The chosen microphone vanishes while Dragoman listens (issue 12, defect 5), on a real
PulseAudio server.

The "microphone" is a `module-remap-source` of a "room" null sink (a tone plays there); the
default source is the monitor of a second null sink, the "speakers" (another tone plays there,
as Dragoman's own spoken translation would). Unloading the microphone's module makes PulseAudio
move the capture stream to the speakers' monitor. Before the fix nothing noticed: no event, and
the speakers' tone reached the engine under the microphone's name.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine.audio import SAMPLE_RATE, pulse
from engine.audio.sources import MicrophoneSource
from engine.config import AudioOptions
from engine.errors import DeviceError
from engine.events import InputLost, InputRestored
from tests.audio_env import (
    Microphone,
    PulseServer,
    band_energies,
    pulse_available,
    room_and_speakers,
    tone,
)
from tests.cli_env import run_cli

pytestmark = pytest.mark.audio

ROOM_HZ, SPEAKERS_HZ = 440.0, 1000.0
MIC = "test_mic"
# Band magnitudes in a 20 ms frame: the speakers' tone (amplitude 0.5) ~37, the room's (0.05,
# a voice in a microphone) ~3.7, silence ~0. The room tone is quiet so that the click where it
# stops (~0.1-0.2 at the speakers' frequency) is never taken for a leak of the speakers' tone.
ROOM_AMP, SPEAKERS_AMP = 0.05, 0.5
HEARD = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    if not pulse_available():  # installed by installers/setup.sh: missing means a broken setup
        pytest.fail("needs pulseaudio, pactl, pacat, parecord and libportaudio2 (see .ci/run)")
    with room_and_speakers(tmp_path_factory.mktemp("pulse")) as srv:
        play_tones(srv)
        yield srv


def play_tones(srv: PulseServer) -> None:
    """The room's quiet tone and the speakers' loud one, for two minutes."""
    srv.play_in_background("room", tone(ROOM_HZ, 120.0, srv.rate, ROOM_AMP))
    srv.play_in_background("speakers", tone(SPEAKERS_HZ, 120.0, srv.rate, SPEAKERS_AMP))


class Listener:
    """Reads a source's blocks on a thread (as the engine does) and keeps its events."""

    def __init__(self, source: MicrophoneSource) -> None:
        self.source = source
        self.blocks: list[tuple[float, np.ndarray]] = []
        self.events: list[InputLost | InputRestored] = []
        self.changed = threading.Condition()
        source.set_event_sink(self._on_event)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _on_event(self, event: InputLost | InputRestored) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def _read(self) -> None:
        for block in self.source.blocks():
            with self.changed:
                self.blocks.append((time.monotonic(), block.samples))
                self.changed.notify_all()

    def wait_event(self, kind: type, timeout: float = 10.0):  # noqa: ANN201
        with self.changed:
            ok = self.changed.wait_for(
                lambda: any(isinstance(e, kind) for e in self.events), timeout
            )
        assert ok, f"no {kind.__name__} within {timeout} s (events: {self.events})"
        return next(e for e in self.events if isinstance(e, kind))

    def audio_between(self, t0: float, t1: float) -> np.ndarray:
        with self.changed:
            parts = [b for at, b in self.blocks if t0 <= at < t1]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def wait_audio(self, seconds: float, timeout: float = 10.0) -> float:
        """Block until `seconds` of audio arrived after now; returns now."""
        t0 = time.monotonic()
        with self.changed:
            ok = self.changed.wait_for(
                lambda: sum(len(b) for at, b in self.blocks if at >= t0) >= seconds * SAMPLE_RATE,
                timeout,
            )
        assert ok, f"under {seconds} s of audio within {timeout} s"
        return t0

    def close(self) -> None:
        self.source.close()
        self.thread.join(5)


def _bands(audio: np.ndarray) -> tuple[float, float]:
    """Median band magnitude of the room tone and the speakers tone."""
    energies = band_energies(audio, SAMPLE_RATE, [ROOM_HZ, SPEAKERS_HZ])
    assert len(energies), "no audio"
    return float(np.median(energies[:, 0])), float(np.median(energies[:, 1]))


def _assert_hears(listener: Listener, sink: str) -> None:
    """The next second of audio holds the tone of `sink` ("room" or "speakers"), not the other."""
    t0 = listener.wait_audio(1.0)
    room, speakers = _bands(listener.audio_between(t0, time.monotonic()))
    heard, other = (room, speakers) if sink == "room" else (speakers, room)
    assert heard > HEARD and other < HEARD, (room, speakers)


def _our_output(source: MicrophoneSource) -> pulse.SourceOutput | None:
    return next((o for o in pulse.list_source_outputs() if o.tag == source.tag), None)


def _assert_records_the_mic(source: MicrophoneSource) -> None:
    """Our capture stream is on the microphone (moved back onto it after a replug)."""
    ours = _our_output(source)
    mic = next((d.index for d in pulse.list_sources() if d.name == MIC), None)
    assert ours is not None and ours.source == mic, (ours, mic)


def _replug_and_hear(listener: Listener, mic: Microphone) -> InputRestored:
    """Plug the microphone back: capture is restored onto it and hears the room."""
    mic.plug()
    restored = listener.wait_event(InputRestored)
    assert restored.device == MIC and not listener.source.waiting
    _assert_hears(listener, "room")
    _assert_records_the_mic(listener.source)
    return restored


@pytest.fixture
def mic(server):  # noqa: ANN001, ANN201
    plugged = Microphone(server.env)
    plugged.plug()
    yield plugged
    plugged.unplug()


def test_wait_captures_nothing_from_the_other_source_and_reconnects(server, mic) -> None:  # noqa: ANN001
    listener = Listener(MicrophoneSource(f"pulse:{MIC}", AudioOptions(when_input_lost="wait")))
    try:
        _assert_hears(listener, "room")

        unplugged = time.monotonic()
        mic.unplug()
        lost = listener.wait_event(InputLost)
        print(f"\nInputLost {lost.at - unplugged:.3f} s after the unload: {lost}")
        assert lost.device == MIC and lost.label == "Test_microphone"
        assert lost.moved_to == "speakers.monitor" and not lost.following
        time.sleep(1.5)  # PulseAudio would be delivering the speakers' tone all this time
        assert listener.source.waiting
        assert _our_output(listener.source) is None  # nothing records the speakers
        after = listener.audio_between(unplugged, time.monotonic())
        # what came after the unload: the end of the room tone, then silence; never the speakers
        leaked = band_energies(after, SAMPLE_RATE, [SPEAKERS_HZ])[:, 0].max()
        print(f"speakers' band after the unload: max {leaked:.3f} (the tone itself: ~37)")
        assert leaked < HEARD

        replugged = time.monotonic()
        restored = _replug_and_hear(listener, mic)
        print(f"InputRestored {restored.at - replugged:.3f} s after the reload")
    finally:
        listener.close()


def test_follow_goes_on_from_the_new_source_and_moves_back(server, mic) -> None:  # noqa: ANN001
    listener = Listener(MicrophoneSource(f"pulse:{MIC}", AudioOptions(when_input_lost="follow")))
    try:
        listener.wait_audio(0.5)
        mic.unplug()
        lost = listener.wait_event(InputLost)
        assert lost.following and lost.moved_to == "speakers.monitor"
        assert lost.moved_to_label == "Monitor of Speakers"
        _assert_hears(listener, "speakers")  # it follows, as chosen

        mic.plug()
        listener.wait_event(InputRestored)
        _assert_records_the_mic(listener.source)  # moved back
        time.sleep(0.3)  # the blocks already queued from the speakers' monitor
        _assert_hears(listener, "room")
    finally:
        listener.close()


def test_choosing_to_follow_while_waiting_listens_to_the_new_source_at_once(server, mic) -> None:  # noqa: ANN001
    listener = Listener(MicrophoneSource(f"pulse:{MIC}", AudioOptions(when_input_lost="wait")))
    try:
        listener.wait_audio(0.5)
        mic.unplug()
        assert not listener.wait_event(InputLost).following
        listener.events.clear()
        listener.source.set_when_lost("follow")  # the banner's "listen to … meanwhile"
        lost = listener.wait_event(InputLost)
        assert lost.following and lost.moved_to == "speakers.monitor"
        _assert_hears(listener, "speakers")

        mic.plug()
        listener.wait_event(InputRestored)
        _assert_records_the_mic(listener.source)
    finally:
        listener.close()


def test_the_default_microphone_never_moves_onto_a_monitor(server, mic) -> None:  # noqa: ANN001
    """ "Default microphone": when the last microphone goes, the server's new default is a
    monitor; capture waits for a microphone instead of recording the speakers."""
    server.pactl("set-default-source", MIC)
    try:
        source = MicrophoneSource(None, AudioOptions(when_input_lost="wait"))
        assert source.guard is not None, f"the default input {source.name!r} is not guarded"
        listener = Listener(source)
        try:
            _assert_hears(listener, "room")
            mic.unplug()
            lost = listener.wait_event(InputLost)
            assert lost.device == MIC and lost.label == "Test_microphone"
            assert lost.moved_to is not None and lost.moved_to.endswith(".monitor")
            time.sleep(1.0)
            assert listener.source.waiting and _our_output(listener.source) is None

            mic.plug()  # a microphone again: capture comes back to it
            listener.wait_event(InputRestored)
            _assert_records_the_mic(listener.source)
            _assert_hears(listener, "room")
        finally:
            listener.close()
    finally:
        server.pactl("set-default-source", "speakers.monitor")


def test_a_default_input_on_a_monitor_is_left_alone(server) -> None:  # noqa: ANN001
    """System audio as the default source is a deliberate choice: nothing to guard."""
    source = MicrophoneSource(None, AudioOptions(when_input_lost="wait"))
    try:
        assert source.guard is not None
        deadline = time.monotonic() + 10
        while source.guard.state != "off" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert source.guard.state == "off"
    finally:
        source.close()


def test_a_chosen_input_absent_at_start_is_waited_for(server, mic) -> None:  # noqa: ANN001
    """A restart of the engine while the microphone is away (Stop then Start, a changed
    setting): capture waits for it, named as before, instead of failing "not connected"."""
    MicrophoneSource(f"pulse:{MIC}").close()  # the run before the restart
    mic.unplug()
    listener = Listener(MicrophoneSource(f"pulse:{MIC}", AudioOptions(when_input_lost="wait")))
    try:
        lost = listener.wait_event(InputLost)
        assert lost.at_start and not lost.following
        assert lost.moved_to == "speakers.monitor"  # what it does not listen to (the default)
        assert lost.device == MIC and lost.label == "Test_microphone"
        assert listener.source.waiting and _our_output(listener.source) is None
        time.sleep(1.0)
        assert not listener.blocks  # nothing from the speakers' monitor, the default source

        _replug_and_hear(listener, mic)
    finally:
        listener.close()


def test_follow_an_input_absent_at_start_listens_to_the_default_meanwhile(server, mic) -> None:  # noqa: ANN001
    mic.unplug()
    listener = Listener(MicrophoneSource(f"pulse:{MIC}", AudioOptions(when_input_lost="follow")))
    try:
        lost = listener.wait_event(InputLost)
        assert lost.at_start and lost.following
        assert lost.moved_to == "speakers.monitor" and lost.moved_to_label == "Monitor of Speakers"
        _assert_hears(listener, "speakers")

        mic.plug()
        listener.wait_event(InputRestored)
        _assert_records_the_mic(listener.source)  # moved onto it
        time.sleep(0.3)  # the blocks already queued from the speakers' monitor
        _assert_hears(listener, "room")
    finally:
        listener.close()


def test_an_input_absent_at_start_is_an_error_naming_the_inputs_when_not_waiting(server) -> None:  # noqa: ANN001
    """The command line does not wait for a name it has never seen (more likely a typo)."""
    options = AudioOptions(wait_for_absent_input=False)
    with pytest.raises(DeviceError) as failed:
        MicrophoneSource("pulse:no_such_mic", options)
    message = str(failed.value)
    assert message.startswith("The input 'no_such_mic' is not connected. Inputs now: ")
    assert "speakers.monitor" in message and "room.monitor" in message


def test_the_command_line_reports_an_absent_input_and_exits_1(server) -> None:  # noqa: ANN001
    proc = run_cli("run", "pulse:no_such_mic", "--source", "en", timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "The input 'no_such_mic' is not connected. Inputs now: " in proc.stderr
