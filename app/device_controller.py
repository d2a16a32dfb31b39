"""Audio inputs and outputs: what the pickers offer, which input is chosen, files to interpret.

Device lists come from `app.devices` (Qt-free); a rescan asks the engine to re-enumerate
PortAudio (`engine.audio.rescan`). UI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from app import devices, theme
from app.main_window import MainWindow
from app.settings_controller import SettingsController
from engine.audio.io import AUDIO_EXTENSIONS
from engine.audio.rescan import rescan_devices

AUDIO_FILTER = f"Audio and video ({' '.join('*' + x for x in AUDIO_EXTENSIONS)});;All files (*)"


def is_device(spec: str) -> bool:
    return spec.startswith(("mic", "pulse:", "system"))


class DeviceController(QObject):
    source_changed = Signal()  # another input was chosen (restart a running engine)
    file_chosen = Signal(str)  # the user picked a file to interpret now

    def __init__(
        self,
        settings: SettingsController,
        window: MainWindow,
        *,
        engine_idle: Callable[[], bool],
    ) -> None:
        super().__init__()
        self._settings = settings
        self._window = window
        self._engine_idle = engine_idle
        self._inputs = 0
        window.rescan_requested.connect(self.rescan)
        window.input_chosen.connect(self._on_input_chosen)
        window.open_file_requested.connect(self.choose_file)

    @property
    def source(self) -> str:
        return self._settings.settings.ui.source

    def refresh(self) -> None:
        """Fill the pickers from the devices present now."""
        ui, speech = self._settings.settings.ui, self._settings.settings.engine.speech
        inputs = devices.input_choices(ui.recent_files)
        if not any(choice.value == ui.source for choice in inputs):
            label = devices.describe_input(ui.source)
            if not is_device(ui.source) and Path(ui.source).is_file():
                label = f"File: {label}"
            else:
                label += " (not found)"
            inputs.append(devices.Choice(label, ui.source))
        outputs = devices.output_choices()
        if not any(choice.value == speech.output_device for choice in outputs):
            outputs.append(
                devices.Choice(f"{speech.output_device} (not found)", speech.output_device)
            )
        self._window.set_devices(inputs, ui.source, outputs, speech.output_device)
        self._window.set_placeholder(self.placeholder(listening=False))
        self._inputs = len(inputs)

    def rescan(self) -> None:
        if self._engine_idle():
            rescan_devices()  # plugged-in devices appear without restarting the app
        self.refresh()
        self._window.notify(f"{self._inputs} audio inputs found.", 4000)

    def set_source(self, spec: str) -> None:
        self._settings.schedule_save()
        ui = self._settings.settings.ui
        ui.source = spec
        if not is_device(spec):
            recent = [spec] + [p for p in ui.recent_files if p != spec]
            ui.recent_files = recent[:5]
        self.refresh()

    def _on_input_chosen(self, value: str) -> None:
        if value == devices.FILE_CHOICE:
            self._window.set_input(self.source)
            self.choose_file()
            return
        if value and value != self.source:
            self.set_source(value)
            self.source_changed.emit()

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self._window, "Interpret an audio file", str(Path.home()), AUDIO_FILTER
        )
        if name:
            self.set_source(name)
            self.file_chosen.emit(name)

    def placeholder(self, *, listening: bool) -> str:
        """What the empty transcript says: how to start, or that it is listening."""
        what = devices.describe_input(self.source)
        if listening:
            return (
                f"<p style='font-size:18px; color:{theme.TEXT}'>Listening to {what}…</p>"
                "<p>Captions appear here as people speak.</p>"
            )
        return (
            f"<p style='font-size:18px; color:{theme.TEXT}'>Ready to interpret</p>"
            f"<p>Press <b>Start</b> (Ctrl+R) to listen to {what}.</p>"
            "<p>Each speaker gets a colour; click a name to rename it.<br>"
            "Translations appear beneath the original text.</p>"
        )
