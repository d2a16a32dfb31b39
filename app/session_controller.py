"""The transcript: engine events become session lines shown in the window and the overlay;
speakers are renamed; sessions are started, opened, saved and exported. UI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app import theme
from app.main_window import MainWindow
from app.overlay import CaptionOverlay
from app.settings_controller import SettingsController
from app.worker import SpeakerSession
from engine import paths
from engine.errors import DragomanError
from engine.events import (
    Final,
    FinalRevised,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    Translation,
)
from engine.session import SavedSession, Session, SessionLine, last_session

EXPORT_FILTERS = (
    "SubRip subtitles (*.srt);;WebVTT subtitles (*.vtt);;Plain text (*.txt);;"
    "JSON transcript (*.json)"
)


class SessionController(QObject):
    speaker_renamed = Signal(str, str)  # shown old name, new name (for the running engine)

    def __init__(
        self,
        settings: SettingsController,
        window: MainWindow,
        overlay: CaptionOverlay,
        colors: theme.SpeakerColors,
        *,
        running: Callable[[], bool],
        session: Session | None = None,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._window = window
        self._overlay = overlay
        self._running = running
        self.colors = colors
        self._serial = 0  # counts the sessions shown, so that each has its own speaker key
        self.session = session or Session.new_autosaved()
        self.session.use_background_writer()  # a slow disk never stalls the UI thread
        self.colors.use(self.session.speaker_colors)  # saved with it, so a reopen keeps them
        self._started_at = time.monotonic()
        self._reported_save_error: Exception | None = None
        self._reopened = False  # an opened saved session: ask before adding to it
        self.offered: SavedSession | None = None  # the last session, offered on launch
        self._retranslating: set[int] = set()  # revised lines whose new translation is due
        window.offer_banner.accepted.connect(self._continue_offered)
        window.offer_banner.dismissed.connect(self._decline_offered)
        window.rename_requested.connect(self.rename_speaker)
        window.subtitles.speaker_given.connect(self.give_speaker)
        window.export_requested.connect(self.export_dialog)
        window.new_session_requested.connect(self.new_session)
        window.open_session_requested.connect(self.open_session_dialog)
        window.sessions_folder_requested.connect(self.open_sessions_folder)
        self._show_session_info()

    @property
    def session(self) -> Session:
        return self._session

    @session.setter
    def session(self, session: Session) -> None:
        self._session = session
        self._serial += 1

    def speaker_session(self) -> SpeakerSession:
        """Which transcript the next run adds to, and the speaker labels it already shows (the
        engine numbers the voices of another transcript afresh: see `EngineWorker.start`)."""
        return SpeakerSession(self._serial, self.session.speaker_labels())

    def lines(self) -> list[SessionLine]:
        return self.session.lines()

    def save(self) -> None:
        """Autosave, but never an empty transcript (every launch wrote an empty file)."""
        if len(self.session):
            self.session.save()

    def ready_to_continue(self) -> bool:
        """Before a run: a reopened saved session grows only if the user says so; otherwise a
        new session starts. False: the user cancelled."""
        if not self._reopened or not len(self.session):
            return True
        box = QMessageBox(self._window)
        box.setWindowTitle("Continue this session?")
        box.setText(
            f"The open session is a saved one ({len(self.session)} lines). Add what follows to "
            "it, or start a new session?"
        )
        add = box.addButton("Add to this session", QMessageBox.ButtonRole.AcceptRole)
        new = box.addButton("New session", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is add:
            self._reopened = False
            return True
        if clicked is new:
            self.new_session()
            return True
        return False

    def offer_last_session(self) -> SavedSession | None:
        """On launch: offer to continue the last session when it has lines and the user did not
        leave it (New / Open / Dismiss), in a banner that never blocks (Open / Dismiss)."""
        offered = last_session(exclude=self.session.path)
        self.offered = offered
        if offered is not None:
            lines = "1 line" if offered.lines == 1 else f"{offered.lines} lines"
            self._window.show_offer(
                f"Continue the last session ({offered.created_text}, {lines})?", "Open"
            )
        return offered

    def _continue_offered(self) -> None:
        """Open: the user chose to continue it, so Start adds to it without asking again."""
        offered, self.offered = self.offered, None
        if offered is None:
            return
        if self.open_session(offered.path):
            self._reopened = False
        else:
            self.offered = offered  # still running, or unreadable: keep the offer
            if self._running():
                self._window.hide_offer()

    def _decline_offered(self) -> None:
        offered, self.offered = self.offered, None
        if offered is None:
            return
        try:
            declined = Session.load(offered.path)
        except DragomanError:
            return  # gone or unreadable: nothing to offer next time either
        declined.mark_closed()

    def begin_run(self, *, is_file: bool) -> None:
        """A run starts: live input continues the session's clock, a file starts at its 0."""
        if self.offered is not None:  # going on without it; offered again next launch
            self.offered = None
            self._window.hide_offer()
        elapsed = time.monotonic() - self._started_at if len(self.session) else 0.0
        self.session.begin_run(None if is_file else elapsed)

    # ------------------------------------------------------------------ engine events
    @Slot(object)
    def on_line_event(self, event: Partial | Final | FinalRevised | Translation) -> None:
        """A line appears or changes in place (a revision keeps its row, speaker and time)."""
        revising = isinstance(event, FinalRevised) or (
            isinstance(event, Translation) and event.segment_id in self._retranslating
        )
        line = self.session.apply(event)
        if line is None:
            return
        if isinstance(event, FinalRevised):
            self._retranslating.add(event.segment_id)
        elif isinstance(event, Translation):
            self._retranslating.discard(event.segment_id)
        self._window.upsert_line(line)
        tail = self.session.lines()[-2:]
        if not revising:
            self._overlay.set_lines(tail)
        elif self._overlay.text_lines() and line.segment_id in {ln.segment_id for ln in tail}:
            self._overlay.set_lines(tail)  # a revised line still on screen shows its new text

    @Slot(object)
    def on_discarded(self, event: SegmentDiscarded) -> None:
        """A partial line that never became final (a cough, our own echo) disappears."""
        self.session.apply(event)
        self._show_all()

    @Slot(object)
    def on_speaker_changed(self, event: SpeakerChanged) -> None:
        if event.old_label is not None:
            self.colors.rename(self.session.display_name(event.old_label), event.new_label)
        self.session.apply(event)
        self._show_all()

    def save_error_to_report(self) -> tuple[Path | None, Exception] | None:
        """A new failure of the background writer, once (path, error)."""
        error = self.session.save_error
        if error is None or error is self._reported_save_error:
            return None
        self._reported_save_error = error
        return self.session.path, error

    def _show_all(self) -> None:
        lines = self.session.lines()
        self._window.show_lines(lines)
        self._overlay.set_lines(lines[-2:])

    # ------------------------------------------------------------------ user actions
    def rename_speaker(self, old: str | None, new: str) -> None:
        new = new.strip()
        if not new:
            return
        shown = self.session.display_name(old)
        self.colors.rename(shown, new)
        self.session.rename_speaker(old, new)
        if shown is not None:
            self.speaker_renamed.emit(shown, new)
        self._show_all()

    def give_speaker(self, segment_id: int, name: str) -> None:
        """The user says who spoke a line the engine could not attribute (that line only)."""
        line = self.session.set_line_speaker(segment_id, name) if name.strip() else None
        if line is not None:
            self._show_all()

    def new_session(self) -> None:
        if self._running():
            self._window.notify("Stop interpreting before starting a new session.", 5000)
            return
        self._close_current(left=True)
        self.session = Session.new_autosaved()
        self.session.use_background_writer()
        self.colors.use(self.session.speaker_colors)
        self._started_at = time.monotonic()
        self._reopened = False
        self._window.clear_lines()
        self._overlay.set_lines([])
        self._show_session_info()

    def open_session(self, path: Path) -> bool:
        """Show a saved session (to read, rename speakers, export, or continue it)."""
        if self._running():
            self._window.notify("Stop interpreting before opening another session.", 5000)
            return False
        try:
            session = Session.load(Path(path))
        except DragomanError as exc:
            self._window.show_error("Cannot open the session", str(exc))
            return False
        self._close_current(left=True)
        if self.offered is not None and self.offered.path == Path(path):
            self.offered = None
            self._window.hide_offer()
        self.session = session
        self.session.closed = False  # open again: offered on the next launch if not left
        self.session.use_background_writer()
        self._started_at = time.monotonic()
        self._reopened = True
        self.colors.use(session.speaker_colors)  # each speaker in the colour it had
        self._window.show_lines(session.lines(), self.colors)
        self._overlay.set_lines(session.lines()[-2:])
        self._show_session_info()
        self._window.notify(f"Opened {Path(path).name} ({len(session)} lines).", 6000)
        return True

    def open_session_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self._window,
            "Open a saved session",
            str(paths.sessions_dir()),
            "Dragoman sessions (*.json)",
        )
        if name:
            self.open_session(Path(name))

    def open_sessions_folder(self) -> None:
        folder = paths.sessions_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def export(self, path: Path, content: str | None = None) -> Path:
        """Export the transcript (.srt/.vtt/.txt/.json by suffix)."""
        content = content or self._settings.settings.ui.view_mode
        return self.session.export(Path(path), content=content)

    def export_dialog(self) -> None:
        if not len(self.session):
            self._window.notify("Nothing to export yet.", 4000)
            return
        ui = self._settings.settings.ui
        folder = Path(ui.export_dir or Path.home())
        stem = self.session.path.stem if self.session.path else "transcript"
        name, chosen = QFileDialog.getSaveFileName(
            self._window, "Export transcript", str(folder / f"{stem}.srt"), EXPORT_FILTERS
        )
        if not name:
            return
        path = Path(name)
        if not path.suffix:
            path = path.with_suffix("." + chosen.split("*.")[-1].rstrip(")"))
        try:
            self.export(path)
        except (DragomanError, OSError) as exc:
            self._window.show_error("Export failed", str(exc))
            return
        ui.export_dir = str(path.parent)
        self._window.notify(f"Exported {path}", 8000)

    def _show_session_info(self) -> None:
        if self.session.path is None:
            self._window.set_session_info("", "")
        else:
            self._window.set_session_info(
                "Autosave on", f"The transcript is saved as it grows in\n{self.session.path}"
            )

    def _close_current(self, *, left: bool = False) -> None:
        """Save and close the current session; an empty one leaves no file behind.
        left: the user moved to another session (it is not offered on the next launch)."""
        empty = not len(self.session)
        if left:
            self.session.mark_closed()
        self.session.close()
        if empty and self.session.path is not None and not self._reopened:
            self.session.path.unlink(missing_ok=True)

    def close(self) -> None:
        self._close_current()  # saved and on disk before the app goes
