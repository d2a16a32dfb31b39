"""MicrophoneSource.close() is idempotent and thread-safe: the UI thread (Pipeline.stop) and the
engine thread (the end of Pipeline.run) close the same source at once; two threads inside
PortAudio's stop deadlocked on PulseAudio (issue 12, defect 1). A fake sounddevice stands in for
PortAudio and records how many threads are inside `stop()` at once."""

from __future__ import annotations

import sys
import threading
import time
import types

import pytest

from engine.audio.sources import MicrophoneSource


class _FakeStream:
    def __init__(self, **kwargs: object) -> None:
        self.active = True
        self.inside = 0
        self.most_inside = 0
        self.stops = 0
        self.closes = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.stops += 1
        time.sleep(0.2)  # PortAudio's stop waits for the device
        with self._lock:
            self.inside -= 1
        self.active = False

    def close(self) -> None:
        self.closes += 1


@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    made: list[_FakeStream] = []

    def input_stream(**kwargs: object) -> _FakeStream:
        made.append(_FakeStream(**kwargs))
        return made[-1]

    module = types.ModuleType("sounddevice")
    module.query_devices = lambda device=None: (  # type: ignore[attr-defined]
        [{"name": "fake mic", "max_input_channels": 1, "default_samplerate": 48000.0}]
        if device is None
        else {"name": "fake mic", "max_input_channels": 1, "default_samplerate": 48000.0}
    )
    module.default = types.SimpleNamespace(device=(0, 0))  # type: ignore[attr-defined]
    module.InputStream = input_stream  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sounddevice", module)
    return types.SimpleNamespace(streams=made)


def test_concurrent_close_enters_portaudio_once(fake_sd: types.SimpleNamespace) -> None:
    source = MicrophoneSource()
    stream = fake_sd.streams[0]
    go = threading.Barrier(3)

    def close() -> None:
        go.wait()
        source.close()

    threads = [threading.Thread(target=close) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)
    assert stream.most_inside == 1
    assert (stream.stops, stream.closes) == (1, 1)


def test_close_twice_is_harmless_and_ends_blocks(fake_sd: types.SimpleNamespace) -> None:
    source = MicrophoneSource()
    source.close()
    source.close()
    stream = fake_sd.streams[0]
    assert (stream.stops, stream.closes) == (1, 1)
    assert list(source.blocks()) == []  # a closed source yields nothing and returns
