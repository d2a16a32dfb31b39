"""Persistent settings: the engine's `EngineConfig` plus the GUI's own preferences, as TOML.

The file lives at `engine.paths.config_dir() / "settings.toml"`. TOML has no null, so keys whose
value is None are omitted and come back as the dataclass default (every optional field defaults
to None). A damaged file is set aside as `settings.toml.bad` and defaults are used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w

from engine import paths
from engine.config import EngineConfig, parse_config
from engine.subtitles import atomic_write_text

log = logging.getLogger(__name__)

VIEW_MODES = ("original", "translation", "both")


@dataclass
class UiSettings:
    """GUI preferences (mutable: the controller edits them as the user works)."""

    source: str = "mic"  # input spec: "mic", "mic:NAME", "pulse:SOURCE" or a file path
    recent_files: list[str] = field(default_factory=list)
    view_mode: str = "both"
    subtitle_font_px: int = 17
    window_geometry: list[int] | None = None  # x, y, width, height
    overlay_enabled: bool = False
    overlay_geometry: list[int] | None = None
    overlay_font_size: int = 22
    overlay_opacity: float = 0.8
    overlay_click_through: bool = False
    overlay_dock: str = ""  # "top" or "bottom": a caption bar docked to that edge; "" floats
    caption_shortcut: str = "Ctrl+Alt+C"  # global show/hide of the captions; "" = none
    export_dir: str | None = None
    export_content: str = "both"
    realtime_files: bool = True  # play files at real-time pace (like a live source)
    allow_network: bool = False  # model downloads only when the user allows it
    preload_models: bool = True  # load the models in the background at start-up
    caption_page: bool = False  # live captions on http://127.0.0.1:PORT/ (app.caption_page)
    caption_page_port: int = 8931  # 0 = any free port
    caption_file: str | None = None  # the current caption as plain text, with the page

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UiSettings:
        known = {f.name: f for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        ui = cls(**values)
        if ui.view_mode not in VIEW_MODES:
            ui.view_mode = "both"
        ui.overlay_font_size = int(min(max(ui.overlay_font_size, 10), 72))
        ui.overlay_opacity = float(min(max(ui.overlay_opacity, 0.3), 1.0))
        if ui.overlay_dock not in ("", "top", "bottom"):
            ui.overlay_dock = ""
        ui.caption_page_port = int(min(max(ui.caption_page_port, 0), 65535))
        return ui


@dataclass
class Settings:
    engine: EngineConfig = field(default_factory=EngineConfig)
    ui: UiSettings = field(default_factory=UiSettings)
    # what was wrong in the file these settings were loaded from (not saved back)
    problems: list[str] = field(default_factory=list, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"ui": dataclasses.asdict(self.ui), "engine": self.engine.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Every valid setting is kept; each bad engine setting keeps its default and is named
        in `problems` (a hand-edited settings.toml never costs the others)."""
        parsed = parse_config(data.get("engine") or {})
        return cls(
            engine=consistent_translation(parsed.config),
            ui=UiSettings.from_dict(data.get("ui") or {}),
            problems=[str(problem) for problem in parsed.problems],
        )


def consistent_translation(cfg: EngineConfig) -> EngineConfig:
    """One translation choice sets up everything it needs, and undoes it when left.

    Whisper's own translation ("Whisper (into English only)") needs English as the target and
    the recogniser's task 'translate'; every other choice (another translator, no translation)
    needs the task 'transcribe', or the "original" line would already be English. A target
    other than English with the Whisper choice falls back to the offline translator."""
    tr = cfg.translation
    if tr.backend == "whisper" and tr.target_lang not in (None, "en"):
        tr = dataclasses.replace(tr, backend="m2m100")
    task: Literal["transcribe", "translate"] = (
        "translate" if tr.backend == "whisper" and tr.target_lang == "en" else "transcribe"
    )
    return dataclasses.replace(cfg, translation=tr, asr=dataclasses.replace(cfg.asr, task=task))


def settings_path() -> Path:
    return paths.config_dir() / "settings.toml"


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value if v is not None]
    return value


def dumps(settings: Settings) -> str:
    return tomli_w.dumps(_drop_none(settings.to_dict()))


def load(path: Path | None = None) -> Settings:
    """Settings from disk, or defaults when there is no (readable) file."""
    path = path or settings_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        log.warning("settings file %s is unreadable (%s); using defaults", path, exc)
        with contextlib.suppress(OSError):
            path.replace(path.with_name(path.name + ".bad"))
        return Settings()
    try:
        return Settings.from_dict(data)
    except (TypeError, ValueError) as exc:
        log.warning("settings file %s has bad values (%s); using defaults", path, exc)
        return Settings()


def save(settings: Settings, path: Path | None = None) -> Path:
    path = path or settings_path()
    atomic_write_text(path, dumps(settings))
    return path
