"""Fixtures for the desktop-app tests: offscreen Qt and a factory of real controllers.

Qt runs on the offscreen platform (set before any Qt import). The engine is always the real one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from gui_helpers import close_controller  # noqa: E402


@pytest.fixture(scope="session")
def themed_app(qapp: object) -> Iterator[object]:
    """pytest-qt's QApplication with the app's theme."""
    from app.theme import apply_theme

    apply_theme(qapp)
    yield qapp


@pytest.fixture
def make_controller(themed_app: object) -> Iterator[Callable[..., object]]:
    """Factory of real AppControllers (real engine); every one is shut down after the test."""
    from app.controller import AppController
    from app.settings import Settings

    made: list[AppController] = []

    def make(settings: Settings | None = None, **kwargs: object) -> AppController:
        if settings is None:
            settings = Settings()
            settings.ui.preload_models = False
        controller = AppController(settings, **kwargs)
        made.append(controller)
        return controller

    yield make
    for controller in made:
        close_controller(controller)
