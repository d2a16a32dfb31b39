"""InputGuard's decisions (issue 12, defect 5) against a scripted sound server, and the parsing
of `pactl subscribe` lines and of the text listing of capture streams. The real server is in
tests/integration/test_input_lost_pulse.py."""

from __future__ import annotations

from engine.audio import pulse
from engine.audio.input_watch import InputGuard, ServerEvent, describe, parse_event
from engine.events import InputLost, InputRestored


def _dev(index: int, name: str, description: str) -> pulse.PulseDevice:
    return pulse.PulseDevice(name, description, "source", name.endswith(".monitor"), index=index)


MIC = _dev(2, "usb_mic", "USB microphone")
MONITOR = _dev(0, "speakers.monitor", "Monitor of Speakers")


class FakeServer:
    def __init__(self) -> None:
        self.devices = [MONITOR, MIC]
        self.streams = [pulse.SourceOutput(7, MIC.index or 0, "tag-1")]
        self.moves: list[tuple[int, str]] = []

    def sources(self) -> list[pulse.PulseDevice]:
        return list(self.devices)

    def outputs(self) -> list[pulse.SourceOutput]:
        return list(self.streams)

    def move(self, output: int, source: str) -> bool:
        self.moves.append((output, source))
        index = next(d.index for d in self.devices if d.name == source)
        self.streams = [pulse.SourceOutput(output, index or 0, s.tag) for s in self.streams]
        return True

    def default_source(self) -> str | None:
        return MONITOR.name

    def unplug(self) -> None:
        """What PulseAudio does: the stream moves to the default source, the mic goes."""
        self.devices = [MONITOR]
        self.streams = [
            pulse.SourceOutput(s.index, MONITOR.index or 0, s.tag) for s in self.streams
        ]

    def replug(self) -> None:
        self.devices = [MONITOR, _dev(5, "usb_mic", "USB microphone")]


class FakeCapture:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.tag = "tag-1"
        self.calls: list[str] = []
        self.events: list[InputLost | InputRestored] = []

    def hold(self) -> None:
        self.calls.append("hold")

    def release(self) -> None:
        self.calls.append("release")

    def pause(self) -> None:
        self.calls.append("pause")
        self.server.streams = []

    def resume(self, source: str | None) -> bool:
        self.calls.append(f"resume {source}" if source else "resume-default")
        self.tag = "tag-2"
        index = next((d.index for d in self.server.devices if d.name == source), 0)
        self.server.streams = [pulse.SourceOutput(9, index or 0, "tag-2")]
        return True

    def emit(self, event: InputLost | InputRestored) -> None:
        self.events.append(event)


def _guard(
    policy: str, chosen: str | None = "usb_mic"
) -> tuple[InputGuard, FakeServer, FakeCapture]:
    server = FakeServer()
    capture = FakeCapture(server)
    guard = InputGuard(chosen, policy, capture, server, clock=lambda: 1.0)  # type: ignore[arg-type]
    guard.start()
    return guard, server, capture


def test_parse_event() -> None:
    assert parse_event("Event 'remove' on source #3\n") == ServerEvent("remove", "source", 3)
    assert parse_event("Event 'change' on source-output #12") == ServerEvent(
        "change", "source-output", 12
    )
    assert parse_event("Got SIGINT, exiting.") is None


def test_unrelated_events_change_nothing() -> None:
    guard, _, capture = _guard("wait")
    guard.on_event(ServerEvent("new", "client", 40))
    guard.on_event(ServerEvent("change", "source", 0))
    guard.on_event(ServerEvent("change", "source-output", 8))  # someone else's stream
    assert capture.calls == [] and capture.events == [] and guard.state == "connected"


def test_a_change_of_our_stream_that_stays_on_the_mic_passes_the_held_blocks_on() -> None:
    guard, _, capture = _guard("wait")
    guard.on_event(ServerEvent("change", "source-output", 7))  # e.g. its volume
    assert capture.calls == ["hold", "release"] and capture.events == []


