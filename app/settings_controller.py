"""The settings as the user edits them: from the toolbar, the overlay, the settings dialog.

Owns the `Settings` object, writes it shortly after each change, and tells the application
when the engine configuration changed (a running engine restarts) or the volume did (applied
live). UI thread only.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QObject, QRect, QTimer, Signal

from app import settings as settings_mod
from app.main_window import MainWindow
from app.overlay import CaptionOverlay
from app.settings import Settings
from app.translation_models import missing_translation_model
from app.tray import TrayController

log = logging.getLogger(__name__)


class SettingsController(QObject):
    engine_changed = Signal()  # the engine config changed: restart a running engine
    volume_changed = Signal(float)  # apply to the playing speech
    settings_replaced = Signal()  # the settings dialog replaced everything
    translation_model_missing = Signal(object)  # MissingModel: the target was not applied

    def __init__(
        self,
        settings: Settings,
        window: MainWindow,
        overlay: CaptionOverlay,
        tray: TrayController,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._window, self._overlay, self._tray = window, overlay, tray
        self._closed = False
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(1500)
        self._save_timer.timeout.connect(self.save)
        window.mode_changed.connect(self.set_view_mode)
        window.zoom_requested.connect(self.zoom)
        window.languages_changed.connect(self.set_languages)
        window.speech_toggled.connect(self.set_speech)
        window.output_chosen.connect(self.set_output)
        window.volume_changed.connect(self.set_volume)
        window.click_through_toggled.connect(overlay.set_click_through)
        tray.click_through_toggled.connect(overlay.set_click_through)
        overlay.geometry_changed.connect(self._on_overlay_geometry)
        overlay.font_size_changed.connect(self._on_overlay_font)
        overlay.click_through_changed.connect(self._on_click_through)

    def load_into_views(self) -> None:
        ui, cfg, win = self.settings.ui, self.settings.engine, self._window
        win.set_languages(cfg.asr.language, cfg.translation.target_lang)
        win.set_speech(cfg.speech.enabled and cfg.speech.play, cfg.speech.volume)
        self._show_view_mode(ui.view_mode)
        win.set_font_px(ui.subtitle_font_px)
        win.set_saved_geometry(ui.window_geometry)
        self._overlay.restore_geometry(ui.overlay_geometry)
        win.set_click_through_checked(ui.overlay_click_through)
        self._tray.set_click_through_checked(ui.overlay_click_through)

    # ------------------------------------------------------------------ edits
    def set_view_mode(self, mode: str) -> None:
        if mode not in settings_mod.VIEW_MODES:
            return
        self.schedule_save()
        self.settings.ui.view_mode = mode
        self._show_view_mode(mode)

    def _show_view_mode(self, mode: str) -> None:
        self._window.set_mode(mode)
        self._overlay.set_mode(mode)

    def zoom(self, step: int) -> None:
        self.schedule_save()
        ui = self.settings.ui
        ui.subtitle_font_px = max(11, min(ui.subtitle_font_px + step * 2, 40))
        self._window.set_font_px(ui.subtitle_font_px)

    def set_languages(self, spoken: str | None, target: str | None) -> None:
        self.schedule_save()
        cfg = self.settings.engine
        new = settings_mod.consistent_translation(
            dataclasses.replace(
                cfg,
                asr=dataclasses.replace(cfg.asr, language=spoken),
                translation=dataclasses.replace(cfg.translation, target_lang=target),
            )
        )
        missing = missing_translation_model(new)
        if missing is not None:
            # captioning goes on as it is: keep the current target, offer the model instead
            new = settings_mod.consistent_translation(
                dataclasses.replace(new, translation=cfg.translation)
            )
            self._window.set_languages(spoken, cfg.translation.target_lang)
            self.translation_model_missing.emit(missing)
        if new != cfg:
            self.settings.engine = new
            self.engine_changed.emit()

    def set_speech(self, on: bool) -> None:
        self.schedule_save()
        cfg = self.settings.engine
        self.settings.engine = dataclasses.replace(
            cfg, speech=dataclasses.replace(cfg.speech, enabled=on, play=on)
        )
        self.engine_changed.emit()

    def set_output(self, device: str | None) -> None:
        self.schedule_save()
        cfg = self.settings.engine
        if device == cfg.speech.output_device:
            return
        self.settings.engine = dataclasses.replace(
            cfg, speech=dataclasses.replace(cfg.speech, output_device=device)
        )
        if cfg.speech.enabled:
            self.engine_changed.emit()

    def set_volume(self, volume: float) -> None:
        self.schedule_save()
        cfg = self.settings.engine
        if abs(volume - cfg.speech.volume) < 1e-3:
            return
        self.settings.engine = dataclasses.replace(
            cfg, speech=dataclasses.replace(cfg.speech, volume=volume)
        )
        self.volume_changed.emit(volume)

    def set_overlay_enabled(self, on: bool) -> None:
        self.settings.ui.overlay_enabled = on
        self._window.set_overlay_checked(on)
        self._tray.set_overlay_checked(on)

    def _on_overlay_geometry(self, rect: QRect) -> None:
        self.schedule_save()
        self.settings.ui.overlay_geometry = [rect.x(), rect.y(), rect.width(), rect.height()]

    def _on_overlay_font(self, size: int) -> None:
        self.schedule_save()
        self.settings.ui.overlay_font_size = size

    def _on_click_through(self, on: bool) -> None:
        self.schedule_save()
        self.settings.ui.overlay_click_through = on
        self._window.set_click_through_checked(on)
        self._tray.set_click_through_checked(on)

    # ------------------------------------------------------------------ the dialog
    def apply(self, new: Settings) -> bool:
        """Adopt edited settings and save them; True when the engine configuration (or the
        input) changed."""
        engine_changed = (
            new.engine != self.settings.engine or new.ui.source != self.settings.ui.source
        )
        self.settings = new
        self.load_into_views()
        self._overlay.set_font_size(new.ui.overlay_font_size)
        self._overlay.set_opacity(new.ui.overlay_opacity)
        self._overlay.set_click_through(new.ui.overlay_click_through)
        self.save()
        self.settings_replaced.emit()
        return engine_changed

    # ------------------------------------------------------------------ saving
    def schedule_save(self) -> None:
        """Settings reach the disk shortly after each change (not only at exit)."""
        if not self._closed:
            self._save_timer.start()

    def save(self) -> None:
        self.settings.ui.window_geometry = self._window.saved_geometry()
        try:
            settings_mod.save(self.settings)
        except OSError as exc:
            log.warning("saving settings failed: %s", exc)

    def close(self) -> None:
        """Save now and stop saving (the app is quitting)."""
        self._closed = True
        self._save_timer.stop()
        self.save()
