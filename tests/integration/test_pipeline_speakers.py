"""Speaker labels through the whole engine (VAD -> Whisper -> speaker id) on a recording
assembled from different real people and a Piper voice, then with one person enrolled."""

from __future__ import annotations

import numpy as np
import pytest

from engine.audio.io import load_audio, to_mono_16k
from engine.audio.sources import ArraySource
from engine.config import AsrOptions, EngineConfig, SpeakerOptions, SpeechOptions
from engine.events import Final, SpeakerChanged
from engine.pipeline import Pipeline
from engine.speakers.profiles import SpeakerProfiles
from engine.tts import create_synthesizer

SR = 16_000


def piper_sentences(texts: list[str]) -> list[np.ndarray]:
    """The offline Piper voice (a fourth, synthetic speaker), at 16 kHz."""
    synthesizer = create_synthesizer(SpeechOptions())
    out = []
    for text in texts:
        chunks = list(synthesizer.synthesize(text, "en"))
        out.append(to_mono_16k(np.concatenate([c.samples for c in chunks]), chunks[0].sample_rate))
    return out


@pytest.fixture(scope="module")
def meeting(speech_dir):
    """(audio, [(person, start_s, end_s)]) — people take turns, 1.2 s pauses between."""
    joe = piper_sentences(
        ["The budget meeting starts at nine tomorrow.", "Please send me the report before lunch."]
    )
    turns = [
        ("cards", load_audio(speech_dir / "cards-005.wav")),
        ("goforward", load_audio(speech_dir / "goforward.wav")),
        ("joe", joe[0]),
        ("cards", load_audio(speech_dir / "cards-002.wav")),
        ("forever", load_audio(speech_dir / "forever.wav")),
        ("joe", joe[1]),
        ("cards", load_audio(speech_dir / "cards-003.wav")),
    ]
    pause = np.zeros(int(1.2 * SR), dtype=np.float32)
    pieces, layout, t = [pause], [], len(pause)
    for person, audio in turns:
        layout.append((person, t / SR, (t + len(audio)) / SR))
        pieces += [audio, pause]
        t += len(audio) + len(pause)
    return np.concatenate(pieces), layout


def run(audio, whisper_base) -> list:
    events: list = []
    config = EngineConfig(asr=AsrOptions(language="en"), speakers=SpeakerOptions(mode="auto"))
    Pipeline(config, events.append, transcriber=whisper_base).run(ArraySource(audio))
    return events


def person_of(final: Final, layout) -> str:
    middle = (final.start + final.end) / 2
    return min(layout, key=lambda row: abs((row[1] + row[2]) / 2 - middle))[0]


def labels_by_person(events, layout) -> dict[str, set]:
    found: dict[str, set] = {}
    for f in (e for e in events if isinstance(e, Final)):
        found.setdefault(person_of(f, layout), set()).add(f.speaker)
        print(f"{f.speaker!s:8s} [{f.start:5.2f}-{f.end:5.2f}] {person_of(f, layout):10s} {f.text}")
    return found


def test_each_person_gets_one_stable_label_and_enrolment_names_them(
    meeting, whisper_base, speech_dir
):
    audio, layout = meeting
    events = run(audio, whisper_base)
    found = labels_by_person(events, layout)
    assert set(found) == {"cards", "goforward", "joe", "forever"}
    for person, labels in found.items():
        assert len(labels) == 1 and None not in labels, (person, labels)
    distinct = [next(iter(v)) for v in found.values()]
    assert len(set(distinct)) == len(distinct), found
    announced = [e.new_label for e in events if isinstance(e, SpeakerChanged)]
    assert sorted(announced) == sorted(distinct)

    SpeakerProfiles().enroll("Carol", [load_audio(speech_dir / f"cards-00{i}.wav") for i in (1, 4)])
    try:
        found = labels_by_person(run(audio, whisper_base), layout)
        assert found["cards"] == {"Carol"}
        for person in ("goforward", "joe", "forever"):
            assert found[person] != {"Carol"} and len(found[person]) == 1
    finally:
        SpeakerProfiles().remove("Carol")
