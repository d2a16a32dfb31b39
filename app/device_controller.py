"""Audio inputs and outputs: what the pickers offer, which input is chosen, files to interpret,
and what happens while the chosen input is disconnected.

Device lists come from `app.devices` (Qt-free); a rescan asks the engine to re-enumerate
PortAudio (`engine.audio.rescan`). When the chosen device vanishes the engine says so
(`InputLost`: waiting for it, or following the input the system chose); the banner names both
devices and offers the other choice, which is saved (`AudioOptions.when_input_lost`) and
applied by the worker off the UI thread; `InputRestored` clears it. UI thread only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from app import devices, theme
from app.main_window import MainWindow
from app.settings_controller import SettingsController
from engine.audio.input_watch import describe
from engine.audio.io import AUDIO_EXTENSIONS
from engine.audio.rescan import rescan_devices
from engine.config import InputLostPolicy
from engine.events import InputLost, InputRestored

AUDIO_FILTER = f"Audio and video ({' '.join('*' + x for x in AUDIO_EXTENSIONS)});;All files (*)"


def is_device(spec: str) -> bool:
    return spec.startswith(("mic", "pulse:", "system"))


class DeviceController(QObject):
    source_changed = Signal()  # another input was chosen (restart a running engine)
    file_chosen = Signal(str)  # the user picked a file to interpret now
    input_policy_chosen = Signal(str)  # "wait" | "follow", while the chosen input is away

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
        self._lost: InputLost | None = None  # the chosen input is away
        self._label_before_loss: tuple[str, str] | None = None  # (spec, picker label)
        window.rescan_requested.connect(self.rescan)
        window.input_banner.choice_clicked.connect(self._on_input_choice)
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

    # ------------------------------------------------------------------ the input went away
    @property
    def input_lost(self) -> InputLost | None:
        return self._lost

    def on_input_lost(self, event: InputLost) -> None:
        """Say which device vanished and what is heard instead (nothing, or which input);
        offer the other choice; mark the picker's entry."""
        self._lost = event
        if self._window.notice_label.text().endswith("is back — listening to it again."):
            self._window.notice_label.setText("")  # away again: that notice is no longer true
        spec = self.source  # the picker's entry of what the engine listens to
        if self._label_before_loss is None:
            label = self._window.input_label(spec)
            if label is not None:
                self._label_before_loss = (spec, label)
        other = f"“{event.moved_to_label or event.moved_to}”" if event.moved_to else None
        kind = "System audio" if event.device.endswith(".monitor") else "Microphone"
        gone = "not connected" if event.at_start else "disconnected"
        if event.following:
            title = f"{kind} {gone} — listening to {other or 'another input'}"
            note = f"{gone} — listening to {other or 'another input'}"
            choice: str | None = f"Stop listening to {other}" if other else "Stop listening"
        else:
            title = f"{kind} {gone}"
            note = f"{gone} — waiting for it"
            choice = f"Listen to {other} meanwhile" if other else None  # nothing else there
        message = f"{describe(event)} It reconnects by itself when it is back."
        self._window.input_banner.show_message(title, message, choice)
        self._window.set_placeholder(self.placeholder(listening=True))
        if self._label_before_loss is not None:
            spec, label = self._label_before_loss
            self._window.set_input_label(spec, f"{label} ({note})")

    def on_input_restored(self, event: InputRestored) -> None:
        self._window.notify(describe(event), 8000)
        self.clear_input_lost()
        self._window.set_placeholder(self.placeholder(listening=True))

    def status_text(self) -> str | None:
        """The status bar's word while the chosen input is away (None: it is not)."""
        lost = self._lost
        if lost is None:
            return None
        if lost.following:
            elsewhere = lost.moved_to_label or lost.moved_to or "another input"
            return f"● Listening to “{elsewhere}” — “{lost.label}” is away"
        return f"● Waiting for “{lost.label}”"

    def clear_input_lost(self) -> None:
        """The device is back, or nothing listens any more: no banner, the usual label."""
        self._lost = None
        self._window.input_banner.hide()
        if self._label_before_loss is not None:
            self._window.set_input_label(*self._label_before_loss)
            self._label_before_loss = None

    def _on_input_choice(self) -> None:
        """The banner's button: the other choice, saved and applied now."""
        if self._lost is None:
            return
        policy: InputLostPolicy = "wait" if self._lost.following else "follow"
        settings = self._settings.settings
        audio = dataclasses.replace(settings.engine.audio, when_input_lost=policy)
        settings.engine = dataclasses.replace(settings.engine, audio=audio)
        self._settings.schedule_save()
        self.input_policy_chosen.emit(policy)  # the engine's next InputLost updates the banner

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
        lost = self._lost
        if listening and lost is not None:
            if lost.following:
                what = f"“{lost.moved_to_label or lost.moved_to}” while “{lost.label}” is away"
            else:
                return (
                    f"<p style='font-size:18px; color:{theme.TEXT}'>Waiting for "
                    f"“{lost.label}”…</p><p>Captions go on when it is back.</p>"
                )
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
