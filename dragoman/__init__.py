"""The `dragoman` command: the desktop app when no command is given, otherwise the engine's
command line (`dragoman run`, `devices`, `models`, `speakers`, `serve`).

This small package is the one place that knows both `app/` and `engine/`; the engine never
imports the app. It is also the module Briefcase starts in the packaged app (`python -m dragoman`).
"""

from engine import __version__

__all__ = ["__version__"]
