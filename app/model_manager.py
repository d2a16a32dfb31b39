"""Model manager: what is installed (offline defaults included), what can be downloaded (size,
languages), downloads with a progress bar and cancel.

Downloads run on a plain background thread inside `engine.models.store.ModelStore`; progress
reaches the dialog through a queued signal. Nothing here needs the network unless the user
allows downloads.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.errors import DragomanError

log = logging.getLogger(__name__)

STAGE_LABELS = {
    "asr": "Speech recognition",
    "vad": "Voice detection",
    "nmt": "Translation",
    "tts": "Voice",
    "speaker": "Speaker recognition",
    None: "Any",
}
STATE_LABELS = {
    "installed": "Installed",
    "packaged": "Built in (offline)",
    "partial": "Download interrupted",
    "available": "Available to download",
    "missing": "Not installed",
}


def human_size(size: int | None, exact: bool = True) -> str:
    if not size:
        return "—"
    prefix = "" if exact else "≈ "
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{prefix}{size / scale:.1f} {unit}"
    return f"{prefix}{size} B"


def languages_text(langs: tuple[str, ...]) -> str:
    if not langs or "*" in langs:
        return "many languages"
    if len(langs) > 6:
        return ", ".join(langs[:6]) + f" +{len(langs) - 6}"
    return ", ".join(langs)


class _Bridge(QObject):
    progress = Signal(object)  # engine.models.download.DownloadProgress
    done = Signal(str)
    failed = Signal(str, bool)  # message, cancelled


def plain_message(message: str) -> str:
    """The engine's message without the sentences that tell a terminal user what to type
    (the GUI offers those actions as buttons)."""
    sentences = re.split(r"(?<=[.!?])\s+", message.strip())
    kept = [x for x in sentences if "`" not in x and " --" not in x]
    return " ".join(kept) or message


class ModelManagerDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        allow_network: bool = False,
        store: Any = None,
        highlight: str | None = None,
        reason: str = "",
    ) -> None:
        """highlight: a model id to select and scroll to (the one a chosen language needs);
        reason: one line saying why it is needed."""
        super().__init__(parent)
        self.highlight = highlight
        self.setWindowTitle("Models")
        self.resize(1040, 560)
        self.changed = False
        self._store = store
        self._cancel: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._downloading: str | None = None
        self._bridge = _Bridge()
        self._bridge.progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._bridge.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._bridge.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)

        intro = QLabel(
            "Built-in models work offline out of the box. Larger or other-language "
            "models can be downloaded when you allow internet access."
        )
        intro.setWordWrap(True)
        self.network = QCheckBox("Allow downloads from the internet")
        self.network.setAccessibleName("Allow downloads from the internet")
        self.network.setChecked(allow_network)
        self.network.toggled.connect(lambda _on: self.refresh())
        self.table = QTableWidget(0, 6)
        self.table.setAccessibleName("Models")
        self.table.setHorizontalHeaderLabels(
            ["Model", "Used for", "Languages", "Size", "Status", ""]
        )
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        for col in range(6):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(32)
        self.table.setWordWrap(False)
        self.progress_label = QLabel("")
        # a long error message wraps; it never widens the dialog past the screen
        self.progress_label.setWordWrap(True)
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress_label.setMinimumWidth(200)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setAccessibleName("Cancel download")
        self.cancel_button.clicked.connect(self.cancel_download)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.progress_box.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.import_button = buttons.addButton(
            "Import from folder…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.import_button.setAccessibleName("Import a model from a folder")
        self.import_button.setToolTip(
            "Install a model from a folder of its files (copied from another computer or a "
            "download made elsewhere)"
        )
        self.import_button.clicked.connect(self.choose_import_folder)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("font-weight: 600;")
        self.reason.setVisible(bool(reason))
        lay.addWidget(self.reason)
        lay.addWidget(self.network)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.progress_box)
        lay.addWidget(buttons)
        self.refresh()

    # ------------------------------------------------------------------ data
    def store(self) -> Any:
        from engine.models.store import ModelStore

        offline = not self.network.isChecked()
        if self._store is None or getattr(self._store, "_offline", None) != offline:
            self._store = ModelStore(offline=offline)
        return self._store

    def rows(self) -> list[Any]:
        try:
            return self.store().statuses()
        except DragomanError as exc:
            self._say(str(exc))
            return []

    def refresh(self) -> None:
        rows = self.rows()
        order = {"installed": 0, "packaged": 0, "partial": 1, "available": 2, "missing": 3}
        rows.sort(key=lambda r: (order.get(r.state, 9), r.stage or "", r.model_id))
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            name = QTableWidgetItem(row.model_id)
            name.setToolTip(
                f"{row.description}\nLicence: {row.licence}" + (f"\n{row.path}" if row.path else "")
            )
            self.table.setItem(i, 0, name)
            self.table.setItem(i, 1, QTableWidgetItem(STAGE_LABELS.get(row.stage, row.stage)))
            self.table.setItem(i, 2, QTableWidgetItem(languages_text(tuple(row.languages))))
            self.table.setItem(i, 3, QTableWidgetItem(human_size(row.size_bytes, row.size_exact)))
            status = QTableWidgetItem(STATE_LABELS.get(row.state, row.state))
            if row.install_hint and row.state == "missing":
                status.setToolTip(row.install_hint)
            self.table.setItem(i, 4, status)
            self.table.setCellWidget(i, 5, self._action_for(row))
            if row.model_id == self.highlight:
                self.table.selectRow(i)
                self.table.scrollToItem(name)

    def highlighted_row(self) -> int | None:
        """The table row of the highlighted model (None when it is not listed)."""
        for i in range(self.table.rowCount()):
            item = self.table.item(i, 0)
            if item is not None and item.text() == self.highlight:
                return i
        return None

    def _action_for(self, row: Any) -> QWidget:
        if row.state in ("available", "partial"):
            button = QPushButton("Resume" if row.state == "partial" else "Download")
            button.setAccessibleName(f"Download {row.model_id}")
            allowed = self.network.isChecked() and self._downloading is None
            button.setEnabled(allowed)
            if not self.network.isChecked():
                button.setToolTip("Allow downloads from the internet first")
            button.clicked.connect(lambda _=False, m=row.model_id: self.start_download(m))
            return button
        if row.state == "installed":
            button = QPushButton("Remove")
            button.setAccessibleName(f"Remove {row.model_id}")
            button.setEnabled(self._downloading is None)
            button.setToolTip("Delete the downloaded files (you can download it again)")
            button.clicked.connect(lambda _=False, m=row.model_id: self._ask_remove(m))
            return button
        if row.state == "packaged":
            label = QLabel("✓ ready")
            label.setStyleSheet("color: #3fb950; padding: 0 8px;")
        else:
            label = QLabel(row.install_hint or "")
            label.setStyleSheet("color: #80868f; padding: 0 8px; font-size: 11px;")
            label.setToolTip(row.install_hint or "")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label

    # ------------------------------------------------------------------ actions
    def start_download(self, model_id: str) -> None:
        if self._downloading is not None:
            return
        store = self.store()
        self._cancel = threading.Event()
        self._downloading = model_id
        self.progress_box.show()
        self.progress.show()
        self.cancel_button.show()
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress_label.setText(f"Downloading {model_id}…")
        self.cancel_button.setEnabled(True)
        bridge, cancel = self._bridge, self._cancel

        def run() -> None:
            from engine.models.download import DownloadCancelled

            try:
                store.download(model_id, on_progress=bridge.progress.emit, cancel=cancel)
            except DownloadCancelled as exc:
                bridge.failed.emit(str(exc), True)
            except DragomanError as exc:
                bridge.failed.emit(str(exc), False)
            except Exception as exc:  # never let a download thread die silently
                log.exception("download of %s failed", model_id)
                bridge.failed.emit(f"Download failed: {exc}", False)
            else:
                bridge.done.emit(model_id)

        self._thread = threading.Thread(target=run, name=f"download-{model_id}", daemon=True)
        self._thread.start()
        self.refresh()

    def cancel_download(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")

    def _ask_remove(self, model_id: str) -> None:
        """A mis-click must not delete gigabytes that took an hour to download."""
        answer = QMessageBox.question(
            self,
            "Remove model",
            f"Remove {model_id} from this computer? You can download it again later.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove(model_id)

    def remove(self, model_id: str) -> None:
        try:
            self.store().remove(model_id)
        except DragomanError as exc:
            self._say(str(exc))
        else:
            self._say(f"{model_id} was removed.")
        self.changed = True
        self.refresh()

    def choose_import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a model from a folder")
        if folder:
            self.import_folder(Path(folder))

    def import_folder(self, folder: Path) -> None:
        """Copy a model's files from `folder` into the store (verified), off the UI thread."""
        if self._downloading is not None:
            return
        store, bridge = self.store(), self._bridge
        model_id = self._selected_model_id()  # the row chosen (or highlighted) in the table
        self._downloading = folder.name
        self._say(f"Importing {folder}…")
        self.progress.setRange(0, 0)

        def run() -> None:
            try:
                path = store.import_folder(folder, model_id)
            except DragomanError as exc:
                message = str(exc)
                if model_id is None and "--" in message:
                    message = (
                        f"Which model is in {folder.name}? Select its row in the table, then "
                        "import the folder again."
                    )
                bridge.failed.emit(message, False)
            except Exception as exc:  # never let an import thread die silently
                log.exception("import of %s failed", folder)
                bridge.failed.emit(f"Import failed: {exc}", False)
            else:
                bridge.done.emit(Path(path).name)

        self._thread = threading.Thread(target=run, name="import-model", daemon=True)
        self._thread.start()
        self.refresh()

    def _selected_model_id(self) -> str | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return item.text() if item is not None else self.highlight

    def _say(self, message: str) -> None:
        """A message under the table (the progress bar only while downloading)."""
        self.progress_label.setText(plain_message(message))
        busy = self._downloading is not None
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.progress_box.show()

    def _on_progress(self, p: Any) -> None:
        if p.fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(p.fraction * 1000))
        total = human_size(p.bytes_total) if p.bytes_total else "?"
        self.progress_label.setText(f"{p.model_id}: {human_size(p.bytes_done)} of {total}")

    def _finish(self, message: str) -> None:
        self._downloading = None
        self._cancel = None
        self.progress.setRange(0, 1000)
        self.progress_label.setText(plain_message(message))
        self.cancel_button.setEnabled(False)
        self.refresh()

    def _on_done(self, model_id: str) -> None:
        self.changed = True
        self.progress.setValue(1000)
        self._finish(f"{model_id} is installed.")

    def _on_failed(self, message: str, cancelled: bool) -> None:
        self._finish(
            "Download cancelled; it resumes where it stopped next time." if cancelled else message
        )

    def reject(self) -> None:
        self.cancel_download()
        if self._thread is not None:
            self._thread.join(timeout=5)
        super().reject()
