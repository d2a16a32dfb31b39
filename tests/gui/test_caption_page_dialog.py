"""The caption page in the app: View → Caption page for streaming… turns it on, shows the address
(copyable), remembers the choice, says when the port is taken, and the page follows a real run."""

from __future__ import annotations

import socket

import httpx
import pytest
from gui_helpers import clip, close_controller, wait_until, words

from app import settings as settings_mod
from app.caption_page import CaptionPageDialog
from app.settings import Settings
from app.worker import IDLE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _dialog(controller: object) -> CaptionPageDialog:
    controller.window.act_caption_page.trigger()  # type: ignore[attr-defined]
    dialogs = controller.window.findChildren(CaptionPageDialog)  # type: ignore[attr-defined]
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    return dialogs[0]


def test_the_menu_turns_the_page_on_with_a_copyable_address(make_controller, tmp_path):
    from PySide6.QtGui import QGuiApplication

    port = _free_port()
    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.caption_page_port = port
    controller = make_controller(settings)
    dialog = _dialog(controller)
    assert not dialog.enable.isChecked() and dialog.address.text() == ""
    assert not dialog.copy_button.isEnabled()
    caption_file = tmp_path / "now.txt"
    dialog.file.setText(str(caption_file))
    dialog.enable.setChecked(True)
    url = f"http://127.0.0.1:{port}/"
    assert dialog.address.text() == url
    assert httpx.get(url, timeout=10).status_code == 200
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == url
    wait_until(caption_file.exists, 10, "the caption file")
    controller.save_settings()
    saved = settings_mod.load()
    assert (saved.ui.caption_page, saved.ui.caption_page_port) == (True, port)
    assert saved.ui.caption_file == str(caption_file)

    dialog.enable.setChecked(False)
    assert dialog.address.text() == "" and not controller.caption_page.running
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)


def test_a_taken_port_is_said_and_the_page_stays_off(make_controller):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        settings = Settings()
        settings.ui.preload_models = False
        settings.ui.caption_page = True  # on from the last session, but the port is taken now
        settings.ui.caption_page_port = port
        controller = make_controller(settings)
        assert not controller.caption_page.running
        assert f"127.0.0.1:{port}" in controller.window.statusBar().currentMessage()
        dialog = _dialog(controller)
        assert not dialog.enable.isChecked()
        assert "choose another port" in dialog.problem.text()
        assert "--" not in dialog.problem.text()  # GUI messages never quote command-line flags
        dialog.port.setValue(0)  # any free port
        dialog.port.editingFinished.emit()
        dialog.enable.setChecked(True)
        assert controller.caption_page.running
        assert dialog.address.text().startswith("http://127.0.0.1:")
        assert dialog.address.text() != f"http://127.0.0.1:{port}/"


@pytest.mark.slow
def test_the_page_follows_a_real_run(themed_app):
    from app.controller import AppController

    settings = Settings()
    settings.ui.source = str(clip("goforward.wav"))
    settings.ui.realtime_files = False
    settings.ui.preload_models = False
    settings.ui.caption_page = True
    settings.ui.caption_page_port = 0
    controller = AppController(settings)
    try:
        url = controller.caption_page.url
        assert url
        assert controller.start()
        wait_until(lambda: controller.state != IDLE, 30, "the run to start")
        wait_until(lambda: controller.state == IDLE, 120, "the run to finish")
        state = httpx.get(url + "captions.json", timeout=10).json()
        finals = [line for line in state["lines"] if line["final"]]
        assert "forward" in words(" ".join(line["text"] for line in finals))
        assert all(line["final"] for line in state["lines"])  # no partial left after the run
    finally:
        close_controller(controller)
    assert controller.caption_page.url is None  # the app's shutdown closed the page