def test_wait_pauses_and_reconnects_when_the_device_returns() -> None:
    guard, server, capture = _guard("wait")
    server.unplug()
    guard.on_event(ServerEvent("change", "source-output", 7))
    assert capture.calls == ["hold", "pause"]  # never released: the held blocks are dropped
    assert capture.events == [
        InputLost(
            "usb_mic", "USB microphone", "speakers.monitor", "Monitor of Speakers", False, 1.0
        )
    ]
    guard.on_event(ServerEvent("remove", "source", 2))
    guard.on_event(ServerEvent("change", "source", 0))  # another source: still waiting
    assert guard.state == "waiting" and len(capture.events) == 1
    server.replug()
    guard.on_event(ServerEvent("new", "source", 5))
    assert capture.calls[-1] == "resume usb_mic" and guard.state == "connected"
    assert capture.events[-1] == InputRestored("usb_mic", "USB microphone", 1.0)
    server.unplug()  # the new stream is watched too
    guard.on_event(ServerEvent("change", "source-output", 9))
    assert guard.state == "waiting" and isinstance(capture.events[-1], InputLost)


def test_follow_keeps_listening_and_moves_back() -> None:
    guard, server, capture = _guard("follow")
    server.unplug()
    guard.on_event(ServerEvent("change", "source-output", 7))
    assert capture.calls == ["hold", "release"] and guard.state == "following"
    assert capture.events[-1].following  # type: ignore[union-attr]
    server.replug()
    guard.on_event(ServerEvent("new", "source", 5))
    assert server.moves == [(7, "usb_mic")] and guard.state == "connected"
    assert isinstance(capture.events[-1], InputRestored)


def test_the_choice_changes_while_the_device_is_away() -> None:
    guard, server, capture = _guard("wait")
    server.unplug()
    guard.on_event(ServerEvent("change", "source-output", 7))
    guard.set_policy("follow")  # "listen to the speakers meanwhile"
    assert capture.calls[-1] == "resume-default" and guard.state == "following"
    assert capture.events[-1] == InputLost(
        "usb_mic", "USB microphone", "speakers.monitor", "Monitor of Speakers", True, 1.0
    )
    reported = len(capture.events)
    guard.on_event(ServerEvent("new", "source-output", 9))  # our new stream: said already
    guard.on_event(ServerEvent("change", "source-output", 9))
    assert len(capture.events) == reported
    guard.set_policy("wait")  # "stop listening to it"
    assert capture.calls[-2:] == ["hold", "pause"] and guard.state == "waiting"
    assert capture.events[-1] == InputLost(
        "usb_mic", "USB microphone", "speakers.monitor", "Monitor of Speakers", False, 1.0
    )
    guard.set_policy("follow")
    server.replug()
    guard.on_event(ServerEvent("new", "source", 5))
    assert server.moves == [(9, "usb_mic")] and guard.state == "connected"
    assert isinstance(capture.events[-1], InputRestored)


def test_the_chosen_source_removed_is_checked_even_before_our_stream_changes() -> None:
    guard, server, capture = _guard("wait")
    server.unplug()
    guard.on_event(ServerEvent("remove", "source", 2))
    assert guard.state == "waiting" and capture.calls[0] == "hold"


def test_source_outputs_from_the_text_listing() -> None:
    text = (
        "Source Output #3\n\tDriver: protocol-native.c\n\tOwner Module: 11\n\tClient: 12\n"
        '\tSource: 1\n\tProperties:\n\t\tapplication.name = "ALSA plug-in [python3]"\n'
        '\t\tdragoman.capture = "abc"\n\nSource Output #4\n\tDriver: module-remap-source.c\n'
        "\tSource: 0\n\tProperties:\n"
    )
    assert pulse._outputs_from_text(text) == [
        pulse.SourceOutput(3, 1, "abc"),
        pulse.SourceOutput(4, 0, None),
    ]


def test_the_cli_says_it_in_one_line_on_stderr(capsys) -> None:  # noqa: ANN001
    from engine.cli import CliSink

    sink = CliSink(subtitles=None, translated_subtitles=None, jsonl=None, translating=False)
    sink(
        InputLost("usb_mic", "USB microphone", "speakers.monitor", "Monitor of Speakers", False, 1)
    )
    sink(InputRestored("usb_mic", "USB microphone", 2.0))
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "dragoman: Microphone “USB microphone” was disconnected — waiting for it to come back "
        "(not listening to “Monitor of Speakers” meanwhile).",
        "dragoman: Microphone “USB microphone” is back — listening to it again.",
    ]


