"""The caption page in a real browser: headless Chromium (Debian's `chromium`, installed by
installers/apt-packages.txt) loads it, and the test sends engine events while it is open and
reads the DOM through the DevTools protocol (over --remote-debugging-pipe: no port, no extra
packages). A partial appears, grows, and is replaced in place by its final; the translation joins
it; a discarded partial disappears; speaker colours are applied."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from engine.captions import CaptionOptions, Captions
from engine.captions.board import SPEAKER_COLORS
from engine.events import (
    Final,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    StageTimes,
    Translation,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (installers/apt-packages.txt lists it)"
)
T = StageTimes()
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--remote-debugging-pipe",
]


class Navigating(Exception):
    """The page was navigating when asked (Chromium answers nothing for the old document)."""


class DevTools:
    """A minimal Chrome DevTools Protocol client over the browser's pipe (fd 3 in, fd 4 out,
    messages separated by NUL bytes)."""

    def __init__(self, url: str, profile: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        assert CHROMIUM is not None
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}', CHROMIUM]
            + CHROMIUM_FLAGS
            + [f"--user-data-dir={profile}", url],
            pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session: str | None = None

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._cond:
                        self._replies[message["id"]] = message
                        self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        call_id = self._next_id
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 15
        with self._cond:
            while call_id not in self._replies:
                assert self.process.poll() is None, "chromium exited"
                assert time.monotonic() < deadline, f"no reply to {method}"
                self._cond.wait(0.2)
            reply = self._replies.pop(call_id)
        if reply.get("error", {}).get("message") == "Inspected target navigated or closed":
            raise Navigating(method)
        assert "error" not in reply, reply
        return reply["result"]

    def attach_to_page(self) -> None:
        deadline = time.monotonic() + 15
        while True:
            pages = [
                t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page"
            ]
            if pages:
                break
            assert time.monotonic() < deadline, "chromium opened no page"
            time.sleep(0.1)
        reply = self.call("Target.attachToTarget", targetId=pages[0]["targetId"], flatten=True)
        self.session = reply["sessionId"]

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True
        )
        return result["result"].get("value")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        self._reader.join(timeout=5)
        os.close(self._from_browser)


# What the page shows, one dict per caption line, read from the DOM.
LINES_JS = """JSON.stringify(Array.from(document.getElementById("captions").children).map(e => ({
  seg: e.dataset.seg,
  cls: e.className,
  mark: e.__mark || null,
  who: (e.querySelector(".orig .who") || {}).textContent || null,
  text: e.querySelector(".orig").lastChild.textContent,
  tr: e.querySelector(".tr").classList.contains("hidden") ? null : e.querySelector(".tr").innerText,
  color: getComputedStyle(e.querySelector(".orig")).color,
})))"""


def rgb(hex_color: str) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture
def browser_on_page() -> Iterator[tuple[Captions, DevTools]]:
    captions = Captions(CaptionOptions(port=0)).start()
    captions(SpeakerChanged(None, "S1"))
    captions(Final(1, 0.0, 1.0, "Good morning.", "en", T, "S1"))
    with tempfile.TemporaryDirectory(prefix="dragoman-chromium-") as profile:
        devtools = DevTools(f"{captions.url}?lines=3", profile)
        try:
            devtools.attach_to_page()
            yield captions, devtools
        finally:
            devtools.close()
            captions.close()


def wait_for_lines(devtools: DevTools, check, what: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        try:
            lines = json.loads(devtools.evaluate(LINES_JS) or "[]")
        except Navigating:  # the page is loading its new address: ask again
            assert time.monotonic() < deadline, f"the page never loaded to show {what}"
            time.sleep(0.05)
            continue
        if check(lines):
            return lines
        assert time.monotonic() < deadline, f"the page never showed {what}: {lines}"
        time.sleep(0.05)


def test_partials_and_finals_appear_and_update_in_chromium(browser_on_page):
    captions, devtools = browser_on_page
    # the page shows what was said before it opened, then goes live on the event stream
    wait_for_lines(devtools, lambda ls: [x["text"] for x in ls] == ["Good morning."], "the state")
    deadline = time.monotonic() + 10
    while devtools.evaluate("document.documentElement.dataset.state") != "live":
        assert time.monotonic() < deadline, "the event stream never opened"
        time.sleep(0.05)

    captions(Partial(2, 1.0, 2.0, "we should", "start", "en", T))
    lines = wait_for_lines(
        devtools, lambda ls: len(ls) == 2 and ls[1]["text"] == "we should start", "the partial"
    )
    assert lines[1]["seg"] == "2" and lines[1]["cls"] == "line partial"
    devtools.evaluate('document.querySelector("[data-seg=\'2\']").__mark = "the partial"')

    captions(Partial(2, 1.0, 2.5, "we should start", "the meet", "en", T))
    wait_for_lines(devtools, lambda ls: ls[1]["text"] == "we should start the meet", "growth")

    captions(Final(2, 1.0, 3.0, "We should start the meeting.", "en", T, "S1"))
    lines = wait_for_lines(devtools, lambda ls: ls[-1]["cls"] == "line final", "the final")
    assert [(x["seg"], x["text"]) for x in lines] == [
        ("1", "Good morning."),
        ("2", "We should start the meeting."),
    ]
    assert lines[1]["mark"] == "the partial", "the final must replace its partial in place"
    assert lines[1]["who"] == "S1"
    assert lines[1]["color"] == rgb(SPEAKER_COLORS[0])

    captions(Translation(2, 1.0, 3.0, "", "en", "Wir sollten anfangen.", "de", "S1", "m", {}, T))
    wait_for_lines(devtools, lambda ls: ls[1]["tr"] == "Wir sollten anfangen.", "the translation")

    captions(SpeakerChanged(None, "S2"))
    captions(Partial(3, 3.0, 4.0, "uh", "", "en", T))
    wait_for_lines(devtools, lambda ls: len(ls) == 3, "a third line")
    captions(SegmentDiscarded(3, "too short"))
    wait_for_lines(devtools, lambda ls: len(ls) == 2, "the discarded partial withdrawn")

    captions(Final(4, 4.0, 5.0, "Agreed.", "en", T, "S2"))
    captions(Final(5, 5.0, 6.0, "Then let's go.", "en", T, "S1"))
    lines = wait_for_lines(devtools, lambda ls: ls[-1]["text"] == "Then let's go.", "newest")
    # ?lines=3: the oldest line scrolled away; each speaker keeps their colour
    assert [x["text"] for x in lines] == [
        "We should start the meeting.",
        "Agreed.",
        "Then let's go.",
    ]
    assert [x["color"] for x in lines] == [rgb(c) for c in SPEAKER_COLORS[:2] + SPEAKER_COLORS[:1]]
    background = devtools.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgba(0, 0, 0, 0)"  # transparent over the video

    # the look from the address: translation only, two lines, 20 px, finals fade after 0.3 s
    devtools.evaluate(f"location.href = {captions.url + '?show=translation&size=20&hold=0.3'!r}")
    lines = wait_for_lines(
        devtools, lambda ls: all("faded" in x["cls"] for x in ls) and ls, "faded lines"
    )
    assert [x["seg"] for x in lines] == ["2"]  # only the translated line
    assert lines[0]["tr"] == "S1Wir sollten anfangen."  # the name leads the translation
    size = devtools.evaluate("getComputedStyle(document.body).fontSize")
    assert size == "20px"
