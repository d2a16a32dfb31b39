"""Dragoman desktop app (PySide6). The engine it drives lives in `engine/` and never imports Qt."""
