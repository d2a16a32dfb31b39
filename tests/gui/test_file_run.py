"""The main window on a real file source with the real engine (Silero VAD + Whisper base).

One module-scoped run of goforward.wav ("go forward ten meters") played at real-time pace feeds
the tests: lanes fill with the clip's words, the partial is dimmed and replaced in place before
the final, the event loop stays responsive, exports are correct, renames persist, and errors
(missing model, missing input device) show the banner while the transcript stays.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pysubs2
import pytest
from gui_helpers import DelayProbe, clip, close_controller, wait_until, words

from app.settings import Settings
from app.subtitle_view import UNKNOWN_SPEAKER
from app.worker import IDLE

pytestmark = pytest.mark.slow


@dataclasses.dataclass
class Run:
    controller: object
    seen: list[tuple[str, int, str, bool, bool, int]]  # kind, id, text, live tag, dimmed, rows
    preload_delay: float
    run_delay: float
    ticks: int


@pytest.fixture(scope="module")
def run(themed_app: object) -> Run:
    from PySide6.QtCore import QObject, Qt, Slot

    from app.controller import AppController

    settings = Settings()
    settings.ui.source = str(clip("goforward.wav"))
    settings.ui.realtime_files = True
    settings.ui.preload_models = False
    controller = AppController(settings)
    controller.window.resize(1000, 640)
    controller.show()
    view = controller.window.subtitles
    seen: list[tuple[str, int, str, bool, bool, int]] = []

    def note(kind: str, event: object) -> None:
        row = view.row_state(event.segment_id)  # type: ignore[attr-defined]
        assert row is not None, "the controller shows every line before others see it"
        seen.append(
            (
                kind,
                event.segment_id,
                row.original,
                row.live,  # type: ignore[attr-defined]
                row.dimmed,
                view.row_count(),
            )
        )

    class Recorder(QObject):  # lives on the UI thread, like the controller
        @Slot(object)
        def partial(self, event: object) -> None:
            note("partial", event)

        @Slot(object)
        def final(self, event: object) -> None:
            note("final", event)

    # connected after the controller's own slots, so they see what the user sees
    recorder = Recorder()
    queued = Qt.ConnectionType.QueuedConnection
    controller.worker.partial.connect(recorder.partial, queued)
    controller.worker.final.connect(recorder.final, queued)

    # models preload in the background at start-up, as the app does
    probe = DelayProbe()
    probe.start()
    controller.preload()
    wait_until(lambda: not controller.preloading, 180, "the models to preload")
    preload_delay = probe.stop()

    probe = DelayProbe()
    probe.start()
    assert controller.start()
    wait_until(lambda: controller.state == IDLE, 120, "the run to finish")
    run_delay = probe.stop()
    print(
        f"\nevent-loop delay: max {run_delay * 1000:.0f} ms during the run "
        f"({probe.ticks} ticks), {preload_delay * 1000:.0f} ms while models preloaded"
    )
    yield Run(controller, seen, preload_delay, run_delay, probe.ticks)
    close_controller(controller)
    recorder.deleteLater()


def test_lanes_fill_with_the_clips_words_partial_then_final(run: Run) -> None:
    c = run.controller
    assert not c.window.banner.isVisible(), c.window.banner.text()
    lines = c.session.lines()
    assert len(lines) == 1 and lines[0].final
    said = words(lines[0].text)
    for word in ("go", "forward", "ten"):
        assert word in said, lines[0].text
    assert any(w.startswith("met") for w in said), lines[0].text
    row = c.window.subtitles.row_state(lines[0].segment_id)
    assert row is not None and row.original == lines[0].text and row.original_visible
    assert not row.live and not row.dimmed
    assert row.header_visible and row.speaker  # the speaker label is shown

    kinds = [k for k, *_ in run.seen]
    assert "partial" in kinds and kinds[-1] == "final", run.seen
    assert kinds.index("partial") < kinds.index("final")
    for kind, _sid, text, live, dimmed, rows in run.seen:
        assert rows == 1, "a partial is replaced in place, never appended"
        if kind == "partial":
            assert live and dimmed and text, run.seen
        else:
            assert not live and not dimmed
    # the status bar shows the last utterance's latency and where each stage runs
    assert "ASR" in c.window.latency_label.text()
    assert c.window.backends_label.text() == "All stages on this computer"
    assert "ASR: local" in c.window.backends_label.toolTip()


def measured_run_delay() -> tuple[float, int]:
    """Max event-loop delay over a whole run of a fresh window (models already loaded)."""
    from app.controller import AppController

    settings = Settings()
    settings.ui.source = str(clip("goforward.wav"))
    settings.ui.realtime_files = True
    settings.ui.preload_models = False
    controller = AppController(settings)
    controller.show()
    probe = DelayProbe()
    probe.start()
    try:
        assert controller.start()
        wait_until(lambda: controller.state == IDLE, 120, "the run to finish")
    finally:
        delay = probe.stop()
        close_controller(controller)
    return delay, probe.ticks


def test_event_loop_stays_responsive_during_the_run(run: Run) -> None:
    assert run.ticks > 100  # the probe really ran through the whole run
    delay = run.run_delay
    if delay >= 0.25:
        # A UI thread that blocks does so on every run; a one-off stall is the machine (seen
        # once in CI: 0.85 s, never reproduced). Measure a second, identical run to tell them apart.
        again, ticks = measured_run_delay()
        print(
            f"\nfirst run stalled {delay * 1000:.0f} ms; second run: {again * 1000:.0f} ms "
            f"({ticks} ticks)"
        )
        assert ticks > 100
        delay = again
    assert delay < 0.25, f"event loop blocked for {delay * 1000:.0f} ms"


def test_export_srt_vtt_txt_json(run: Run, tmp_path: Path) -> None:
    c = run.controller
    (line,) = c.session.lines()
    prefix = f"{line.speaker}: " if line.speaker else ""
    srt = pysubs2.load(str(c.export(tmp_path / "t.srt")))
    assert len(srt) == 1
    assert (srt[0].start, srt[0].end) == (round(line.start * 1000), round(line.end * 1000))
    assert srt[0].plaintext == prefix + line.text
    assert 0 <= srt[0].start < 1000 and 1500 < srt[0].end <= 2900  # speech in a 2.8 s clip
    vtt_text = c.export(tmp_path / "t.vtt").read_text()
    assert vtt_text.startswith("WEBVTT")
    vtt = pysubs2.load(str(tmp_path / "t.vtt"))
    assert [(e.start, e.end, e.plaintext) for e in vtt] == [
        (e.start, e.end, e.plaintext) for e in srt
    ]
    txt = c.export(tmp_path / "t.txt").read_text().splitlines()
    assert len(txt) == 1 and txt[0].endswith(prefix + line.text) and txt[0].startswith("[00:00:")
    data = json.loads(c.export(tmp_path / "t.json").read_text())
    assert data["lines"][0]["text"] == line.text and data["lines"][0]["final"] is True
    assert data["source"] is None  # the app's sessions do not record their input
    # the autosave on disk already holds the same transcript
    assert c.session.flush()
    saved = json.loads(c.session.path.read_text())
    assert saved["lines"] == data["lines"]


def test_rename_speaker_by_clicking_the_label(run: Run, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    c = run.controller
    (line,) = c.session.lines()
    view = c.window.subtitles
    name = view.speaker_rect(line.segment_id)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=name.center())
    assert view.editor.isVisible()
    view.editor.clear()
    QTest.keyClicks(view.editor, "Alice")
    QTest.keyClick(view.editor, Qt.Key.Key_Return)
    assert not view.editor.isVisible()
    assert view.row_state(line.segment_id).speaker == "Alice"
    assert [ln.speaker for ln in c.session.lines()] == ["Alice"]
    assert c.session.flush()  # autosaved at once (on the background writer)
    saved = json.loads(c.session.path.read_text())
    assert [ln["speaker"] for ln in saved["lines"]] == ["Alice"]
    srt = pysubs2.load(str(c.export(tmp_path / "renamed.srt")))
    assert srt[0].plaintext == f"Alice: {line.text}"
    assert c.overlay.text_lines()[0] == line.text  # the text; the name is drawn beside it
    assert any("Alice" in label.text() for label in c.overlay.labels)


def test_missing_model_shows_banner_keeps_transcript_and_recovers(run: Run, tmp_path: Path) -> None:
    c = run.controller
    before = c.session.lines()
    good = c.settings.engine
    c.settings.engine = dataclasses.replace(
        good, asr=dataclasses.replace(good.asr, model=str(tmp_path / "no-such-model"))
    )
    assert c.start()
    wait_until(lambda: c.state == IDLE and c.window.banner.isVisible(), 60, "the error banner")
    banner = c.window.banner
    assert "model" in banner.text().lower(), banner.text()
    assert banner.action_button.isVisible()  # offers the model manager
    assert c.session.lines() == before and c.window.subtitles.row_count() == len(before)
    # usable again: fix the setting and interpret the clip once more
    c.settings.engine = good
    c.settings.ui.realtime_files = False
    try:
        assert c.start()
        assert not banner.isVisible()  # a new start clears the old message
        wait_until(
            lambda: c.state == IDLE and len(c.session) == len(before) + 1, 120, "the second run"
        )
    finally:
        c.settings.ui.realtime_files = True
    lines = c.session.lines()
    assert lines[: len(before)] == before
    assert "forward" in words(lines[-1].text) and lines[-1].start > before[-1].end
    assert c.window.subtitles.row_count() == len(lines)


def test_missing_input_device_shows_banner_and_keeps_transcript(run: Run) -> None:
    c = run.controller
    before = c.session.lines()
    source = c.settings.ui.source
    c._set_source("mic:No Such Microphone 42")
    try:
        assert c.start()
        wait_until(lambda: c.state == IDLE and c.window.banner.isVisible(), 60, "the error banner")
    finally:
        c._set_source(source)
    banner = c.window.banner
    assert banner.title.text() == "Audio input problem"
    assert "No Such Microphone 42" in banner.text()
    assert c.session.lines() == before
    assert c.window.start_button.isEnabled() and c.window.start_button.text() == "Start"


def test_a_saved_session_opens_again(run: Run, make_controller, tmp_path: Path) -> None:  # noqa: ANN001
    c = run.controller
    c.session.save()
    assert c.session.flush()
    other = make_controller()
    other.show()
    assert other.open_session(c.session.path)
    assert other.session.lines() == c.session.lines()
    assert other.window.subtitles.row_count() == len(c.session)
    first = c.session.lines()[0]
    assert other.window.subtitles.row_state(first.segment_id).speaker == (
        first.speaker or UNKNOWN_SPEAKER
    )
    a = c.export(tmp_path / "a.srt").read_text()
    b = other.export(tmp_path / "b.srt").read_text()
    assert a == b