def test_the_default_microphone_may_move_to_another_microphone_but_not_to_a_monitor() -> None:
    guard, server, capture = _guard("wait", chosen=None)
    assert guard.state == "connected" and guard.device == "usb_mic"
    headset = _dev(4, "headset_mic", "Headset microphone")
    server.devices.append(headset)
    server.streams = [pulse.SourceOutput(7, 4, "tag-1")]  # the server's new default
    guard.on_event(ServerEvent("change", "source-output", 7))
    assert capture.events == [] and guard.device == "headset_mic"  # followed, as a default does
    server.devices = [MONITOR]
    server.streams = [pulse.SourceOutput(7, 0, "tag-1")]  # no microphone left: the speakers
    guard.on_event(ServerEvent("change", "source-output", 7))
    assert capture.events == [
        InputLost(
            "headset_mic",
            "Headset microphone",
            "speakers.monitor",
            "Monitor of Speakers",
            False,
            1.0,
        )
    ]
    server.replug()  # any microphone will do
    guard.on_event(ServerEvent("new", "source", 5))
    assert capture.calls[-1] == "resume usb_mic" and guard.state == "connected"
    assert capture.events[-1] == InputRestored("usb_mic", "USB microphone", 1.0)


def test_a_default_input_that_is_a_monitor_is_left_alone() -> None:
    server = FakeServer()
    server.streams = [pulse.SourceOutput(7, 0, "tag-1")]
    capture = FakeCapture(server)
    guard = InputGuard(None, "wait", capture, server)
    guard.start()
    server.devices = [MONITOR]
    guard.on_event(ServerEvent("remove", "source", 2))
    guard.on_event(ServerEvent("change", "source-output", 7))
    assert guard.state == "off" and capture.calls == [] and capture.events == []


def test_the_last_source_going_ends_our_stream_and_capture_waits_for_it() -> None:
    """No source left to move it to: the server ends our stream. Under either policy capture
    waits (there is nothing to follow) and comes back when the device does."""
    for policy in ("wait", "follow"):
        guard, server, capture = _guard(policy)
        server.devices, server.streams = [], []
        guard.on_event(ServerEvent("remove", "source-output", 7))
        assert guard.state == "waiting" and capture.calls[-2:] == ["hold", "pause"]
        assert capture.events == [InputLost("usb_mic", "USB microphone", None, None, False, 1.0)]
        assert guard.stream_ended()  # the consumer's check finds it already waiting
        server.replug()
        guard.on_event(ServerEvent("new", "source", 5))
        assert guard.state == "connected" and capture.calls[-1] == "resume usb_mic"


def test_a_stream_that_ends_while_its_device_is_there_is_a_failure() -> None:
    guard, server, capture = _guard("wait")
    server.streams = []
    assert not guard.stream_ended() and guard.state == "connected"


def test_a_chosen_source_absent_at_start() -> None:
    guard, server, capture = _guard("wait")
    server.unplug()
    server.streams = []
    absent = InputGuard("usb_mic", "wait", capture, server, clock=lambda: 1.0)  # type: ignore[arg-type]
    absent.start_absent()  # waits, naming the default source it does not listen to
    assert absent.state == "waiting" and "resume-default" not in capture.calls
    lost = capture.events[-1]
    assert isinstance(lost, InputLost) and lost.at_start and lost.moved_to == "speakers.monitor"
    assert describe(lost) == (
        "Microphone “usb_mic” is not connected — waiting for it "
        "(not listening to “Monitor of Speakers” meanwhile)."
    )
    following = InputGuard("usb_mic", "follow", capture, server, clock=lambda: 1.0)  # type: ignore[arg-type]
    following.start_absent()  # listens to the default source meanwhile
    assert following.state == "following" and capture.calls[-1] == "resume-default"
    server.replug()
    following.on_event(ServerEvent("new", "source", 5))
    assert following.state == "connected" and server.moves == [(9, "usb_mic")]
