"""Work-around for a reference-counting bug in some PySide6 builds.

PySide6-Essentials 6.12.0 on Python 3.11 returns `None` from every void method without taking
a reference, so each call (``widget.update()``, ``painter.setPen()``, ...) drops one reference
to `None`; after a few thousand calls CPython aborts with "deallocating None". (Python 3.12+
makes `None` immortal, so the bug is harmless there; PySide6 6.11.x does not have it.)

`guard_none_refcount()` detects the bug empirically and, when present, gives `None` a huge
number of extra references so the app can run for years; it logs a warning that names the fix
(install PySide6 < 6.12).
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_EXTRA_REFS = 1 << 40
_guarded = False


def void_calls_leak_none() -> bool:
    """True when calling a void Qt method drops a reference to None (the PySide6 bug)."""
    from PySide6.QtCore import QRect

    rect = QRect()
    before = sys.getrefcount(None)
    for _ in range(64):
        rect.setWidth(1)
    return sys.getrefcount(None) < before - 32


def guard_none_refcount() -> bool:
    """Protect against the bug if this binding has it; returns True when the guard was needed."""
    global _guarded
    if _guarded or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return _guarded
    if not void_calls_leak_none():
        return False
    import PySide6

    ctypes.c_ssize_t.from_address(id(None)).value += _EXTRA_REFS
    _guarded = True
    log.warning(
        "PySide6 %s drops a reference to None on every void call; guarded. "
        "Install PySide6-Essentials<6.12 for a clean fix.",
        PySide6.__version__,
    )
    return True
