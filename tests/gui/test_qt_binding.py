"""The Qt binding must survive a long session. PySide6-Essentials 6.12.0 on Python 3.11 drops a
reference to None on every void call, so CPython aborts ("deallocating None") after a few
thousand calls. pyproject.toml pins PySide6 below 6.12 instead of patching None's reference
count at run time; this test is what keeps the pin honest (it fails on a binding with the bug)."""

from __future__ import annotations

import sys

import PySide6


def test_many_void_qt_calls_keep_none_referenced(themed_app: object) -> None:
    from PySide6.QtGui import QFont

    print(f"\nPySide6 {PySide6.__version__} on Python {sys.version.split()[0]}")
    font = QFont()
    before = sys.getrefcount(None)
    for _ in range(64):  # a short probe first: a leaking binding fails here, not by aborting
        font.setBold(True)
    assert sys.getrefcount(None) > before - 32, "void Qt calls leak None: keep PySide6 < 6.12"
    for _ in range(100_000):  # ~ what an hour of painting transcript rows costs
        font.setBold(True)
    # with the bug, None loses one reference per call: 100,000 here
    assert abs(sys.getrefcount(None) - before) < 1000
