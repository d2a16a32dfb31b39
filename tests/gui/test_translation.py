"""Translation under each line: a real run (Whisper base + the ONNX M2M100 translator on the tiny
parity fixture, real inference with a nonsense vocabulary) shows the translation beneath the
original, the original / translation / both toggle works on it, the overlay shows it, and the
exports carry it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pysubs2
import pytest
from gui_helpers import REPO, clip, wait_until

from app.settings import Settings
from app.worker import IDLE

pytestmark = pytest.mark.slow

FIXTURE = REPO / "tests" / "fixtures" / "m2m100" / "m2m100"


def test_translation_shown_toggled_and_exported(make_controller, tmp_path: Path) -> None:  # noqa: ANN001
    if not (FIXTURE / "encoder_model.onnx").is_file():
        pytest.skip("the M2M100 test fixture is not in this checkout")
    from engine.config import SpeakerOptions
    from engine.sentences import split_sentences
    from engine.translate import create_translator

    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.realtime_files = False
    settings.ui.source = str(clip("goforward.wav"))
    cfg = settings.engine
    settings.engine = dataclasses.replace(
        cfg,
        asr=dataclasses.replace(cfg.asr, language="en"),
        speakers=SpeakerOptions(mode="off"),
        translation=dataclasses.replace(
            cfg.translation, target_lang="fr", backend="m2m100", model=str(FIXTURE)
        ),
    )
    c = make_controller(settings)
    c.show()
    assert c.window.target_lang.currentData() == "fr"
    c.set_overlay_visible(True)
    assert c.start()
    wait_until(lambda: c.state == IDLE, 180, "the run to finish")
    assert not c.window.banner.isVisible(), c.window.banner.text()
    (line,) = c.session.lines()
    assert line.final and "forward" in line.text.lower()
    reference = create_translator(settings.engine.translation)
    expected = " ".join(r.text for r in reference.translate(split_sentences(line.text), "en", "fr"))
    assert line.translation == expected and line.target_lang == "fr"

    view = c.window.subtitles
    row = view.row_state(line.segment_id)
    assert row.original_visible and row.translation_visible and row.translation == expected
    c.window.mode_buttons["translation"].click()
    row = view.row_state(line.segment_id)
    assert not row.original_visible and row.translation_visible
    assert c.overlay.text_lines() == [expected]
    c.window.mode_buttons["original"].click()
    assert not view.row_state(line.segment_id).translation_visible
    assert c.overlay.text_lines() == [line.text]
    assert "MT" in c.window.latency_label.text()

    both = pysubs2.load(str(c.export(tmp_path / "both.srt", content="both")))
    assert both[0].plaintext == f"{line.text}\n{expected}"
    only = pysubs2.load(str(c.export(tmp_path / "tr.vtt", content="translation")))
    assert only[0].plaintext == expected
