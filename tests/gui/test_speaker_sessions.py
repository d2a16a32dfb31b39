"""Speaker numbers belong to a session, not to the loaded model.

The speaker identifier is kept loaded between runs (with Whisper, in the process-wide stage
cache), and it used to keep the speakers it had heard too: in a new session the first voice was
S2 (review of the desktop app: a German session after an English one). The engine here is
scripted (which voice speaks each line) around the real identifier and clustering, with one
fixed embedding per voice in place of the voice encoder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from gui_helpers import wait_until

from app.settings import Settings
from app.worker import IDLE, EngineWorker
from engine import stage_cache
from engine.api import EventCallback, LoadedStages
from engine.audio.sources import AudioBlock
from engine.config import EngineConfig
from engine.events import Final, Finished, SpeakerChanged, StageTimes
from engine.speakers.identifier import EmbeddingSpeakerIdentifier
from engine.speakers.profiles import SpeakerProfiles


@pytest.fixture(autouse=True)
def _no_cached_stages() -> Iterator[None]:
    """The scripted identifier must neither meet a real one left in the process-wide stage
    cache nor stay there for later tests."""
    stage_cache.shared.clear()
    yield
    stage_cache.shared.clear()


VOICES = {name: np.eye(8, dtype=np.float32)[i] for i, name in enumerate("ABCD")}


class _VoiceEmbedder:
    """Audio whose first sample is k -> the embedding of voice k (orthogonal voices)."""

    model_id = "scripted-voices"

    def embed(self, audio: np.ndarray, sample_rate: int = 16000) -> np.ndarray | None:
        return list(VOICES.values())[int(audio[0])]


class _Source:
    """A file source; the voices are read by the scripted pipeline from its name."""

    realtime = False
    hears_room = False
    dropped_blocks = 0

    def __init__(self, spec: str) -> None:
        self.name = spec

    def blocks(self) -> Iterator[AudioBlock]:
        return iter(())

    def close(self) -> None:
        pass


class _VoicesPipeline:
    """Identifies one 2 s line per voice named in the source ("ABA.wav": A, B, A), using the
    identifier the worker's stage cache hands back, like the real pipeline."""

    transcriber = None
    translator = None

    def __init__(self, on_event: EventCallback, stages: LoadedStages, tmp: object) -> None:
        self.on_event = on_event
        self.speaker_identifier = stages.speaker_identifier or EmbeddingSpeakerIdentifier(
            embedder=_VoiceEmbedder(),
            profiles=SpeakerProfiles(tmp),  # type: ignore[arg-type]
        )

    def load(self) -> None:
        pass

    def run(self, source: _Source) -> None:
        voices = source.name.removesuffix(".wav")
        for i, voice in enumerate(voices):
            audio = np.full(32000, "ABCD".index(voice), dtype=np.float32)
            match = self.speaker_identifier.identify(audio)
            if match.is_new and match.label:
                self.on_event(SpeakerChanged(None, match.label))
            final = Final(i, 3.0 * i, 3.0 * i + 2, f"Line {i}.", "en", StageTimes(), match.label)
            self.on_event(final)
        self.on_event(Finished(time.monotonic()))

    def stop(self) -> None:
        pass

    def reset_stop(self) -> None:
        pass

    def set_volume(self, volume: float) -> None:
        pass

    def rename_speaker(self, old: str, new: str) -> None:
        self.speaker_identifier.rename(old, new)


def _run(c, voices: str) -> list[str | None]:  # noqa: ANN001
    """Run the scripted engine on `voices`; the speakers of the lines it added, in order."""
    before = len(c.session)
    c.settings.ui.source = f"{voices}.wav"
    assert c.start()
    wait_until(lambda: c.state == IDLE and len(c.session) == before + len(voices), 10, "a run")
    return [line.speaker for line in c.session.lines()[before:]]


def _voices_controller(make_controller, tmp_path):  # noqa: ANN001, ANN202
    """The real controller and worker over the scripted voices pipeline."""

    def pipeline(config: EngineConfig, on_event: EventCallback, stages: LoadedStages):  # noqa: ANN202
        return _VoicesPipeline(on_event, stages, tmp_path)

    settings = Settings()
    settings.ui.preload_models = False
    return make_controller(settings, worker=EngineWorker(pipeline, lambda s, cfg, rt: _Source(s)))


def test_a_new_session_numbers_its_speakers_from_s1(make_controller, tmp_path) -> None:  # noqa: ANN001
    c = _voices_controller(make_controller, tmp_path)
    assert _run(c, "AB") == ["S1", "S2"]
    c.sessions.new_session()
    assert _run(c, "CA") == ["S1", "S2"]  # was S3, S1: the first session's speakers
    # Stop and Start again in the same session: its speakers carry on
    assert _run(c, "ACD") == ["S2", "S1", "S3"]
    # a renamed speaker keeps its name in the same session
    c.rename_speaker("S1", "Clara")
    assert _run(c, "C") == ["Clara"]


def test_a_reopened_session_gives_new_voices_unused_labels(make_controller, tmp_path) -> None:  # noqa: ANN001
    c = _voices_controller(make_controller, tmp_path)
    assert _run(c, "AB") == ["S1", "S2"]
    c.rename_speaker("S1", "Anna")
    path = c.session.path
    c.session.save()
    assert c.session.flush()
    c.sessions.new_session()
    assert _run(c, "C") == ["S1"]
    assert c.open_session(path)
    c.sessions._reopened = False  # as if the user chose "Add to this session"
    # the voices are not known in the reopened transcript; their labels there are taken
    assert _run(c, "D") == ["S3"]
