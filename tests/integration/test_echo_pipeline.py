"""Echo guard end to end: Dragoman listens to a PulseAudio monitor while speaking into the same
sink, so its own voice comes straight back into capture. A person's line is captioned once;
Dragoman's spoken copy of it must not become a new final."""

from __future__ import annotations

import threading
import time

import pytest

from engine.audio.sources import MicrophoneSource
from engine.config import AsrOptions, AudioOptions, EngineConfig, SpeakerOptions, SpeechOptions
from engine.events import Final, SpeechOutput
from engine.pipeline import Pipeline


@pytest.mark.parametrize("policy", ["mute-capture", "correlate", "off"])
def test_own_speech_is_not_transcribed(pulse, speech_dir, whisper_base, policy):
    """With the guard off (the control) the echo does come back as a second final."""
    events: list = []
    config = EngineConfig(
        asr=AsrOptions(language="en"),
        speakers=SpeakerOptions(mode="off"),
        speech=SpeechOptions(
            enabled=True, play=True, echo_guard=policy, output_device=f"pulse:{pulse.sink}"
        ),
        audio=AudioOptions(),
    )
    pipeline = Pipeline(config, events.append, transcriber=whisper_base)
    pipeline.load()
    source = MicrophoneSource(f"pulse:{pulse.monitor}")
    runner = threading.Thread(target=pipeline.run, args=(source,), kwargs={"realtime": True})
    runner.start()
    try:
        time.sleep(1.0)
        pulse.play_file(speech_dir / "goforward.wav")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # Dragoman speaks the line, heard by the capture
            spoken = [
                e for e in events if isinstance(e, SpeechOutput) and e.times.playback_start_at
            ]
            if spoken:
                break
            time.sleep(0.2)
        assert spoken, "Dragoman never spoke"
        time.sleep(spoken[0].duration + 2.5)  # its voice went through the monitor by now
    finally:
        pipeline.stop()
        runner.join(60)
    finals = [e for e in events if isinstance(e, Final)]
    print(policy, [(f.start, f.text) for f in finals])
    assert "forward" in finals[0].text.lower()
    if policy == "off":
        assert len(finals) >= 2, "the echo never reached the capture: the test proves nothing"
    else:
        assert len(finals) == 1, [f.text for f in finals]
