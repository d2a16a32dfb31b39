"""Notice when the sound server moves our capture stream away from the chosen device.

When a PulseAudio/PipeWire source vanishes (a USB microphone unplugged, a module unloaded), the
server silently moves every stream that recorded it to another source, possibly the monitor of
the speakers: with spoken translation on, Dragoman would then interpret itself while the UI
still names the old microphone. `InputGuard` follows the server's events (`pactl subscribe`,
read by one thread: no polling) and, when our stream no longer records the chosen source,
either stops capturing until the device returns ("wait", the default) or goes on from the new
source ("follow"), saying so with an `InputLost` event; `InputRestored` follows when the chosen
device is back and capture comes from it again.

Our stream is found on the server by a property set when it is opened (see
`pulse.tagged_environment`). The guard's decisions are pure logic over two small interfaces
(`Server`, `Capture`), tested without a server; `PactlServer` is the real one.
"""

from __future__ import annotations

import logging
import re
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Literal, Protocol

from engine.audio import pulse
from engine.config import InputLostPolicy
from engine.events import InputLost, InputRestored

log = logging.getLogger(__name__)

Action = Literal["new", "change", "remove"]


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One line of `pactl subscribe`: e.g. Event 'remove' on source #3."""

    action: Action
    facility: str  # "source", "source-output", "sink", "client", "module", ...
    index: int


_EVENT = re.compile(r"^Event '(new|change|remove)' on ([a-z-]+) #(\d+)")


def parse_event(line: str) -> ServerEvent | None:
    match = _EVENT.match(line.strip())
    if not match:
        return None
    action: Action = match[1]  # type: ignore[assignment]  # the pattern allows only these
    return ServerEvent(action, match[2], int(match[3]))


def describe(event: InputLost | InputRestored) -> str:
    """One line for people (the GUI's banner, the CLI's stderr)."""
    kind = "System audio" if event.device.endswith(".monitor") else "Microphone"
    chosen = f"{kind} “{event.label}”"
    if isinstance(event, InputRestored):
        return f"{chosen} is back — listening to it again."
    gone = "is not connected" if event.at_start else "was disconnected"
    elsewhere = f"“{event.moved_to_label or event.moved_to}”" if event.moved_to else None
    if event.following:
        return f"{chosen} {gone} — listening to {elsewhere or 'another input'} instead."
    back = "" if event.at_start else " to come back"
    meanwhile = (
        f"not listening to {elsewhere} meanwhile"
        if elsewhere
        else "listening to nothing else meanwhile"  # the last source of all went
    )
    return f"{chosen} {gone} — waiting for it{back} ({meanwhile})."


class Server(Protocol):
    """What the guard asks the sound server."""

    def sources(self) -> list[pulse.PulseDevice]:
        raise NotImplementedError

    def outputs(self) -> list[pulse.SourceOutput]:
        raise NotImplementedError

    def move(self, output: int, source: str) -> bool:
        raise NotImplementedError

    def default_source(self) -> str | None:
        raise NotImplementedError


class PactlServer:
    """The real server, through `pactl`."""

    def sources(self) -> list[pulse.PulseDevice]:
        return pulse.list_sources()

    def outputs(self) -> list[pulse.SourceOutput]:
        return pulse.list_source_outputs()

    def move(self, output: int, source: str) -> bool:
        return pulse.move_source_output(output, source)

    def default_source(self) -> str | None:
        return pulse.default_source()


class Capture(Protocol):
    """The capture stream the guard looks after (a `MicrophoneSource`)."""

    tag: str  # the TAG_PROPERTY value of its current stream

    def hold(self) -> None:
        """Keep the blocks captured from now on aside (their source is being checked)."""
        raise NotImplementedError

    def release(self) -> None:
        """Pass the held blocks on: they came from the chosen device."""
        raise NotImplementedError

    def pause(self) -> None:
        """Drop the held blocks and close the stream: capture nothing until `resume`."""
        raise NotImplementedError

    def resume(self, source: str | None) -> bool:
        """Open a new stream (new `tag`) on `source`, or on the server's default source when
        None; False when that failed."""
        raise NotImplementedError

    def emit(self, event: InputLost | InputRestored) -> None:
        raise NotImplementedError


State = Literal["connected", "waiting", "following", "off"]


