"""`dragoman run mic` on a real capture device (PulseAudio null sink monitor): speech played into
the sink is captioned, and Ctrl-C stops cleanly and flushes the subtitles."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from tests.cli_env import start_cli, wait_for_line


def listen(server, *outputs: str) -> subprocess.Popen:
    """`dragoman run mic` on `server`'s default source (its sink's monitor), once it listens."""
    proc = start_cli(
        "run",
        "mic",
        "--source",
        "en",
        "--speakers",
        "off",
        *outputs,
        env=server.env | {"DRAGOMAN_HOME": os.environ["DRAGOMAN_HOME"]},
    )
    try:
        wait_for_line(proc.stderr, "listening on", timeout=120)
    except BaseException:
        proc.kill()
        raise
    return proc


def test_mic_capture_and_ctrl_c_flush(pulse, tmp_path, speech_dir):
    srt, jsonl = tmp_path / "mic.srt", tmp_path / "mic.jsonl"
    proc = listen(pulse, "--subtitles", str(srt), "--jsonl", str(jsonl))
    try:
        pulse.play_file(speech_dir / "goforward.wav")
        time.sleep(0.3)
        pulse.play_file(speech_dir / "forever.wav")  # still speaking when Ctrl-C arrives
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err  # interrupted, after the flush
    text = srt.read_text().lower()
    print(text)
    assert "forward" in text
    assert "forever" in text  # the open segment was flushed at Ctrl-C
    finals = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert [r for r in finals if r["type"] == "final"]


def test_device_lost_mid_session_keeps_the_subtitles(tmp_path, speech_dir):
    """The capture device disappears while Dragoman listens: one clear error line, exit 1,
    and every line already final stays in the subtitle file."""
    from tests.audio_env import pulse_server

    srt = tmp_path / "lost.srt"
    with pulse_server(tmp_path / "own-server") as server:
        proc = listen(server, "--subtitles", str(srt))
        try:
            server.play_file(speech_dir / "goforward.wav")
            time.sleep(1.5)  # the line becomes final
            server.pactl("unload-module", "module-null-sink")
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    print(err)
    assert proc.returncode == 1, err  # a runtime failure, not a usage error
    # after "listening on" (read by listen()): exactly one line of ours (PortAudio may add its own)
    ours = [line for line in err.splitlines() if line.startswith("dragoman:")]
    assert len(ours) == 1, err
    assert ours[0].startswith("dragoman: error:") and "device" in ours[0].lower(), err
    assert "Traceback" not in err
    assert "forward" in srt.read_text().lower()
