"""The application icon from resources/icons (SVG plus PNG fallbacks)."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from engine import paths


def app_icon() -> QIcon:
    folder = paths.resources_dir() / "icons"
    icon = QIcon()
    for size in (32, 64, 256):
        png = folder / f"dragoman-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    svg = folder / "dragoman.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    return icon
