"""Model manager dialog: offline defaults listed as built in, downloads with progress and cancel
through the real model store against a local server that speaks the Hub's protocol."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from gui_helpers import wait_until
from PySide6.QtWidgets import QApplication

from app.model_manager import STATE_LABELS, ModelManagerDialog

REPO = "dragoman-test/tiny-asr"
MODEL_BIN = random.Random(5).randbytes(300_000)
CONFIG = b'{"model_type": "whisper"}\n'
CATALOG = f"""
[[model]]
id = "tiny-asr"
stage = "asr"
repo = "{REPO}"
languages = ["en", "de"]
licence = "MIT"
description = "fake whisper for the dialog test"
files = [{{ path = "model.bin", size = {len(MODEL_BIN)} }},
         {{ path = "config.json", size = {len(CONFIG)} }}]
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return tmp_path / "home"


def _rows(dialog: ModelManagerDialog) -> dict[str, tuple[str, ...]]:
    t = dialog.table
    return {
        t.item(r, 0).text(): tuple(t.item(r, c).text() for c in range(1, 5))
        for r in range(t.rowCount())
    }


def _row_of(dialog: ModelManagerDialog, model_id: str) -> int:
    return next(
        r for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text() == model_id
    )


def test_offline_defaults_are_listed_and_downloads_need_permission(
    themed_app: object, home: Path
) -> None:
    dialog = ModelManagerDialog(allow_network=False)
    try:
        rows = _rows(dialog)
        assert rows["whisper-base"][0] == "Speech recognition"
        assert rows["whisper-base"][3] == STATE_LABELS["packaged"]
        assert rows["silero-vad-v6"][3] == STATE_LABELS["packaged"]
        available = [m for m, r in rows.items() if r[3] == STATE_LABELS["available"]]
        assert available, rows
        button = dialog.table.cellWidget(_row_of(dialog, available[0]), 5)
        assert button.text() == "Download" and not button.isEnabled()
    finally:
        dialog.deleteLater()


def test_download_with_progress_and_cancel(
    themed_app: object, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.models.catalog import parse_catalog
    from engine.models.download import HubDownloader
    from engine.models.store import ModelStore

    try:
        from tests.services.hub_mirror import HubMirror
    except ImportError:
        pytest.skip("tests/services/hub_mirror.py is not available")

    with HubMirror() as hub:
        hub.add_file(REPO, "model.bin", MODEL_BIN)
        hub.add_file(REPO, "config.json", CONFIG)
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        store = ModelStore(
            home / "models",
            catalog=parse_catalog(CATALOG),
            downloader=HubDownloader(retries=1, retry_wait_s=0.0),
            use_packaged=False,
        )
        dialog = ModelManagerDialog(allow_network=True, store=store)
        try:
            assert _rows(dialog)["tiny-asr"] == (
                "Speech recognition",
                "en, de",
                "300.0 kB",
                STATE_LABELS["available"],
            )
            # cancel: the store stops and keeps the partial download for a resume
            dialog.start_download("tiny-asr")
            dialog.cancel_download()
            wait_until(lambda: dialog._downloading is None, 30, "the cancelled download")
            assert "cancelled" in dialog.progress_label.text().lower()
            assert store.installed_model("tiny-asr") is None
            # download: progress reaches 100 % and the row says installed
            seen: list[float] = []
            dialog._bridge.progress.connect(lambda p: seen.append(p.fraction or 0.0))
            button = dialog.table.cellWidget(_row_of(dialog, "tiny-asr"), 5)
            assert button.isEnabled()
            button.click()
            assert dialog.progress_box.isVisibleTo(dialog)  # shown as the download starts
            wait_until(lambda: dialog._downloading is None, 30, "the download")
            assert dialog.progress.value() == 1000, dialog.progress_label.text()
            assert seen and seen[-1] == 1.0
            assert _rows(dialog)["tiny-asr"][3] == STATE_LABELS["installed"]
            assert (home / "models" / "tiny-asr" / "model.bin").read_bytes() == MODEL_BIN
            assert dialog.changed
            remove = dialog.table.cellWidget(_row_of(dialog, "tiny-asr"), 5)
            assert remove.text() == "Remove"
            from PySide6.QtWidgets import QMessageBox

            answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
            asked: list[str] = []

            def question(_parent, _title, text, *_args):  # noqa: ANN001, ANN202
                asked.append(text)
                return answers.pop(0)

            monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
            remove.click()  # a mis-click: asked, cancelled, still installed
            assert asked and "tiny-asr" in asked[0]
            assert _rows(dialog)["tiny-asr"][3] == STATE_LABELS["installed"]
            dialog.table.cellWidget(_row_of(dialog, "tiny-asr"), 5).click()
            assert _rows(dialog)["tiny-asr"][3] == STATE_LABELS["available"]
            assert "removed" in dialog.progress_label.text()
            assert not dialog.progress.isVisibleTo(dialog)  # a message, not a download
        finally:
            dialog.reject()
            dialog.deleteLater()


def _store(home: Path):  # noqa: ANN202
    from engine.models.catalog import parse_catalog
    from engine.models.download import HubDownloader
    from engine.models.store import ModelStore

    return ModelStore(
        home / "models",
        catalog=parse_catalog(CATALOG),
        downloader=HubDownloader(retries=0, retry_wait_s=0.0),
        use_packaged=False,
    )


def test_a_failed_download_keeps_the_dialog_on_screen(
    themed_app: object, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, defect 3: offline, the error message widened the dialog to 2470 px (columns
    and Close off-screen) and told the user to type commands."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    dialog = ModelManagerDialog(allow_network=True, store=_store(home))
    try:
        dialog.show()
        width = dialog.width()
        dialog.start_download("tiny-asr")
        wait_until(lambda: dialog._downloading is None, 60, "the download to fail")
        QApplication.processEvents()
        message = dialog.progress_label.text()
        assert message and "`" not in message and " --" not in message, message
        assert dialog.width() <= max(width, 1100), dialog.width()
        assert dialog.sizeHint().width() <= 1100
    finally:
        dialog.reject()
        dialog.deleteLater()


def test_import_from_folder(themed_app: object, home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copied-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(MODEL_BIN)
    (folder / "config.json").write_bytes(CONFIG)
    store = _store(home)
    dialog = ModelManagerDialog(allow_network=True, store=store)  # the store as given
    try:
        assert dialog.import_button.isVisibleTo(dialog)
        dialog.table.selectRow(_row_of(dialog, "tiny-asr"))
        dialog.import_folder(folder)
        wait_until(lambda: dialog._downloading is None, 60, "the import")
        assert store.installed_model("tiny-asr") is not None, dialog.progress_label.text()
        assert _rows(dialog)["tiny-asr"][3] == STATE_LABELS["installed"]
        assert dialog.changed
    finally:
        dialog.reject()
        dialog.deleteLater()
