"""Live captions (engine.captions): the event -> caption state logic, the caption file, and the
caption page over real HTTP (server-sent events read with httpx)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.captions import CaptionBoard, CaptionOptions, Captions, caption_text
from engine.captions.board import SPEAKER_COLORS
from engine.errors import ConfigError
from engine.events import (
    Final,
    FinalRevised,
    Finished,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    SpeechStarted,
    StageTimes,
    Translation,
)

T = StageTimes()


def partial(seg: int, committed: str, tentative: str = "", speaker: str | None = None) -> Partial:
    return Partial(seg, float(seg), seg + 1.0, committed, tentative, "en", T, speaker)


def final(seg: int, text: str, speaker: str | None = None) -> Final:
    return Final(seg, float(seg), seg + 1.0, text, "en", T, speaker)


def translation(seg: int, text: str, speaker: str | None = None) -> Translation:
    return Translation(seg, float(seg), seg + 1.0, "x", "en", text, "de", speaker, "m", {}, T)


# ---------------------------------------------------------------------- the board (pure)
def test_a_partial_is_replaced_in_place_by_its_final():
    board = CaptionBoard()
    assert not board.apply(SpeechStarted(1, 0.0, 0.0))  # no words yet: nothing to show
    assert board.apply(partial(1, "good", "morning"))
    assert board.apply(partial(1, "good morning", "every"))
    [line] = board.lines
    assert (line.segment_id, line.text, line.final) == (1, "good morning every", False)
    assert board.apply(final(1, "Good morning, everyone.", "S1"))
    [line] = board.lines
    assert (line.text, line.final, line.speaker) == ("Good morning, everyone.", True, "S1")
    assert board.seq == 3


def test_a_late_partial_never_revives_a_final_line():
    board = CaptionBoard()
    board.apply(final(4, "Done."))
    assert not board.apply(partial(4, "Do", "ne"))
    assert [(line.text, line.final) for line in board.lines] == [("Done.", True)]


def test_a_discarded_segment_withdraws_its_partial_line_only():
    board = CaptionBoard()
    board.apply(final(1, "Kept."))
    board.apply(partial(2, "uh"))
    assert board.apply(SegmentDiscarded(2, "too short"))
    assert [line.segment_id for line in board.lines] == [1]
    assert not board.apply(SegmentDiscarded(1, "late"))  # a final is never withdrawn
    assert [line.segment_id for line in board.lines] == [1]


def test_a_translation_joins_its_line_and_is_ignored_once_the_line_is_gone():
    board = CaptionBoard(keep=2)
    board.apply(final(1, "Hello.", "S1"))
    assert board.apply(translation(1, "Hallo."))
    [line] = board.lines
    assert (line.translation, line.target_lang) == ("Hallo.", "de")
    board.apply(final(2, "Two."))
    board.apply(final(3, "Three."))
    assert not board.apply(translation(1, "Hallo."))  # scrolled away: nothing to attach to
    assert [line.segment_id for line in board.lines] == [2, 3]


def test_a_revision_replaces_its_line_and_is_ignored_once_the_line_is_gone():
    board = CaptionBoard(keep=2)
    board.apply(final(1, "Pray again.", "S1"))
    board.apply(translation(1, "Bete wieder."))
    assert board.apply(FinalRevised(1, 1.0, 2.0, "Try again.", "Pray again.", "en", T, "S1"))
    (line,) = board.lines
    assert (line.text, line.speaker, line.final) == ("Try again.", "S1", True)
    board.apply(final(2, "b"))
    board.apply(final(3, "c"))  # line 1 scrolled away
    assert not board.apply(FinalRevised(1, 1.0, 2.0, "Try it.", "Try again.", "en", T))
    assert [ln.text for ln in board.lines] == ["b", "c"]


def test_the_board_keeps_only_the_newest_lines():
    board = CaptionBoard(keep=3)
    for seg in range(1, 51):
        board.apply(partial(seg, f"p{seg}"))
        board.apply(final(seg, f"Line {seg}.", f"S{seg % 5}"))
    assert [line.text for line in board.lines] == ["Line 48.", "Line 49.", "Line 50."]
    assert len(board.snapshot()["lines"]) == 3


def test_speaker_colours_follow_first_appearance_and_renames():
    board = CaptionBoard()
    board.apply(SpeakerChanged(None, "S1"))
    board.apply(final(1, "One.", "S1"))
    board.apply(final(2, "Two.", "S2"))
    board.apply(final(3, "No label."))
    assert board.color("S1") == SPEAKER_COLORS[0]
    assert board.color("S2") == SPEAKER_COLORS[1]
    assert board.apply(SpeakerChanged("S2", "Alice"))
    assert board.color("Alice") == SPEAKER_COLORS[1]  # the colour follows the person
    assert [line.speaker for line in board.lines] == ["S1", "Alice", None]
    colors = [line["color"] for line in board.snapshot()["lines"]]
    assert colors == [SPEAKER_COLORS[0], SPEAKER_COLORS[1], "#ffffff"]
    board.apply(final(4, "Three.", "S3"))
    assert board.color("S3") == SPEAKER_COLORS[2]  # not S2's old colour: no two share one


def test_finished_drops_partial_lines_that_will_never_get_a_final():
    board = CaptionBoard()
    board.apply(final(1, "Kept."))
    board.apply(partial(2, "never fin"))
    assert board.apply(Finished(3.0, "stopped"))
    assert [line.text for line in board.lines] == ["Kept."]
    assert not board.apply(Finished(3.0))


def test_caption_text_shows_the_newest_lines_in_the_chosen_form():
    board = CaptionBoard()
    board.apply(final(1, "First.", "S1"))
    board.apply(final(2, "Second\nline.", "S2"))
    board.apply(translation(2, "Zweite Zeile."))
    board.apply(partial(3, "and then"))
    lines = board.lines
    assert caption_text(lines, count=2) == "S2: Second line.\nZweite Zeile.\nand then\n"
    assert caption_text(lines, count=1, show="original") == "and then\n"
    assert caption_text(lines, show="translation") == "S2: Zweite Zeile.\n"
    assert caption_text(lines, count=3, show="original", speakers=False) == (
        "First.\nSecond line.\nand then\n"
    )
    assert caption_text((), count=2) == ""


# ---------------------------------------------------------------------- the caption file
def test_the_caption_file_holds_the_current_caption(tmp_path):
    path = tmp_path / "caption.txt"
    path.write_text("yesterday's caption\n")
    with Captions(CaptionOptions(file=path, file_lines=1)) as captions:
        _wait_for(lambda: path.read_text() == "", "the file to start empty")
        captions(partial(1, "hello"))
        captions(final(1, "Hello there.", "S1"))
        captions(translation(1, "Hallo."))
        _wait_for(lambda: path.read_text() == "S1: Hello there.\nHallo.\n", "the final")
    assert path.read_text() == "S1: Hello there.\nHallo.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["caption.txt"]  # no temp files left


def test_an_unwritable_caption_file_never_reaches_the_engine(tmp_path, caplog):
    path = tmp_path / "missing" / "dir" / "caption.txt"
    (tmp_path / "missing").write_text("a file where a folder should be")
    with Captions(CaptionOptions(file=path)) as captions:
        for seg in range(1, 20):
            captions(final(seg, f"Line {seg}."))  # returns; the writer thread logs
        _wait_for(lambda: "cannot write the caption file" in caplog.text, "the error")
    assert caplog.text.count("cannot write the caption file") == 1


# ---------------------------------------------------------------------- the page over HTTP
def _wait_for(check, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _sse_messages(response: httpx.Response) -> Iterator[dict]:
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and data:
            yield json.loads("\n".join(data))
            data = []


@pytest.fixture
def page() -> Iterator[Captions]:
    captions = Captions(CaptionOptions(port=0, write_timeout_s=0.5)).start()
    yield captions
    captions.close()


def test_the_event_stream_sends_the_state_then_each_change(page):
    page(final(1, "Already said.", "S1"))
    with (
        httpx.Client(base_url=page.url, timeout=10) as client,
        client.stream("GET", "/events") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        messages = _sse_messages(response)
        first = next(messages)
        assert [line["text"] for line in first["lines"]] == ["Already said."]
        page(partial(2, "we should", "go"))
        state = next(messages)
        assert state["lines"][-1] == {
            "id": 2,
            "text": "we should go",
            "final": False,
            "speaker": None,
            "color": "#ffffff",
            "lang": "en",
            "translation": None,
            "target_lang": None,
        }
        page(final(2, "We should go.", "S2"))
        state = next(messages)
        assert [(x["id"], x["text"], x["final"]) for x in state["lines"]] == [
            (1, "Already said.", True),
            (2, "We should go.", True),
        ]
        assert state["lines"][1]["color"] == SPEAKER_COLORS[1]
        page(translation(2, "Wir sollten gehen."))
        assert next(messages)["lines"][1]["translation"] == "Wir sollten gehen."
        assert page.clients == 1
    _wait_for(lambda: page.clients == 0, "the closed stream to be forgotten")


def test_the_page_embeds_the_current_captions_safely(page):
    page(final(1, "</script><b>not markup</b>", "S1"))
    response = httpx.get(page.url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert "</script><b>" not in html
    assert "\\u003c/script>\\u003cb>not markup\\u003c/b>" in html
    state = httpx.get(page.url + "captions.json", timeout=10).json()
    assert state["lines"][0]["text"] == "</script><b>not markup</b>"
    assert (
        httpx.get(page.url + "caption.txt", timeout=10).text == "S1: </script><b>not markup</b>\n"
    )
    assert httpx.get(page.url + "nothing", timeout=10).status_code == 404


def test_a_request_naming_a_foreign_host_is_refused(page):
    """DNS rebinding: a web page cannot read the captions through a name it controls."""
    response = httpx.get(page.url, headers={"Host": f"evil.example:{page.port}"}, timeout=10)
    assert response.status_code == 403
    assert httpx.get(f"http://localhost:{page.port}/captions.json", timeout=10).status_code == 200


def test_a_stalled_browser_never_blocks_the_engine_and_is_dropped(page):
    """A client that stops reading: the engine's calls keep returning, its queue stays bounded
    (the oldest messages are dropped), a reading client still gets the newest state, and the
    stalled one is disconnected once a write times out."""
    stalled = socket.create_connection(("127.0.0.1", page.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    _wait_for(lambda: page.clients == 1, "the stalled client to connect")
    long_text = "word " * 400  # ~2 kB per line, 8 lines per message
    done = threading.Event()

    def engine() -> None:
        for seg in range(1, 3001):
            page(final(seg, f"{long_text}{seg}"))
        done.set()

    thread = threading.Thread(target=engine)
    thread.start()
    thread.join(timeout=60)
    stalled_queue = [len(c.pending) for c in page._clients]
    assert done.is_set(), "the engine was blocked by a browser that does not read"
    assert page.dropped > 0
    assert all(n <= page.options.client_queue for n in stalled_queue)
    with (
        httpx.Client(base_url=page.url, timeout=10) as client,
        client.stream("GET", "/events") as response,
    ):
        newest = next(_sse_messages(response))
        assert newest["lines"][-1]["text"].endswith("3000")
    # the kernel's socket buffers may still absorb what was queued: a live engine keeps
    # talking, the buffers fill, a write blocks and times out after write_timeout_s (5 s)
    deadline = time.monotonic() + 30
    seg = 3000
    while page.clients:
        assert time.monotonic() < deadline, "timed out waiting for the stalled client to go"
        seg += 1
        page(final(seg, f"{long_text}{seg}"))
        time.sleep(0.01)
    stalled.close()


def test_client_limit_and_a_busy_port(tmp_path):
    with Captions(CaptionOptions(port=0, max_clients=1)) as captions:
        with (
            httpx.Client(base_url=captions.url, timeout=10) as client,
            client.stream("GET", "/events") as first,
        ):
            assert first.status_code == 200
            _wait_for(lambda: captions.clients == 1, "the first client")
            assert client.get("/events").status_code == 503
        with pytest.raises(ConfigError, match=rf"127.0.0.1:{captions.port}: .*another port"):
            Captions(CaptionOptions(port=captions.port)).start()
    with pytest.raises(ConfigError, match="between 0 and 65535"):
        Captions(CaptionOptions(port=70000)).start()


def test_closing_ends_every_stream(page):
    with (
        httpx.Client(base_url=page.url, timeout=10) as client,
        client.stream("GET", "/events") as response,
    ):
        messages = _sse_messages(response)
        next(messages)
        page.close()
        assert list(messages) == []  # the stream ended instead of hanging
    with pytest.raises(httpx.TransportError):
        httpx.get(page.url, timeout=2)


def test_events_after_close_are_ignored(tmp_path: Path):
    captions = Captions(CaptionOptions(file=tmp_path / "c.txt")).start()
    captions(final(1, "Before."))
    captions.close()
    captions(final(2, "After."))
    assert (tmp_path / "c.txt").read_text() == "Before.\n"
