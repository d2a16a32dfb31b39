"""Connects the views (main window, overlay, tray) to the engine worker, session and settings.

Everything here runs on the UI thread; engine events reach it through queued connections from
the worker thread. The controller never loads or runs a model itself.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRect, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from app import caption_page, devices, theme
from app import settings as settings_mod
from app.icons import app_icon
from app.main_window import MainWindow
from app.overlay import CaptionOverlay
from app.settings import Settings
from app.tray import TrayController
from app.worker import IDLE, LOADING, RUNNING, STOPPING, EngineWorker, WorkerThread
from engine import paths
from engine.audio.io import AUDIO_EXTENSIONS
from engine.audio.rescan import rescan_devices
from engine.errors import DragomanError
from engine.events import (
    Final,
    Finished,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    SpeechOutput,
    StageFailure,
    Stats,
    Translation,
)
from engine.latency import LatencyTracker
from engine.session import Session

log = logging.getLogger(__name__)

STAGE_NAMES = {
    "asr": "ASR",
    "vad": "VAD",
    "nmt": "MT",
    "translation": "MT",
    "tts": "Speech",
    "speech": "Speech",
    "speaker": "Speakers",
    "speakers": "Speakers",
}
ERROR_TITLES = {
    "load": "The models could not be loaded",
    "audio": "Audio input problem",
    "capture": "Audio input problem",
    "engine": "Interpreting stopped",
}
EXPORT_FILTERS = (
    "SubRip subtitles (*.srt);;WebVTT subtitles (*.vtt);;Plain text (*.txt);;"
    "JSON transcript (*.json)"
)


class AppController(QObject):
    """The application: owns settings, session, worker thread and the three views."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        tray_mode: bool = False,
        worker: EngineWorker | None = None,
        session: Session | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or settings_mod.load()
        self.tray_mode = tray_mode
        self.colors = theme.SpeakerColors()
        self.icon = app_icon()
        self.session = session or Session.new_autosaved()
        self.session.use_background_writer()  # a slow disk never stalls the UI thread
        self.state = IDLE
        self._restart_pending = False
        self._run_started_at: float | None = None
        self._session_started_at = time.monotonic()
        self._latency = LatencyTracker()
        self._shut_down = False
        self.last_error: StageFailure | None = None
        self.preloading = False
        self._reported_save_error: Exception | None = None

        self.worker = worker or EngineWorker()
        self.worker_thread = WorkerThread(self.worker)
        self.window = MainWindow(self.colors, self.icon)
        self.overlay = CaptionOverlay(
            self.colors,
            font_size=self.settings.ui.overlay_font_size,
            opacity=self.settings.ui.overlay_opacity,
            click_through=self.settings.ui.overlay_click_through,
        )
        self.tray = TrayController(self.icon, self)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(1500)
        self._save_timer.timeout.connect(self.save_settings)
        self._connect_worker()
        self._connect_views()
        self.caption_page = caption_page.install(
            self.worker, self.window, lambda: self.settings.ui, self._schedule_save
        )
        self._load_settings_into_views()
        self.refresh_devices()
        self._update_placeholder()
        self.window.session_label.setText(self._session_text())

    # ------------------------------------------------------------------ wiring
    def _connect_worker(self) -> None:
        w, queued = self.worker, Qt.ConnectionType.QueuedConnection
        w.state_changed.connect(self._on_state, queued)
        w.partial.connect(self._on_line_event, queued)
        w.final.connect(self._on_line_event, queued)
        w.discarded.connect(self._on_discarded, queued)
        w.translation.connect(self._on_line_event, queued)
        w.speech.connect(self._on_speech, queued)
        w.speaker_changed.connect(self._on_speaker_changed, queued)
        w.stats.connect(self._on_stats, queued)
        w.error.connect(self._on_error, queued)
        w.finished.connect(self._on_finished, queued)
        w.preloaded.connect(self._on_preloaded, queued)

    def _connect_views(self) -> None:
        win = self.window
        win.act_start.triggered.connect(self.toggle_running)
        win.act_export.triggered.connect(self.export_dialog)
        win.act_new_session.triggered.connect(self.new_session)
        win.act_open_file.triggered.connect(self.choose_file_and_start)
        win.act_sessions_folder.triggered.connect(self._open_sessions_folder)
        win.act_open_session.triggered.connect(self.open_session_dialog)
        win.act_quit.triggered.connect(self.quit)
        win.act_overlay.toggled.connect(self.set_overlay_visible)
        win.act_click_through.toggled.connect(self.overlay.set_click_through)
        win.act_zoom_in.triggered.connect(lambda: self._zoom(+1))
        win.act_zoom_out.triggered.connect(lambda: self._zoom(-1))
        win.act_settings.triggered.connect(self.open_settings)
        win.act_models.triggered.connect(self.open_model_manager)
        win.act_about.triggered.connect(self._about)
        win.mode_changed.connect(self.set_view_mode)
        win.closing.connect(self._on_window_closing)
        win.refresh_inputs.clicked.connect(self._rescan_devices)
        win.input_combo.activated.connect(self._on_input_chosen)
        win.source_lang.activated.connect(lambda _i: self._on_language_changed())
        win.target_lang.activated.connect(lambda _i: self._on_language_changed())
        win.speak_check.toggled.connect(self._on_speech_toggled)
        win.output_combo.activated.connect(lambda _i: self._on_output_chosen())
        win.volume.sliderReleased.connect(self._on_volume)
        win.volume.valueChanged.connect(
            lambda _v: None if win.volume.isSliderDown() else self._on_volume()
        )
        win.subtitles.rename_requested.connect(self.rename_speaker)
        win.banner.action_button.clicked.connect(self.open_model_manager)
        self.overlay.geometry_changed.connect(self._on_overlay_geometry)
        self.overlay.font_size_changed.connect(self._on_overlay_font)
        self.overlay.click_through_changed.connect(self._on_click_through)
        self.overlay.visibility_changed.connect(self._on_overlay_visibility)
        self.tray.start_stop_requested.connect(self.toggle_running)
        self.tray.show_window_requested.connect(self.show_window)
        self.tray.overlay_toggled.connect(self.set_overlay_visible)
        self.tray.click_through_toggled.connect(self.overlay.set_click_through)
        self.tray.quit_requested.connect(self.quit)

    def _load_settings_into_views(self) -> None:
        ui, cfg, win = self.settings.ui, self.settings.engine, self.window
        _select_data(win.source_lang, cfg.asr.language)
        _select_data(win.target_lang, cfg.translation.target_lang)
        win.speak_check.blockSignals(True)
        win.speak_check.setChecked(cfg.speech.enabled and cfg.speech.play)
        win.speak_check.blockSignals(False)
        win.volume.blockSignals(True)
        win.volume.setValue(round(cfg.speech.volume * 100))
        win.volume.blockSignals(False)
        win.volume_label.setText(f"{win.volume.value()}%")
        self.set_view_mode(ui.view_mode)
        win.subtitles.set_font_px(ui.subtitle_font_px)
        if ui.window_geometry and len(ui.window_geometry) == 4:
            win.setGeometry(QRect(*ui.window_geometry))
        self.overlay.restore_geometry(ui.overlay_geometry)
        win.act_click_through.setChecked(ui.overlay_click_through)
        self.tray.set_click_through_checked(ui.overlay_click_through)

    # ------------------------------------------------------------------ showing
    def show(self) -> None:
        """Show the main window (normal start) or the tray icon and overlay (`--tray`)."""
        if self.tray_mode:
            shown = self.tray.show()
            self.window.allow_close = not shown
            self.set_overlay_visible(True)
            if not shown:  # no tray on this desktop: fall back to the window
                self.show_window()
        else:
            self.tray.show()
            self.show_window()
            if self.settings.ui.overlay_enabled:
                self.set_overlay_visible(True)
        if self.settings.ui.preload_models:
            QTimer.singleShot(200, self.preload)

    def preload(self) -> None:
        """Load the models in the background so that Start responds at once."""
        if self.state == IDLE:
            self.preloading = True
            self.window.state_label.setText("Preparing models…")
            self.worker.preload(self.settings.engine)

    @Slot(bool)
    def _on_preloaded(self, ok: bool) -> None:
        self.preloading = False
        if self.state == IDLE:
            self._show_state(IDLE)

    def show_window(self) -> None:
        if self.window.isMinimized():  # "Show window" from the tray brings it back too
            self.window.showNormal()
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        return self.state in (LOADING, RUNNING)

    def toggle_running(self) -> None:
        if self.running:
            self.stop()
        elif self.state == IDLE:
            self.start()

    def start(self, source: str | None = None) -> bool:
        """Start interpreting from `source` (default: the chosen input)."""
        if self.state != IDLE:
            return False
        if source is not None:
            self._set_source(source)
        spec = self.settings.ui.source
        is_file = not spec.startswith(("mic", "pulse:"))
        self.window.banner.hide()
        self.window.banner.action_button.hide()
        self._latency.reset()
        elapsed = time.monotonic() - self._session_started_at if len(self.session) else 0.0
        self.session.begin_run(None if is_file else elapsed)
        self._run_started_at = time.monotonic()
        ok = self.worker.start(
            self.settings.engine, spec, realtime=self.settings.ui.realtime_files or not is_file
        )
        if ok:
            self.state = LOADING
            self._show_state(LOADING)
        return ok

    def stop(self) -> None:
        self._restart_pending = False
        self.worker.stop()

    def restart_if_running(self) -> None:
        """Apply a changed setting to a running engine: stop cleanly, then start again."""
        if self.running:
            self._restart_pending = True
            self.worker.stop()

    @Slot(str)
    def _on_state(self, state: str) -> None:
        self.state = state
        self._show_state(state)
        if state == IDLE:
            self.session.save()
            self.window.backlog_label.setText("Backlog —")
            self.window.backlog_label.setStyleSheet(f"color: {theme.TEXT_DIM};")
            if self._restart_pending:
                self._restart_pending = False
                self.start()

    def _show_state(self, state: str) -> None:
        self.window.set_running(state)
        self.tray.set_running(state in (LOADING, RUNNING), busy=state == STOPPING)
        self.window.source_lang.setEnabled(True)

    # ------------------------------------------------------------------ engine events
    @Slot(object)
    def _on_discarded(self, event: SegmentDiscarded) -> None:
        """A partial line that never became final (a cough, our own echo) disappears."""
        self.session.apply(event)
        lines = self.session.lines()
        self.window.subtitles.set_lines(lines)
        self.overlay.set_lines(lines[-2:])

    @Slot(object)
    def _on_line_event(self, event: Partial | Final | Translation) -> None:
        line = self.session.apply(event)
        if line is None:
            return
        self.window.subtitles.upsert(line)
        self.overlay.set_lines(self.session.lines()[-2:])
        if self._latency.observe(event):
            self._show_latency()

    @Slot(object)
    def _on_speech(self, event: SpeechOutput) -> None:
        if self._latency.observe(event):
            self._show_latency()

    def _show_latency(self) -> None:
        parts = [f"{k} {v:.2f} s" for k, v in self._latency.latest.parts()]
        self.window.latency_label.setText("Latency  " + " · ".join(parts) if parts else "Latency —")

    @Slot(object)
    def _on_speaker_changed(self, event: SpeakerChanged) -> None:
        if event.old_label is not None:
            self.colors.rename(self.session.display_name(event.old_label), event.new_label)
        self.session.apply(event)
        self.window.subtitles.set_lines(self.session.lines())
        self.overlay.set_lines(self.session.lines()[-2:])

    @Slot(object)
    def _on_stats(self, stats: Stats) -> None:
        win = self.window
        error = self.session.save_error
        if error is not None and error is not self._reported_save_error:
            self._reported_save_error = error
            win.banner.show_message(
                "The transcript cannot be saved",
                f"Writing {self.session.path} failed: {error}. Interpreting "
                "goes on; export the transcript to keep it.",
            )
        if self.state == RUNNING:
            win.level.set_db(stats.input_level_db)
        backlog = f"Backlog  audio {stats.asr_backlog_s:.1f} s"
        if self.settings.engine.translation.target_lang:
            backlog += f" · text {stats.translation_backlog}"
        if self.settings.engine.speech.enabled:
            backlog += f" · speech {stats.speech_backlog}"
        if stats.dropped_blocks:
            backlog += f" · dropped {stats.dropped_blocks}"
        win.backlog_label.setText(backlog)
        late = stats.asr_backlog_s > 3.0 or stats.dropped_blocks > 0
        win.backlog_label.setStyleSheet(f"color: {'#d29922' if late else theme.TEXT_DIM};")
        if stats.stage_backends:
            text, tip = backends_text(stats.stage_backends)
            win.backends_label.setText(text)
            win.backends_label.setToolTip(tip)

    @Slot(object)
    def _on_error(self, error: StageFailure) -> None:
        self.last_error = error
        log.warning("engine error (%s, fatal=%s): %s", error.stage, error.fatal, error.message)
        title = ERROR_TITLES.get(error.stage) or (
            "Interpreting stopped"
            if error.fatal
            else f"Problem with {STAGE_NAMES.get(error.stage, error.stage)}"
        )
        banner = self.window.banner
        model_problem = error.stage == "load" or "model" in error.message.lower()
        banner.action_button.setText("Open model manager")
        banner.action_button.setVisible(model_problem)
        kept = len(self.session)
        message = error.message
        if error.fatal and kept:
            noun = "line" if kept == 1 else "lines"
            message += f"  The transcript so far ({kept} {noun}) is kept and saved."
        banner.show_message(title, message)
        self.session.save()
        if not self.window.isVisible():
            self.tray.notify(title, error.message)

    @Slot(object)
    def _on_finished(self, event: Finished) -> None:
        self.session.save()
        if event.reason == "end":
            self.window.notify("Reached the end of the input.", 8000)

    # ------------------------------------------------------------------ user actions
    def set_view_mode(self, mode: str) -> None:
        self._schedule_save()
        if mode not in settings_mod.VIEW_MODES:
            return
        self.settings.ui.view_mode = mode
        self.window.set_mode(mode)
        self.overlay.set_mode(mode)

    def set_overlay_visible(self, on: bool) -> None:
        if on:
            self.overlay.set_lines(self.session.lines()[-2:])
            self.overlay.show()
            self.overlay.raise_()
        else:
            self.overlay.hide()
        self._sync_overlay_checks(on)

    def _sync_overlay_checks(self, on: bool) -> None:
        self.settings.ui.overlay_enabled = on
        act = self.window.act_overlay
        if act.isChecked() != on:
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)
        self.tray.set_overlay_checked(on)

    def rename_speaker(self, old: str | None, new: str) -> None:
        new = new.strip()
        if not new:
            return
        shown = self.session.display_name(old)
        self.colors.rename(shown, new)
        self.session.rename_speaker(old, new)
        if shown is not None:
            self.worker.rename_speaker(shown, new)
        self.window.subtitles.set_lines(self.session.lines())
        self.overlay.set_lines(self.session.lines()[-2:])

    def new_session(self) -> None:
        if self.running:
            self.window.notify("Stop interpreting before starting a new session.", 5000)
            return
        self.session.close()
        self.session = Session.new_autosaved()
        self.session.use_background_writer()
        self._session_started_at = time.monotonic()
        self.window.subtitles.clear()
        self.overlay.set_lines([])
        self.window.session_label.setText(self._session_text())

    def open_session(self, path: Path) -> bool:
        """Show a saved session (to read, rename speakers, export, or continue it)."""
        if self.running:
            self.window.notify("Stop interpreting before opening another session.", 5000)
            return False
        try:
            session = Session.load(Path(path))
        except DragomanError as exc:
            self.window.banner.show_message("Cannot open the session", str(exc))
            return False
        self.session.close()
        self.session = session
        self.session.use_background_writer()
        self._session_started_at = time.monotonic()
        self.colors = self.colors.__class__()
        self.window.subtitles.colors = self.colors
        self.overlay.colors = self.colors
        self.window.subtitles.set_lines(session.lines())
        self.overlay.set_lines(session.lines()[-2:])
        self.window.session_label.setText(self._session_text())
        self.window.notify(f"Opened {Path(path).name} ({len(session)} lines).", 6000)
        return True

    def open_session_dialog(self) -> None:
        folder = paths.sessions_dir()
        name, _ = QFileDialog.getOpenFileName(
            self.window, "Open a saved session", str(folder), "Dragoman sessions (*.json)"
        )
        if name:
            self.open_session(Path(name))

    def export(self, path: Path, content: str | None = None) -> Path:
        """Export the transcript (.srt/.vtt/.txt/.json by suffix)."""
        content = content or self.settings.ui.view_mode
        return self.session.export(Path(path), content=content)

    def export_dialog(self) -> None:
        if not len(self.session):
            self.window.notify("Nothing to export yet.", 4000)
            return
        folder = Path(self.settings.ui.export_dir or Path.home())
        stem = self.session.path.stem if self.session.path else "transcript"
        name, chosen = QFileDialog.getSaveFileName(
            self.window, "Export transcript", str(folder / f"{stem}.srt"), EXPORT_FILTERS
        )
        if not name:
            return
        path = Path(name)
        if not path.suffix:
            path = path.with_suffix("." + chosen.split("*.")[-1].rstrip(")"))
        try:
            self.export(path)
        except (DragomanError, OSError) as exc:
            self.window.banner.show_message("Export failed", str(exc))
            return
        self.settings.ui.export_dir = str(path.parent)
        self.window.notify(f"Exported {path}", 8000)

    def choose_file_and_start(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self.window,
            "Interpret an audio file",
            str(Path.home()),
            f"Audio and video ({' '.join('*' + x for x in AUDIO_EXTENSIONS)});;All files (*)",
        )
        if name:
            if self.running:
                self.stop()
                self._set_source(name)
                self._restart_pending = True
            else:
                self.start(name)

    def refresh_devices(self) -> None:
        win = self.window
        combo = win.input_combo
        combo.blockSignals(True)
        combo.clear()
        for choice in devices.input_choices(self.settings.ui.recent_files):
            combo.addItem(choice.label, choice.value)
        combo.addItem("Choose an audio file…", devices.FILE_CHOICE)
        spec = self.settings.ui.source
        if combo.findData(spec) < 0:
            label = devices.describe_input(spec)
            if not spec.startswith(("mic", "pulse:")) and Path(spec).is_file():
                label = f"File: {label}"
            else:
                label += " (not found)"
            combo.insertItem(combo.count() - 1, label, spec)
        _select_data(combo, self.settings.ui.source)
        combo.blockSignals(False)
        out = win.output_combo
        out.blockSignals(True)
        out.clear()
        for choice in devices.output_choices():
            out.addItem(choice.label, choice.value)
        device = self.settings.engine.speech.output_device
        if out.findData(device) < 0:
            out.addItem(f"{device} (not found)", device)
        _select_data(out, device)
        out.blockSignals(False)
        win.update_device_tooltips()

    def _rescan_devices(self) -> None:
        if self.state == IDLE:
            rescan_devices()  # plugged-in devices appear without restarting the app
        self.refresh_devices()
        self.window.notify(f"{self.window.input_combo.count() - 1} audio inputs found.", 4000)

    def _set_source(self, spec: str) -> None:
        self._schedule_save()
        self.settings.ui.source = spec
        if not spec.startswith(("mic", "pulse:")):
            recent = [spec] + [p for p in self.settings.ui.recent_files if p != spec]
            self.settings.ui.recent_files = recent[:5]
        self.refresh_devices()
        self._update_placeholder()

    def _on_input_chosen(self, index: int) -> None:
        value = self.window.input_combo.itemData(index)
        if value == devices.FILE_CHOICE:
            _select_data(self.window.input_combo, self.settings.ui.source)
            self.choose_file_and_start()
            return
        if value and value != self.settings.ui.source:
            self._set_source(value)
            self.restart_if_running()

    def _on_language_changed(self) -> None:
        self._schedule_save()
        cfg = self.settings.engine
        self.settings.engine = dataclasses.replace(
            cfg,
            asr=dataclasses.replace(cfg.asr, language=self.window.source_lang.currentData()),
            translation=dataclasses.replace(
                cfg.translation, target_lang=self.window.target_lang.currentData()
            ),
        )
        self.restart_if_running()

    def _on_speech_toggled(self, on: bool) -> None:
        self._schedule_save()
        cfg = self.settings.engine
        self.settings.engine = dataclasses.replace(
            cfg, speech=dataclasses.replace(cfg.speech, enabled=on, play=on)
        )
        self.restart_if_running()

    def _on_output_chosen(self) -> None:
        self._schedule_save()
        cfg = self.settings.engine
        device = self.window.output_combo.currentData()
        if device != cfg.speech.output_device:
            self.settings.engine = dataclasses.replace(
                cfg, speech=dataclasses.replace(cfg.speech, output_device=device)
            )
            if cfg.speech.enabled:
                self.restart_if_running()

    def _on_volume(self) -> None:
        self._schedule_save()
        volume = self.window.volume.value() / 100.0
        cfg = self.settings.engine
        if abs(volume - cfg.speech.volume) < 1e-3:
            return
        self.settings.engine = dataclasses.replace(
            cfg, speech=dataclasses.replace(cfg.speech, volume=volume)
        )
        if not self.worker.set_volume(volume) and cfg.speech.enabled:
            self.window.notify("The new volume applies from the next start.", 4000)

    def _zoom(self, step: int) -> None:
        self._schedule_save()
        ui = self.settings.ui
        ui.subtitle_font_px = max(11, min(ui.subtitle_font_px + step * 2, 40))
        self.window.subtitles.set_font_px(ui.subtitle_font_px)

    def _on_overlay_geometry(self, rect: QRect) -> None:
        self._schedule_save()
        self.settings.ui.overlay_geometry = [rect.x(), rect.y(), rect.width(), rect.height()]

    def _on_overlay_font(self, size: int) -> None:
        self._schedule_save()
        self.settings.ui.overlay_font_size = size

    def _on_click_through(self, on: bool) -> None:
        self._schedule_save()
        self.settings.ui.overlay_click_through = on
        act = self.window.act_click_through
        if act.isChecked() != on:
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)
        self.tray.set_click_through_checked(on)

    def _on_overlay_visibility(self, visible: bool) -> None:
        if not self._shut_down:
            self._sync_overlay_checks(visible)

    def open_settings(self) -> None:
        from app.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self.window)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def apply_settings(self, new: Settings) -> None:
        """Adopt edited settings: update the views, save, and restart a running engine if the
        engine configuration changed."""
        engine_changed = (
            new.engine != self.settings.engine or new.ui.source != self.settings.ui.source
        )
        self.settings = new
        self._load_settings_into_views()
        self.overlay.set_font_size(new.ui.overlay_font_size)
        self.overlay.set_opacity(new.ui.overlay_opacity)
        self.overlay.set_click_through(new.ui.overlay_click_through)
        self.refresh_devices()
        self._update_placeholder()
        self.save_settings()
        if engine_changed:
            if self.running:
                self.restart_if_running()
            elif new.ui.preload_models:
                self.preload()  # load changed models now, not when Start is pressed

    def open_model_manager(self) -> None:
        from app.model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(self.window, allow_network=self.settings.ui.allow_network)
        dialog.exec()
        if dialog.changed:
            self.worker.reset()

    def _open_sessions_folder(self) -> None:
        folder = paths.sessions_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _about(self) -> None:
        QMessageBox.about(
            self.window,
            "About Dragoman",
            "<h3>Dragoman</h3><p>Offline live interpreter: live subtitles per speaker, "
            "translation and speech, running on this computer.</p>"
            f"<p>Sessions are saved in<br><code>{paths.sessions_dir()}</code></p>",
        )

    # ------------------------------------------------------------------ helpers
    def _update_placeholder(self) -> None:
        what = devices.describe_input(self.settings.ui.source)
        self.window.subtitles.set_placeholder(
            f"<p style='font-size:18px; color:{theme.TEXT}'>Ready to interpret</p>"
            f"<p>Press <b>Start</b> (Ctrl+R) to listen to {what}.</p>"
            "<p>Each speaker gets a colour; click a name to rename it.<br>"
            "Translations appear beneath the original text.</p>"
        )

    def _session_text(self) -> str:
        if self.session.path is None:
            return ""
        self.window.session_label.setToolTip(
            f"The transcript is saved as it grows in\n{self.session.path}"
        )
        return "Autosave on"

    def _schedule_save(self) -> None:
        """Settings reach the disk shortly after each change (not only at exit)."""
        if not self._shut_down and hasattr(self, "_save_timer"):
            self._save_timer.start()

    def save_settings(self) -> None:
        g = self.window.normalGeometry() if self.window.isVisible() else self.window.geometry()
        self.settings.ui.window_geometry = [g.x(), g.y(), g.width(), g.height()]
        try:
            settings_mod.save(self.settings)
        except OSError as exc:
            log.warning("saving settings failed: %s", exc)

    def _on_window_closing(self) -> None:
        if self.window.allow_close:
            self.shutdown()

    def quit(self) -> None:
        self.shutdown()
        QApplication.quit()

    def shutdown(self, timeout_ms: int = 20000) -> None:
        """Stop capture, flush the last segment, save the session and the settings."""
        if self._shut_down:
            return
        self._shut_down = True
        self._restart_pending = False
        self.worker_thread.shutdown(timeout_ms)
        # deliver the queued last events (final of the flushed segment) before saving
        QCoreApplication.sendPostedEvents(self)
        QCoreApplication.processEvents()
        self.session.close()  # saved and on disk before the app goes
        self.caption_page.close()
        self._save_timer.stop()
        self.save_settings()
        self.window.allow_close = True
        self.overlay.hide()
        self.overlay.close()
        self.tray.hide()


def backends_text(backends: dict[str, str]) -> tuple[str, str]:
    """Short status text and a per-stage tooltip of where each stage runs."""
    tip = "\n".join(f"{STAGE_NAMES.get(k, k)}: {v}" for k, v in backends.items())
    remote = [k for k, v in backends.items() if v != "local"]
    if not remote:
        return "All stages on this computer", tip
    parts = [f"{STAGE_NAMES.get(k, k)} {backends[k]}" for k in remote]
    return " · ".join(parts) + " · rest local", tip


def _select_data(combo: Any, value: Any) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
