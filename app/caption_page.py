"""The caption page for streaming and video calls, in the app (engine.captions does the work).

`CaptionPageController` owns the engine's `Captions` (the local caption page and the caption
file) for the whole life of the app, so the page's address and the speaker colours stay the same
across Start/Stop. Engine events reach it straight from the worker's signals on the engine
thread (`Captions` is thread-safe and never blocks), so a busy window never delays the stream.
`CaptionPageDialog` (View → Caption page for streaming…) turns it on and off, chooses the port,
shows the address with Copy and Open buttons, and sets the optional caption file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.settings import UiSettings
from engine.captions import CaptionOptions, Captions
from engine.errors import DragomanError

log = logging.getLogger(__name__)

# worker signals whose events the caption page shows
EVENT_SIGNALS = (
    "speech_started",
    "partial",
    "final",
    "discarded",
    "translation",
    "speaker_changed",
    "finished",
)


class CaptionPageController(QObject):
    """Runs the caption page and file as the settings say; `changed` after every (re)start."""

    changed = Signal()

    def __init__(
        self,
        worker: QObject,
        ui: Callable[[], UiSettings],
        save: Callable[[], Any],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._ui = ui
        self._save = save
        self._captions: Captions | None = None
        self.error: str | None = None
        self.show_dialog: Callable[[], None] = lambda: None  # set by `install`
        for name in EVENT_SIGNALS:
            getattr(worker, name).connect(self._feed, Qt.ConnectionType.DirectConnection)

    def _feed(self, event: object) -> None:
        captions = self._captions  # one read: a restart on the UI thread swaps it whole
        if captions is not None:
            captions(event)

    @property
    def url(self) -> str | None:
        captions = self._captions
        return captions.url if captions is not None else None

    @property
    def running(self) -> bool:
        return self._captions is not None

    def apply(self) -> bool:
        """(Re)start the page and file as the settings say; False (and `error` set, the page
        off in the settings) when the port cannot be used."""
        ui = self._ui()
        options = CaptionOptions(
            port=ui.caption_page_port if ui.caption_page else None,
            file=Path(ui.caption_file) if ui.caption_page and ui.caption_file else None,
        )
        old, self._captions = self._captions, None
        if old is not None:
            old.close()
        self.error = None
        if options.enabled:
            try:
                self._captions = Captions(options).start()
            except DragomanError as exc:
                self.error = str(exc)
                ui.caption_page = False
        self._save()
        self.changed.emit()
        return self.error is None

    def set_enabled(self, on: bool) -> bool:
        self._ui().caption_page = on
        return self.apply()

    def set_port(self, port: int) -> bool:
        ui = self._ui()
        if port == ui.caption_page_port and (self.running or not ui.caption_page):
            return True
        ui.caption_page_port = port
        return self.apply()

    def set_file(self, path: str | None) -> bool:
        ui = self._ui()
        path = path or None
        if path == ui.caption_file:
            return True
        ui.caption_file = path
        return self.apply()

    def close(self) -> None:
        captions, self._captions = self._captions, None
        if captions is not None:
            captions.close()


class CaptionPageDialog(QDialog):
    """Turn the caption page on, pick its port, copy its address, choose a caption file."""

    def __init__(self, controller: CaptionPageController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Caption page for streaming")
        ui = controller._ui()

        self.enable = QCheckBox("Show live captions on a web page (OBS, vMix, any browser)")
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free port")
        self.port.setValue(ui.caption_page_port)
        self.port.setToolTip("Keep one port so OBS keeps finding the page after a restart")
        self.address = QLineEdit()
        self.address.setReadOnly(True)
        self.address.setPlaceholderText("Off")
        self.copy_button = QPushButton("&Copy address")
        self.open_button = QPushButton("&Open in browser")
        self.file = QLineEdit(ui.caption_file or "")
        self.file.setPlaceholderText("No file (optional)")
        self.choose = QPushButton("Choose…")
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setObjectName("captionPageProblem")
        hint = QLabel(
            "In OBS, add a Browser source with this address. The page is transparent. To change "
            "the font size, the lines shown (original, translation or both) and how many, add "
            "for example<br><code>?size=48&amp;show=translation&amp;lines=2</code><br>to the "
            "address."
        )
        hint.setWordWrap(True)

        address_row = QHBoxLayout()
        address_row.addWidget(self.address, 1)
        address_row.addWidget(self.copy_button)
        address_row.addWidget(self.open_button)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(self.choose)
        form = QFormLayout()
        form.addRow("Port:", self.port)
        form.addRow("Address:", address_row)
        form.addRow("Caption text file:", file_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.enable)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(620, self.sizeHint().height())

        self.enable.toggled.connect(self._on_enable)
        self.port.editingFinished.connect(lambda: controller.set_port(self.port.value()))
        self.file.editingFinished.connect(lambda: controller.set_file(self.file.text().strip()))
        self.copy_button.clicked.connect(self.copy_address)
        self.open_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl(self.address.text()))
        )
        self.choose.clicked.connect(self._choose_file)
        controller.changed.connect(self.refresh)
        self.refresh()

    def _on_enable(self, on: bool) -> None:
        ui = self.controller._ui()
        ui.caption_page_port = self.port.value()
        ui.caption_file = self.file.text().strip() or None
        self.controller.set_enabled(on)

    def copy_address(self) -> None:
        if self.address.text():
            QGuiApplication.clipboard().setText(self.address.text())

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Caption text file", self.file.text() or "captions.txt", "Text (*.txt)"
        )
        if path:
            self.file.setText(path)
            self.controller.set_file(path)

    def refresh(self) -> None:
        controller = self.controller
        self.enable.blockSignals(True)
        self.enable.setChecked(controller.running)
        self.enable.blockSignals(False)
        url = controller.url or ""
        self.address.setText(url)
        self.copy_button.setEnabled(bool(url))
        self.open_button.setEnabled(bool(url))
        self.problem.setText(controller.error or "")
        self.problem.setVisible(bool(controller.error))


def install(
    worker: QObject, window: Any, ui: Callable[[], UiSettings], save: Callable[[], Any]
) -> CaptionPageController:
    """Wire the caption page into the app: the worker's events in, the window's
    `act_caption_page` opens the dialog; start it now if the settings say so."""
    controller = CaptionPageController(worker, ui, save, parent=window)
    dialogs: list[CaptionPageDialog] = []

    def show_dialog() -> None:
        if not dialogs:
            dialogs.append(CaptionPageDialog(controller, window))
        dialogs[0].refresh()
        dialogs[0].show()
        dialogs[0].raise_()
        dialogs[0].activateWindow()

    controller.show_dialog = show_dialog
    window.act_caption_page.triggered.connect(show_dialog)
    if ui().caption_page and not controller.apply():
        window.statusBar().showMessage(f"Caption page is off: {controller.error}", 15000)
    return controller
