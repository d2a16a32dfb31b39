"""Pictures of every screen a user meets, for a design review, under Xvfb (not offscreen).

    .venv/bin/python tools/review_shots.py [--out DIR]

Runs the real app on one clip with Whisper base and the tiny M2M100 test fixture into French
(nonsense words, real layout), adds a few long multi-speaker lines, then saves into DIR
(default: ./review-shots): the offer to continue the last session, the main window empty, with
translations, with a line before and after a revision, at its minimum size, with the error
banner, with the rename editor; every settings tab; the model manager; the caption overlay at
three text sizes and empty; the tray icon (under trayer) idle and listening; and German
sentences (espeak-ng) with the language detected per line. Runs under the openbox window
manager. Look at every picture.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from screenshots import REPO, pump, run_inner, themed_app, wait_for, xvfb_session

CLIP = REPO / ".." / "shared" / "data" / "speech" / "goforward.wav"
FIXTURE = REPO / "tests" / "fixtures" / "m2m100" / "m2m100"
LINES = (
    (
        "S1",
        "Good morning everyone, thanks for joining the quarterly review meeting today.",
        "Bonjour à tous, merci de vous joindre à la réunion trimestrielle aujourd'hui.",
    ),
    (
        "S2",
        "Let's start with the numbers from the last three months, which were better than "
        "expected in almost every region we operate in, including the new markets in the south.",
        "Commençons par les chiffres des trois derniers mois, qui ont été meilleurs que prévu "
        "dans presque toutes les régions où nous opérons, y compris les nouveaux marchés du sud.",
    ),
    ("Maria Fernanda de la Cruz", "Short one.", "Court."),
)


def inner(out: Path) -> int:
    """Runs on the Xvfb display."""
    from PySide6.QtWidgets import QTabWidget

    from app.controller import AppController
    from app.model_manager import ModelManagerDialog
    from app.settings import Settings
    from app.settings_dialog import SettingsDialog
    from app.worker import IDLE
    from engine.events import Final, FinalRevised, StageTimes, Translation
    from engine.session import Session, SessionLine

    app = themed_app()
    out.mkdir(parents=True, exist_ok=True)

    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.realtime_files = False
    settings.ui.source = str(CLIP.resolve())
    cfg = settings.engine
    settings.engine = dataclasses.replace(
        cfg,
        asr=dataclasses.replace(cfg.asr, language="en"),
        translation=dataclasses.replace(
            cfg.translation, target_lang="fr", backend="m2m100", model=str(FIXTURE)
        ),
    )
    # yesterday's meeting, left open at quit: offered on launch
    last = Session.new_autosaved()
    for i, (speaker, text, translation) in enumerate(LINES):
        last.apply(Final(i, 5.0 * i, 5.0 * i + 4, text, "en", StageTimes(), speaker))
        last.apply(
            Translation(
                i,
                5.0 * i,
                5.0 * i + 4,
                text,
                "en",
                translation,
                "fr",
                speaker,
                "m",
                {},
                StageTimes(),
            )
        )
    last.close()
    c = AppController(settings)
    win = c.window
    win.setGeometry(30, 30, 1100, 650)
    c.show()
    pump(1.0)
    win.grab().save(str(out / "00-last-session-offer.png"))
    screen = app.primaryScreen()

    def grab_tray(name: str) -> None:
        """The top-right corner where trayer docks the icons, three times as large."""
        pump(0.5)
        width = screen.geometry().width()
        shot = screen.grabWindow(0, width - 96, 0, 96, 28)
        shot.scaled(shot.width() * 3, shot.height() * 3).save(str(out / name))

    grab_tray("10-tray-idle.png")
    win.offer_banner.dismiss.click()
    pump(0.3)
    win.grab().save(str(out / "01-main-empty.png"))
    c.start()
    pump(0.3)
    win.grab().save(str(out / "01b-main-listening.png"))  # the empty transcript while starting
    grab_tray("10-tray-listening.png")
    wait_for(lambda: c.state == IDLE and len(c.session) > 0, 180)
    pump(0.5)
    for i, (speaker, text, translation) in enumerate(LINES):
        start = 10.0 + 5 * i
        win.subtitles.upsert(
            SessionLine(100 + i, start, start + 4, text, speaker, "en", True, translation, "fr")
        )
    pump(0.5)
    win.grab().save(str(out / "02-main-translation.png"))

    def from_engine(*events: object) -> None:
        """Events enter the worker as the engine hands them over (from a thread of its own)."""
        thread = threading.Thread(target=lambda: [c.worker._on_event(e) for e in events])
        thread.start()
        thread.join()
        pump(0.5)

    heard, better = "Fail again. Fail again.", "Fail again. Fail better."
    from_engine(
        Final(900, 30.0, 32.5, heard, "en", StageTimes(), "S1"),
        Translation(
            900,
            30.0,
            32.5,
            heard,
            "en",
            "Échoue encore. Échoue encore.",
            "fr",
            "S1",
            "m",
            {},
            StageTimes(),
        ),
    )
    win.grab().save(str(out / "02b-before-revision.png"))
    from_engine(
        FinalRevised(900, 30.0, 32.5, better, heard, "en", StageTimes(), "S1", 1),
        Translation(
            900,
            30.0,
            32.5,
            better,
            "en",
            "Échoue encore. Échoue mieux.",
            "fr",
            "S1",
            "m",
            {},
            StageTimes(),
        ),
    )
    win.grab().save(str(out / "02c-revised-line.png"))
    win.resize(win.minimumSize())
    pump(0.5)
    win.grab().save(str(out / "03-main-minimum.png"))
    win.setGeometry(30, 30, 1100, 650)
    win.show_error(
        "The models could not be loaded",
        "The speech recognition model 'whisper-nonexistent' is not installed. Open the model "
        "manager to install it, or choose another model in Settings.  The transcript so far "
        "(4 lines) is kept and saved.",
        action="Open model manager",
    )
    pump(0.3)
    win.grab().save(str(out / "04-banner.png"))
    win.banner.hide()
    win.open_find()
    win.find_box.setText("three months")
    pump(0.3)
    win.grab().save(str(out / "04e-find.png"))
    win.find_box.hide()
    win.subtitles.begin_rename(101)  # a row that shows its speaker label
    pump(0.3)
    win.grab().save(str(out / "05-rename.png"))
    win.subtitles.editor.hide()

    # a target language whose model is missing: captioning untouched, the model offered
    from app.translation_models import MissingModel

    c._offer_translation_model(
        MissingModel("de", "m2m100-418m-ct2-int8", 493_000_000, "M2M100 418M, CTranslate2 int8")
    )
    pump(0.3)
    win.grab().save(str(out / "04b-missing-translation-model.png"))
    win.clear_error()
    # keyboard focus on a view-mode button (the outline must be visible)
    win.activateWindow()
    win.mode_buttons["translation"].setFocus()
    pump(0.3)
    win.grab().save(str(out / "04c-focus-mode-button.png"))
    win.volume.setFocus()
    pump(0.3)
    win.grab().save(str(out / "04d-focus-volume.png"))

    dialog = SettingsDialog(c.settings, win)
    dialog.show()
    pump(0.5)
    tabs = dialog.findChild(QTabWidget)
    assert tabs is not None
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        pump(0.3)
        dialog.grab().save(str(out / f"06-settings-{i}-{tabs.tabText(i).lower()}.png"))
    dialog.reject()
    models = ModelManagerDialog(win, allow_network=False)
    models.show()
    pump(1.0)
    models.grab().save(str(out / "07-models.png"))
    models.reject()
    models = ModelManagerDialog(
        win,
        allow_network=False,
        highlight="m2m100-418m-ct2-int8",
        reason="Needed to translate into German: m2m100-418m-ct2-int8",
    )
    models.show()
    pump(1.0)
    models.grab().save(str(out / "07b-models-highlight.png"))
    models.reject()
    from PySide6.QtWidgets import QMessageBox

    help_box = QMessageBox(QMessageBox.Icon.Information, "Keyboard shortcuts", win.help_html())
    help_box.show()
    pump(0.5)
    help_box.grab().save(str(out / "09-help.png"))
    help_box.close()

    overlay = c.overlay
    overlay.setGeometry(260, 500, 760, 150)
    overlay.show()
    overlay.set_lines(
        [
            SessionLine(200 + i, 0.0, 1.0, text, speaker, "en", True, translation, "fr")
            for i, (speaker, text, translation) in enumerate(LINES[:2])
        ]
    )

    def grab_overlay(name: str) -> None:
        pump(0.5)
        g = overlay.frameGeometry()
        screen.grabWindow(0, g.x() - 10, g.y() - 10, g.width() + 20, g.height() + 20).save(
            str(out / name)
        )

    for size in (14, 22, 36):
        overlay.set_font_size(size)
        grab_overlay(f"08-overlay-{size}px.png")
    overlay.set_lines([])
    grab_overlay("08-overlay-empty.png")
    overlay.hide()

    # German sentences with pauses (espeak-ng), the language detected: a tag per line
    german = out / ".german.wav"
    if shutil.which("espeak-ng"):
        _german_meeting(german)
        c.sessions.new_session()
        auto = copy.deepcopy(c.settings)
        auto.engine = dataclasses.replace(
            auto.engine,
            asr=dataclasses.replace(auto.engine.asr, language=None),
            translation=dataclasses.replace(auto.engine.translation, target_lang=None),
        )
        auto.ui.source = str(german)
        c.apply_settings(auto)
        pump(0.3)
        c.start()
        wait_for(lambda: c.state != IDLE, 30)
        wait_for(lambda: c.state == IDLE, 240)
        pump(0.5)
        win.grab().save(str(out / "11-detected-language.png"))
        german.unlink()
    c.shutdown()
    app.quit()
    return 0


GERMAN = (
    "Guten Morgen.",
    "Wir beginnen heute mit dem Bericht über das letzte Quartal.",
    "Ja.",
    "Die Zahlen sind besser als erwartet.",
    "Aber die Kosten steigen weiter.",
    "Danke schön.",
)


def _german_meeting(path: Path) -> None:
    """The GERMAN sentences spoken by espeak-ng, 1.2 s apart, as one 16 kHz WAV."""
    import numpy as np
    import soundfile as sf

    from engine.audio.io import load_audio

    pause = np.zeros(int(1.2 * 16000), dtype=np.float32)
    parts = [pause[:8000]]
    for sentence in GERMAN:
        subprocess.run(["espeak-ng", "-v", "de", "-w", str(path), sentence], check=True)
        parts += [load_audio(path), pause]
    sf.write(path, np.concatenate(parts), 16000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("review-shots"))
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        return inner(args.out)
    with tempfile.TemporaryDirectory() as tmp, xvfb_session(wm=True) as env:
        rc = run_inner(__file__, env, Path(tmp) / "home", "--out", str(args.out.resolve()))
    print(f"review pictures in {args.out.resolve()}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