class InputGuard:
    """Keeps a capture stream on the chosen PulseAudio source (see the module docstring).

    chosen: a source name, or None for "the default microphone": any source that is not a
    monitor will do (the server following its default from one microphone to another is
    right), but a move onto a monitor — the speakers — counts as losing the microphone. A
    default input that starts on a monitor (system audio as the default) or not through
    PulseAudio at all is left alone (state "off").

    Server events arrive on the subscription's reader thread; `set_policy` may come from any
    thread (not the UI's: it opens and closes streams). One lock keeps them in turn.
    """

    def __init__(
        self,
        chosen: str | None,
        policy: InputLostPolicy,
        capture: Capture,
        server: Server | None = None,
        clock: Callable[[], float] = time.monotonic,
        label: str | None = None,
    ) -> None:
        self.chosen = chosen
        self.policy = policy
        self.capture = capture
        self.server: Server = server or PactlServer()
        self.clock = clock
        self.state: State = "connected"
        self.device = chosen or ""  # the source we capture (or wait for)
        self.label = label or self.device  # its description
        self._output: int | None = None  # our source-output index
        self._device_index: int | None = None
        self._last_moved: pulse.PulseDevice | None = None  # where the server put our stream
        self._at_start = False  # the chosen source was already away when capture started
        self._lock = threading.RLock()

    def start_absent(self) -> None:
        """The chosen source is not on the server as capture starts (unplugged, or away across
        a restart of the engine); the capture has no stream. "follow": capture from the
        server's default source meanwhile; "wait": capture nothing. Either way it is said
        (`InputLost.at_start`), and capture comes back to the chosen source when it appears."""
        with self._lock:
            self._at_start = True
            self.state = "waiting"
            if self.policy == "follow" and self.capture.resume(None):
                self.state = "following"
                ours, sources = self._locate()
                moved = sources.get(ours.source) if ours else None
            else:  # what "follow" would hear meanwhile: the banner offers it
                default = self.server.default_source()
                moved = next((d for d in self.server.sources() if d.name == default), None)
            self._report_lost(moved)

    def start(self) -> None:
        """Learn where our stream is (call once the subscription runs: an event that came
        before it would otherwise be missed)."""
        with self._lock:
            if self._at_start and self.state != "connected":
                self._locate()
                self._device_back()  # it may have appeared before the subscription ran
                return
            if self.chosen is None:
                ours, sources = self._locate()
                now = sources.get(ours.source) if ours else None
                if now is None or now.is_monitor:
                    self.state = "off"  # not through PulseAudio, or deliberately a monitor
                    return
                self._adopt(now)
            self._check(hold=False)

    def set_policy(self, policy: InputLostPolicy) -> None:
        """The user's choice while the device is away: "follow" starts capturing from the
        server's default source now, "wait" stops capturing from it now."""
        with self._lock:
            self.policy = policy
            if self.state == "waiting" and policy == "follow":
                if self.capture.resume(None):
                    self.state = "following"
                    ours, sources = self._locate()
                    self._report_lost(sources.get(ours.source) if ours else None)
            elif self.state == "following" and policy == "wait":
                self.capture.hold()
                self.state = "waiting"
                self._report_lost(self._last_moved)
                self.capture.pause()

    def on_event(self, event: ServerEvent) -> None:
        with self._lock:
            self._on_event(event)

    def _on_event(self, event: ServerEvent) -> None:
        if self.state == "connected":
            ours = event.facility == "source-output" and event.index == self._output
            device_gone = (
                event.facility == "source"
                and event.action == "remove"
                and event.index == self._device_index
            )
            if ours or device_gone or self._output is None:
                self._check(hold=ours or device_gone)
        elif self.state == "off":
            return
        elif event.facility == "source" and event.action in ("new", "change"):
            self._device_back()
        elif self.state == "following" and (event.facility, event.index) == (
            "source-output",
            self._output,
        ):
            self._check(hold=False)

    # ------------------------------------------------------------------ internals
    def _acceptable(self, device: pulse.PulseDevice | None) -> bool:
        if device is None:
            return False
        return device.name == self.chosen if self.chosen else not device.is_monitor

    def _adopt(self, device: pulse.PulseDevice) -> None:
        """`device` is what we capture (or wait for) now."""
        self.device = device.name
        self.label = device.description or device.name
        self._device_index = device.index

    def _locate(self) -> tuple[pulse.SourceOutput | None, dict[int, pulse.PulseDevice]]:
        sources = {d.index: d for d in self.server.sources() if d.index is not None}
        if self.chosen is not None:
            for device in sources.values():
                if device.name == self.chosen:
                    self._adopt(device)
        ours = next((o for o in self.server.outputs() if o.tag == self.capture.tag), None)
        self._output = ours.index if ours else None
        return ours, sources

    def _check(self, *, hold: bool) -> None:
        """Is our stream still on the chosen source? Blocks captured while this is asked are
        held, so that none from another source reaches the engine."""
        if hold:
            self.capture.hold()
        ours, sources = self._locate()
        if ours is None:  # not on the server (yet, or any more)
            if hold:
                self.capture.release()
                if self._wanted() is None:
                    self._ended_with_device()  # the last source went: nowhere to move it
            return
        now = sources.get(ours.source)
        if now is not None and self._acceptable(now):
            if hold:
                self.capture.release()
            if self.chosen is None:
                self._adopt(now)  # the default moved from one microphone to another
            if self.state != "connected":
                self.state = "connected"
                self._at_start = False
                self.capture.emit(InputRestored(self.device, self.label, self.clock()))
            return
        following = self.policy == "follow"
        if following and self.state == "following" and _same(now, self._last_moved):
            if hold:
                self.capture.release()
            return  # our new stream on the source already reported
        if following and hold:
            self.capture.release()
        elif not following and not hold:
            self.capture.hold()  # from now on nothing passes; `pause` below drops it all
        self.state = "following" if following else "waiting"
        self._report_lost(now)
        if not following:
            self.capture.pause()  # closing the stream takes a while: said first

    def stream_ended(self) -> bool:
        """The capture stream stopped delivering. True when that is because its device
        vanished and the server had no other source to move it to (the server ends such a
        stream): capture now waits for the device. False: another failure."""
        with self._lock:
            if self.state == "waiting":
                return True
            if self.state == "off":
                return False
            ours, _ = self._locate()
            if ours is not None or self._wanted() is not None:
                return False
            self._ended_with_device()
            return True

    def _ended_with_device(self) -> None:
        """Our stream ended with its device (no source left to move it to): wait for it, under
        either policy (there is nothing to follow)."""
        self.capture.hold()
        self.state = "waiting"
        self._report_lost(None)
        self.capture.pause()

    def _report_lost(self, moved_to: pulse.PulseDevice | None) -> None:
        """InputLost for the current state; `moved_to`: where the server put our stream."""
        self._last_moved = moved_to
        following = self.state == "following"
        log.warning(
            "input %s vanished; the sound server moved the stream to %s; %s",
            self.device,
            moved_to.name if moved_to else None,
            "following it" if following else "waiting for the device",
        )
        name = moved_to.name if moved_to else None
        label = (moved_to.description or moved_to.name) if moved_to else None
        self.capture.emit(
            InputLost(self.device, self.label, name, label, following, self.clock(), self._at_start)
        )

    def _wanted(self) -> pulse.PulseDevice | None:
        """The source to capture again, when present: the chosen one; for the default
        microphone, the one we had, else any microphone."""
        sources = self.server.sources()
        if self.chosen is not None:
            return next((d for d in sources if d.name == self.chosen), None)
        mics = [d for d in sources if not d.is_monitor]
        return next((d for d in mics if d.name == self.device), mics[0] if mics else None)

    def _device_back(self) -> None:
        present = self._wanted()
        if present is None:
            return
        if self.state == "waiting":
            if not self.capture.resume(present.name):
                return  # stays waiting; the next event of the server tries again
            self._adopt(present)
            log.info("input %s is back: capturing from it again", self.device)
            self.state = "connected"
            self._at_start = False
            self._locate()
            self.capture.emit(InputRestored(self.device, self.label, self.clock()))
        elif self._output is not None and self.server.move(self._output, present.name):
            self._adopt(present)
            log.info("input %s is back: moved the stream back to it", self.device)
            self.state = "connected"
            self._at_start = False
            self.capture.emit(InputRestored(self.device, self.label, self.clock()))


