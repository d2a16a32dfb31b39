"""The Qt binding must survive a long session: PySide6 6.12.0 on Python 3.11 drops a reference
to None on every void call and would abort the app after a few thousand calls; the app guards
against it (app/qt_compat.py)."""

from __future__ import annotations

import sys

import PySide6

from app.qt_compat import guard_none_refcount, void_calls_leak_none


def test_many_void_qt_calls_do_not_exhaust_none(themed_app: object) -> None:
    from PySide6.QtGui import QFont

    leaks = void_calls_leak_none()
    print(
        f"\nPySide6 {PySide6.__version__} on Python {sys.version.split()[0]}: "
        f"void calls leak None: {leaks}"
    )
    guard_none_refcount()
    font = QFont()
    before = sys.getrefcount(None)
    for _ in range(100_000):  # ~ what an hour of painting transcript rows costs
        font.setBold(True)
    assert sys.getrefcount(None) > 1000
    if not leaks:
        assert abs(sys.getrefcount(None) - before) < 1000
