"""The application: builds the views, the engine worker and the three concern controllers, and
runs the engine (start, stop, restart on a changed setting, errors, health figures).

- `SettingsController` (app/settings_controller.py): the settings and their saving;
- `DeviceController` (app/device_controller.py): inputs, outputs, files to interpret;
- `SessionController` (app/session_controller.py): the transcript, speakers, sessions, exports.

Views (main window, overlay, tray) emit intent signals and get typed setters; no controller
reaches into a view's widgets. Everything here runs on the UI thread; engine events reach it
through queued connections from the worker thread. No controller loads or runs a model itself.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from app import caption_page, theme
from app import settings as settings_mod
from app.caption_bar import CaptionsController
from app.device_controller import DeviceController, is_device
from app.icons import app_icon
from app.main_window import STAGE_NAMES, MainWindow, app_version
from app.overlay import CaptionOverlay
from app.session_controller import SessionController
from app.settings import Settings
from app.settings_controller import SettingsController
from app.single_instance import Request
from app.translation_models import MissingModel, missing_translation_model
from app.tray import TrayController
from app.worker import IDLE, LOADING, RUNNING, STOPPING, EngineWorker, WorkerThread
from engine import paths
from engine.audio.input_watch import describe as describe_input_change
from engine.events import (
    Final,
    Finished,
    InputLost,
    InputRestored,
    SpeechOutput,
    Stage,
    StageFailure,
    Stats,
    Translation,
)
from engine.latency import LatencyTracker
from engine.session import Session

log = logging.getLogger(__name__)

ERROR_TITLES = {
    Stage.LOAD: "The models could not be loaded",
    Stage.AUDIO: "Audio input problem",
    Stage.PLAYBACK: "Speech output problem",
}


class AppController(QObject):
    """Owns the worker thread, the views and the concern controllers; runs the engine."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        tray_mode: bool = False,
        worker: EngineWorker | None = None,
        session: Session | None = None,
    ) -> None:
        super().__init__()
        settings = settings or settings_mod.load()
        self.tray_mode = tray_mode
        self.icon = app_icon()
        self.state = IDLE
        self.last_error: StageFailure | None = None
        self.preloading = False
        self._restart_pending = False
        self._stopped_by_user = False
        self._paused = False  # stopped by Pause: Resume carries on in the same session
        self._shut_down = False
        self._latency = LatencyTracker()
        self._error_action: Callable[[], None] | None = None

        self.worker = worker or EngineWorker()
        self.worker_thread = WorkerThread(self.worker)
        colors = theme.SpeakerColors()
        self.window = MainWindow(colors, self.icon)
        self.overlay = CaptionOverlay(
            colors,
            font_size=settings.ui.overlay_font_size,
            opacity=settings.ui.overlay_opacity,
            click_through=settings.ui.overlay_click_through,
        )
        self.tray = TrayController(self.icon, self)
        self.prefs = SettingsController(settings, self.window, self.overlay, self.tray)
        # docked caption bar, global show/hide shortcut, overlay stepping aside (caption_bar.py)
        self.captions = CaptionsController(
            self.overlay, self.window, self.prefs, self.set_overlay_visible
        )
        self.devices = DeviceController(
            self.prefs, self.window, engine_idle=lambda: self.state == IDLE
        )
        self.sessions = SessionController(
            self.prefs,
            self.window,
            self.overlay,
            colors,
            running=lambda: self.running,
            session=session,
        )
        self._connect()
        self.caption_page = caption_page.install(
            self.worker, self.window, lambda: self.settings.ui, self.prefs.schedule_save
        )
        self.prefs.load_into_views()
        self.devices.refresh()

    # ------------------------------------------------------------------ delegates
    @property
    def settings(self) -> Settings:
        return self.prefs.settings

    @property
    def session(self) -> Session:
        return self.sessions.session

    def export(self, path: Path, content: str | None = None) -> Path:
        return self.sessions.export(path, content)

    def open_session(self, path: Path) -> bool:
        return self.sessions.open_session(path)

    def rename_speaker(self, old: str | None, new: str) -> None:
        self.sessions.rename_speaker(old, new)

    def save_settings(self) -> None:
        """Write the settings now (they are also written shortly after each change)."""
        self.prefs.save()

    def _set_source(self, spec: str) -> None:
        self.devices.set_source(spec)

    def apply_settings(self, new: Settings) -> None:
        """Adopt edited settings (from the dialog): restart a running engine if the engine
        configuration changed, or load changed models now when idle."""
        if self.prefs.apply(new):
            if self.running:
                self.restart_if_running()
            elif new.ui.preload_models:
                self.preload()
        self.devices.refresh()

    # ------------------------------------------------------------------ wiring
    def _connect(self) -> None:
        w, queued = self.worker, Qt.ConnectionType.QueuedConnection
        w.state_changed.connect(self._on_state, queued)
        for signal in (w.partial, w.final, w.translation):
            signal.connect(self.sessions.on_line_event, queued)
            signal.connect(self._on_timed_event, queued)
        w.revised.connect(self.sessions.on_line_event, queued)  # not a latency of its own
        w.speech.connect(self._on_timed_event, queued)
        w.discarded.connect(self.sessions.on_discarded, queued)
        w.speaker_changed.connect(self.sessions.on_speaker_changed, queued)
        w.stats.connect(self._on_stats, queued)
        w.error.connect(self._on_error, queued)
        w.finished.connect(self._on_finished, queued)
        w.preloaded.connect(self._on_preloaded, queued)
        w.input_lost.connect(self._on_input_lost, queued)
        w.input_restored.connect(self._on_input_restored, queued)
        # direct: the worker's thread is busy running the engine; this call only starts a thread
        self.devices.input_policy_chosen.connect(
            self.worker.set_input_policy, Qt.ConnectionType.DirectConnection
        )

        win = self.window
        win.start_stop_requested.connect(self.toggle_running)
        win.pause_requested.connect(self.toggle_pause)
        win.quit_requested.connect(self.quit)
        win.overlay_toggled.connect(self.set_overlay_visible)
        win.settings_requested.connect(self.open_settings)
        win.models_requested.connect(self._open_models)
        win.error_action_requested.connect(self._on_error_action)
        win.about_requested.connect(self._about)
        win.shortcuts_requested.connect(self._shortcuts)
        win.closing.connect(self._on_window_closing)
        self.overlay.visibility_changed.connect(self._on_overlay_visibility)
        self.tray.start_stop_requested.connect(self.toggle_running)
        self.tray.show_window_requested.connect(self.show_window)
        self.tray.overlay_toggled.connect(self.set_overlay_visible)
        self.tray.quit_requested.connect(self.quit)
        self.prefs.engine_changed.connect(self.restart_if_running)
        self.prefs.volume_changed.connect(self._on_volume)
        self.prefs.translation_model_missing.connect(self._offer_translation_model)
        self.devices.source_changed.connect(self.restart_if_running)
        self.devices.file_chosen.connect(self._on_file_chosen)
        self.sessions.speaker_renamed.connect(self.worker.rename_speaker)

    # ------------------------------------------------------------------ showing
    def show(self) -> None:
        """Show the main window (normal start) or the tray icon and overlay (`--tray`)."""
        self.captions.start()
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
            self.sessions.offer_last_session()
        if self.settings.problems:
            self._error_action = self.open_settings
            self.window.show_error(
                "Some settings were not valid",
                "In settings.toml: "
                + "; ".join(self.settings.problems)
                + ". Those use their defaults; every other setting is kept.",
                action="Open settings",
            )
        if self.settings.ui.preload_models:
            QTimer.singleShot(200, self.preload)

    def preload(self) -> None:
        """Load the models in the background so that Start responds at once."""
        if self.state == IDLE:
            self.preloading = True
            self.window.set_status("Preparing models…")
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

    def handle_request(self, request: Request) -> None:
        """Another launch of Dragoman asked for something: show the window, and use its input
        and start when asked (a running engine restarts on a new input)."""
        self.show_window()
        if request.source and request.source != self.settings.ui.source:
            self.devices.set_source(request.source)
            if self.running:
                self.restart_if_running()
                return
        if request.start and self.state == IDLE:
            self.start()

    def set_overlay_visible(self, on: bool) -> None:
        if on:
            self.overlay.set_lines(self.session.lines()[-2:])
            self.captions.before_show()
            self.overlay.show()
            self.overlay.raise_()
        else:
            self.overlay.aside = False  # hidden for good, not only stepping aside
            self.overlay.hide()
        self.prefs.set_overlay_enabled(on)

    def _on_overlay_visibility(self, visible: bool) -> None:
        if not self._shut_down:
            self.prefs.set_overlay_enabled(visible)

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        return self.state in (LOADING, RUNNING)

    def toggle_running(self) -> None:
        if self.running:
            self.stop()
        elif self.state == IDLE:
            self.start()

    def toggle_pause(self) -> None:
        """Pause: stop listening to a live input, keeping the session and what the overlay
        shows; Resume: listen again and carry on in the same session (no question asked)."""
        if self._paused:
            if self.state == IDLE:
                self.start()
            return
        if self.state == RUNNING and is_device(self.settings.ui.source):
            self._paused = True
            self._restart_pending = False
            self.worker.stop()

    def start(self, source: str | None = None) -> bool:
        """Start interpreting from `source` (default: the chosen input)."""
        if self.state != IDLE:
            return False
        self._paused = False
        if source is not None:
            self.devices.set_source(source)
        if not self.sessions.ready_to_continue():
            return False
        spec = self.settings.ui.source
        self.window.clear_error()
        self._latency.reset()
        self.sessions.begin_run(is_file=not is_device(spec))
        realtime = self.settings.ui.realtime_files or is_device(spec)
        self._stopped_by_user = False
        ok = self.worker.start(
            self.settings.engine,
            spec,
            realtime=realtime,
            speakers=self.sessions.speaker_session(),
        )
        if ok:
            self.state = LOADING
            self._show_state(LOADING)
        return ok

    def stop(self) -> None:
        self._paused = False
        self._restart_pending = False
        self._stopped_by_user = True
        self.worker.stop()

    def restart_if_running(self) -> None:
        """Apply a changed setting to a running engine: stop cleanly, then start again."""
        if self.running:
            self._restart_pending = True
            self.worker.stop()

    def _on_file_chosen(self, path: str) -> None:
        if self.running:
            self.restart_if_running()
        else:
            self.start()

    @Slot(str)
    def _on_state(self, state: str) -> None:
        self.state = state
        self._show_state(state)
        if state == IDLE:
            self.sessions.save()
            self.window.clear_stats()
            self.devices.clear_input_lost()  # nothing listens: no device to wait for
            if self._restart_pending:
                self._restart_pending = False
                self.start()

    def _show_state(self, state: str) -> None:
        paused = self._paused and state == IDLE
        self.window.set_running("paused" if paused else state)
        live = is_device(self.settings.ui.source)
        self.window.set_pause(available=state == RUNNING and live, paused=paused)
        if state == LOADING or (state == IDLE and self._stopped_by_user):
            self.overlay.set_lines([])  # a new run, or after Stop: no old captions on screen
        self.overlay.set_listening(state != IDLE)
        self.window.set_placeholder(self.devices.placeholder(listening=state != IDLE))
        self.tray.set_running(state in (LOADING, RUNNING), busy=state == STOPPING)
        self._show_input_status()

    def _show_input_status(self) -> None:
        """While the chosen input is away the status bar says so ("● Waiting for …", or what
        is heard meanwhile) instead of "● Listening"; "● Listening" again once it is back."""
        if self.state != RUNNING:
            return
        text = self.devices.status_text()
        if text is None:
            self.window.set_running(RUNNING)
        else:
            self.window.set_status(text, theme.FOCUS)  # amber: not the green of listening

    # ------------------------------------------------------------------ engine events
    @Slot(object)
    def _on_timed_event(self, event: Final | Translation | SpeechOutput) -> None:
        if self._latency.observe(event):
            self.window.show_latency(self._latency.latest)

    @Slot(object)
    def _on_stats(self, stats: Stats) -> None:
        failed = self.sessions.save_error_to_report()
        if failed is not None:
            path, error = failed
            self.window.show_error(
                "The transcript cannot be saved",
                f"Writing {path} failed: {error}. Interpreting goes on; export the transcript "
                "to keep it.",
            )
        cfg = self.settings.engine
        self.window.show_stats(
            stats, translating=bool(cfg.translation.target_lang), speaking=cfg.speech.enabled
        )

    @Slot(object)
    def _on_error(self, error: StageFailure) -> None:
        self.last_error = error
        log.warning("engine error (%s, fatal=%s): %s", error.stage, error.fatal, error.message)
        title = ERROR_TITLES.get(error.stage) or (
            "Interpreting stopped"
            if error.fatal
            else f"Problem with {STAGE_NAMES.get(error.stage, error.stage)}"
        )
        kept = len(self.session)
        message = error.message
        if error.fatal and kept:
            noun = "line" if kept == 1 else "lines"
            message += f"  The transcript so far ({kept} {noun}) is kept and saved."
        model_problem = error.stage == Stage.LOAD or "model" in error.message.lower()
        self._error_action = self._open_models if model_problem else None
        self.window.show_error(
            title, message, action="Open model manager" if model_problem else None
        )
        self.sessions.save()
        if not self.window.isVisible():
            self.tray.notify(title, error.message)

    @Slot(object)
    def _on_input_lost(self, event: InputLost) -> None:
        self.devices.on_input_lost(event)
        self._show_input_status()
        if not self.window.isVisible():
            self.tray.notify("Input disconnected", describe_input_change(event))

    @Slot(object)
    def _on_input_restored(self, event: InputRestored) -> None:
        self.devices.on_input_restored(event)
        self._show_input_status()

    @Slot(object)
    def _on_finished(self, event: Finished) -> None:
        self.sessions.save()
        if event.reason == "end":
            self.window.notify("Reached the end of the input.", 8000)

    def _on_volume(self, volume: float) -> None:
        if not self.worker.set_volume(volume) and self.settings.engine.speech.enabled:
            self.window.notify("The new volume applies from the next start.", 4000)

    # ------------------------------------------------------------------ dialogs
    def open_settings(self) -> None:
        from app.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self.window)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def open_model_manager(self, highlight: str | None = None, reason: str = "") -> bool:
        """The model manager (highlighting a model a choice needs); True when models changed."""
        from app.model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(
            self.window,
            allow_network=self.settings.ui.allow_network,
            highlight=highlight,
            reason=reason,
        )
        dialog.exec()
        if dialog.network.isChecked() != self.settings.ui.allow_network:
            self.settings.ui.allow_network = dialog.network.isChecked()
            self.prefs.schedule_save()
        if dialog.changed:
            self.worker.reset()
        return dialog.changed

    def _open_models(self) -> None:
        self.open_model_manager()

    def _on_error_action(self) -> None:
        action, self._error_action = self._error_action, None
        self.window.clear_error()
        if action is not None:
            action()

    def _offer_translation_model(self, missing: MissingModel) -> None:
        """A target language whose model is not installed: say which model it needs and offer
        to get it; once it is installed, translate into that language."""
        if missing.model_id is None:
            self._error_action = None
            self.window.show_error("No translation for this language", missing.message())
            return
        model_id, target = missing.model_id, missing.target

        def get_model() -> None:
            reason = f"Needed to translate into {missing.language}: {model_id}"
            self.open_model_manager(highlight=model_id, reason=reason)
            cfg = self.settings.engine
            wanted = dataclasses.replace(
                cfg, translation=dataclasses.replace(cfg.translation, target_lang=target)
            )
            if missing_translation_model(wanted) is None:
                self.prefs.set_languages(cfg.asr.language, target)
            else:
                self._offer_translation_model(missing)

        self._error_action = get_model
        self.window.show_error(
            "Translation model needed", missing.message(), action="Get the model…"
        )

    def _about(self) -> None:
        QMessageBox.about(
            self.window,
            "About Dragoman",
            f"<h3>Dragoman {app_version()}</h3><p>Offline live interpreter: live subtitles per "
            "speaker, translation and speech, running on this computer.</p>"
            f"<p>Sessions are saved in<br><code>{paths.sessions_dir()}</code></p>",
        )

    def _shortcuts(self) -> None:
        QMessageBox.information(
            self.window, "Keyboard shortcuts and guide", self.window.help_html()
        )

    # ------------------------------------------------------------------ quitting
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
        QCoreApplication.sendPostedEvents(self.sessions)
        QCoreApplication.processEvents()
        self.sessions.close()
        self.caption_page.close()
        self.prefs.close()
        self.window.allow_close = True
        self.captions.close()
        self.overlay.hide()
        self.overlay.close()
        self.tray.hide()