def _same(a: pulse.PulseDevice | None, b: pulse.PulseDevice | None) -> bool:
    return (a.name if a else None) == (b.name if b else None)


class PulseSubscription:
    """`pactl subscribe`, read line by line by a daemon thread that calls `on_event` for each
    server event, in order. `on_ready` runs on that thread before the first line."""

    def __init__(
        self,
        on_event: Callable[[ServerEvent], None],
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self._on_event = on_event
        self._on_ready = on_ready
        self._proc = subprocess.Popen(
            ["pactl", "subscribe"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self._thread = threading.Thread(target=self._read, name="pulse-watch", daemon=True)
        self._thread.start()

    @staticmethod
    def available() -> bool:
        return shutil.which("pactl") is not None

    def _subscribed(self, stdout: IO[str], timeout: float = 5.0) -> bool:
        """Wait until `pactl subscribe` reports events: each `pactl` run is a client of the
        server, whose arrival it reports once subscribed (until then a change would be missed).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._proc.poll() is None:
            pulse.server_info()  # a client comes and goes: an event once subscribed
            ready, _, _ = select.select([stdout], [], [], 0.2)
            if ready:
                return True
        return False

    def _read(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            if not self._subscribed(stdout):
                log.warning("the sound server reports no events; input changes go unnoticed")
            if self._on_ready is not None:
                self._on_ready()
            for line in stdout:
                event = parse_event(line)
                if event is not None:
                    self._on_event(event)
        except Exception:  # the guard must never take capture down with it
            log.exception("watching the sound server failed; input changes go unnoticed")
        finally:
            stdout.close()

    def close(self) -> None:
        """Idempotent: end `pactl subscribe`. Its reader thread ends at the end of its output,
        after the query it may be running (not waited for: stopping capture stays quick)."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=2)
