"""`dragoman run --caption-page 0 --caption-file FILE` on real speech with the real models: the
printed address serves the live captions over server-sent events while the run goes on, and the
caption file ends with the last caption."""

from __future__ import annotations

import json
import re
import threading

import httpx

from tests.cli_env import run_cli, start_cli


def test_a_run_serves_live_captions_and_keeps_the_caption_file(tmp_path, speech_dir):
    caption_file = tmp_path / "now.txt"
    proc = start_cli(
        "run",
        speech_dir / "goforward.wav",
        "--source",
        "en",
        "--speakers",
        "off",
        "--realtime",
        "--caption-page",
        "0",
        "--caption-file",
        caption_file,
    )
    assert proc.stderr is not None
    url = None
    early: list[str] = []
    for line in proc.stderr:  # the page opens before the models load
        early.append(line)
        match = re.search(r"live captions at (http://127\.0\.0\.1:\d+/)", line)
        if match:
            url = match.group(1)
            break
    assert url, "".join(early)
    states: list[dict] = []

    def follow() -> None:
        with httpx.Client(timeout=60) as client, client.stream("GET", url + "events") as reply:
            for line in reply.iter_lines():  # ends when the run ends and the page closes
                if line.startswith("data: "):
                    states.append(json.loads(line[6:]))

    reader = threading.Thread(target=follow)
    reader.start()
    out, err = proc.communicate(timeout=300)
    reader.join(timeout=30)
    assert proc.returncode == 0, "".join(early) + err
    assert not reader.is_alive(), "the event stream did not end with the run"
    lines = [line for state in states for line in state["lines"]]
    finals = [line for line in lines if line["final"]]
    assert finals and "forward" in finals[-1]["text"].lower(), states
    partials = [line for line in lines if not line["final"]]
    assert partials, "a real-time run shows partial lines before the final"
    assert {line["id"] for line in partials} <= {line["id"] for line in finals}
    # the file holds the newest two captions of the page's last state, one per line
    newest = states[-1]["lines"][-2:]
    assert caption_file.read_text() == "".join(" ".join(x["text"].split()) + "\n" for x in newest)
    assert "forward" in caption_file.read_text().lower()


def test_a_busy_caption_port_is_a_usage_error(tmp_path, speech_dir):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = run_cli("run", speech_dir / "goforward.wav", "--caption-page", port, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"dragoman: error: Cannot open the caption page on 127.0.0.1:{port}: "
        "Address already in use (choose another port, or 0 for any free one)."
    )
