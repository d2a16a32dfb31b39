"""The transcript of one interpreting session, independent of any GUI.

Lines are keyed by the engine's `segment_id`: a `Partial` creates or replaces its line in place, a
`Final` makes it final, a `FinalRevised` replaces its text (a revision; the new translation
follows), a `Translation` attaches the translated text. The session autosaves itself
as JSON (atomic rename, so a crash never leaves half a file) as it grows, and exports SRT, VTT,
TXT and JSON.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine import paths
from engine.errors import ConfigError, InputError
from engine.events import (
    Final,
    FinalRevised,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    Translation,
)
from engine.subtitles import Cue, atomic_write_text, write_cues

log = logging.getLogger(__name__)

SESSION_VERSION = 1
EXPORT_FORMATS = (".srt", ".vtt", ".txt", ".json")
CONTENTS = ("original", "translation", "both")


@dataclass(frozen=True, slots=True)
class SessionLine:
    """One utterance as the user sees it. `final` is False while the engine is still revising it."""

    segment_id: int
    start: float
    end: float
    text: str
    speaker: str | None = None
    lang: str | None = None
    final: bool = False
    translation: str | None = None
    target_lang: str | None = None
    revision: int = 0  # how often a revision (`FinalRevised`) replaced the text

    def to_dict(self) -> dict[str, Any]:
        # not dataclasses.asdict: that deep-copies, and autosave calls this for every line
        return {name: getattr(self, name) for name in _LINE_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionLine:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


_LINE_FIELDS = tuple(f.name for f in dataclasses.fields(SessionLine))


class _BackgroundWriter:
    """Writes the latest text given to it, on its own thread (a slow disk or fsync never
    stalls the caller); versions superseded before they were written are skipped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cond = threading.Condition()
        self._pending: str | None = None
        self._busy = False
        self._closed = False
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="session-autosave", daemon=True)
        self._thread.start()

    def submit(self, text: str) -> None:
        with self._cond:
            self._pending = text
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._pending is None:
                    return
                text, self._pending, self._busy = self._pending, None, True
            try:
                atomic_write_text(self.path, text)
                self.error = None
            except OSError as exc:  # keep going: the next save may succeed (disk full, ...)
                log.warning("autosave to %s failed: %s", self.path, exc)
                self.error = exc
            with self._cond:
                self._busy = False
                self._cond.notify_all()


class Session:
    """Ordered transcript lines plus speaker names, with autosave.

    `path=None` keeps the session in memory only (no autosave). Partials are saved at most every
    `partial_save_interval_s`; finals, translations and renames are saved at once.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        source: str | None = None,
        partial_save_interval_s: float = 1.0,
    ) -> None:
        self.path = Path(path) if path else None
        self.source = source
        self.created = datetime.now().astimezone().isoformat(timespec="seconds")
        self.partial_save_interval_s = partial_save_interval_s
        self._lines: dict[int, SessionLine] = {}
        self._aliases: dict[str, str] = {}  # engine label -> name the user gave
        self._last_save = 0.0
        self._dirty = False
        self._id_offset = 0  # engine segment ids and times restart with every run
        self._time_offset = 0.0
        self._writer: _BackgroundWriter | None = None
        # palette index per shown speaker name ("" = unlabelled), kept by the GUI so that a
        # reopened session shows every speaker in the colour it had
        self.speaker_colors: dict[str, int] = {}
        self.closed = False  # the user left it (New / Open): not offered again on launch

    # ------------------------------------------------------------------ creation
    @classmethod
    def new_autosaved(cls, *, source: str | None = None) -> Session:
        """A session autosaving to a fresh timestamped file under the sessions directory."""
        folder = paths.sessions_dir()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"session-{stamp}.json"
        n = 1
        while path.exists():
            n += 1
            path = folder / f"session-{stamp}-{n}.json"
        return cls(path, source=source)

    @classmethod
    def load(cls, path: Path) -> Session:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"Cannot read the session file {path}: {exc}") from exc
        session = cls(path, source=data.get("source"))
        session.created = data.get("created", session.created)
        session._aliases = dict(data.get("speaker_names", {}))
        session.closed = bool(data.get("closed", False))
        for item in data.get("lines", []):
            line = SessionLine.from_dict(item)
            session._lines[line.segment_id] = line
        colors = data.get("speaker_colors")
        if isinstance(colors, dict):
            session.speaker_colors = {str(k): int(v) for k, v in colors.items()}
        else:  # saved before colours were kept: in order of first appearance, as shown live
            session.speaker_colors = {s or "": i for i, s in enumerate(session.speakers())}
        return session

    # ------------------------------------------------------------------ queries
    def lines(self) -> list[SessionLine]:
        return sorted(self._lines.values(), key=lambda ln: (ln.start, ln.segment_id))

    def line(self, segment_id: int) -> SessionLine | None:
        return self._lines.get(segment_id)

    def __len__(self) -> int:
        return len(self._lines)

    def speakers(self) -> list[str | None]:
        """Speaker labels in order of first appearance."""
        seen: dict[str | None, None] = {}
        for line in self.lines():
            seen.setdefault(line.speaker, None)
        return list(seen)

    def speaker_labels(self) -> tuple[str, ...]:
        """Every speaker label this transcript uses: the names shown and the engine labels
        renamed away (a continued session must not give them to new voices)."""
        named = {s for s in self.speakers() if s is not None}
        return tuple(sorted(named | {label for label in self._aliases if label}))

    def display_name(self, label: str | None) -> str | None:
        """The name to show for an engine label (after renames)."""
        key = label or ""
        seen = set()
        while key in self._aliases and key not in seen:
            seen.add(key)
            key = self._aliases[key]
        return key or None

    # ------------------------------------------------------------------ updates
    def begin_run(self, time_offset: float | None = None) -> None:
        """Start a new engine run in this session: its segment ids and times (which restart at
        zero) are shifted after what is already here. `time_offset` defaults to just after the
        last line."""
        lines = self._lines.values()
        self._id_offset = max((ln.segment_id for ln in lines), default=-1) + 1
        last_end = max((ln.end for ln in lines), default=0.0)
        if time_offset is None:
            time_offset = last_end + 1.0 if lines else 0.0
        self._time_offset = max(time_offset, last_end)

    def apply(self, event: Any) -> SessionLine | None:
        """Fold one engine event into the transcript; returns the line it changed, if any."""
        if isinstance(event, SegmentDiscarded):
            self._apply_discarded(
                dataclasses.replace(event, segment_id=event.segment_id + self._id_offset)
            )
            return None
        if isinstance(event, Partial | Final | FinalRevised | Translation) and (
            self._id_offset or self._time_offset
        ):
            event = dataclasses.replace(
                event,
                segment_id=event.segment_id + self._id_offset,
                start=event.start + self._time_offset,
                end=event.end + self._time_offset,
            )
        if isinstance(event, Partial):
            return self._apply_partial(event)
        if isinstance(event, Final):
            return self._apply_final(event)
        if isinstance(event, FinalRevised):
            return self._apply_revised(event)
        if isinstance(event, Translation):
            return self._apply_translation(event)
        if (
            isinstance(event, SpeakerChanged)
            and event.old_label is not None
            and event.old_label != event.new_label
        ):
            self.rename_speaker(event.old_label, event.new_label)
        return None

    def _apply_discarded(self, ev: SegmentDiscarded) -> None:
        old = self._lines.get(ev.segment_id)
        if old is not None and not old.final:
            del self._lines[ev.segment_id]
            self._changed(final=False)

    def _apply_partial(self, ev: Partial) -> SessionLine | None:
        old = self._lines.get(ev.segment_id)
        if old is not None and old.final:
            return None  # a late partial never overwrites final text
        if ev.speaker is None and old is not None:
            speaker = old.speaker
        else:
            speaker = self.display_name(ev.speaker)
        line = SessionLine(ev.segment_id, ev.start, ev.end, ev.text, speaker, ev.lang, False)
        self._lines[ev.segment_id] = line
        self._changed(final=False)
        return line

    def _apply_final(self, ev: Final) -> SessionLine:
        old = self._lines.get(ev.segment_id)
        line = SessionLine(
            ev.segment_id,
            ev.start,
            ev.end,
            ev.text,
            self.display_name(ev.speaker),
            ev.lang,
            True,
            old.translation if old else None,
            old.target_lang if old else None,
        )
        self._lines[ev.segment_id] = line
        self._changed(final=True)
        return line

    def _apply_revised(self, ev: FinalRevised) -> SessionLine | None:
        """The revised text replaces the line's (its speaker, times and, until the new one
        arrives, its translation stay)."""
        old = self._lines.get(ev.segment_id)
        if old is None:
            return None  # cleared since
        line = dataclasses.replace(
            old, text=ev.text, lang=ev.lang or old.lang, final=True, revision=ev.revision
        )
        self._lines[ev.segment_id] = line
        self._changed(final=True)
        return line

    def _apply_translation(self, ev: Translation) -> SessionLine:
        old = self._lines.get(ev.segment_id)
        if old is None:
            old = SessionLine(
                ev.segment_id,
                ev.start,
                ev.end,
                ev.source_text,
                self.display_name(ev.speaker),
                ev.source_lang,
                True,
            )
        line = dataclasses.replace(old, translation=ev.text, target_lang=ev.target_lang)
        self._lines[ev.segment_id] = line
        self._changed(final=True)
        return line

    def rename_speaker(self, old: str | None, new: str) -> int:
        """Rename a speaker everywhere (past lines and future events); returns lines changed."""
        new = new.strip()
        if not new:
            raise ConfigError("A speaker name cannot be empty.")
        current = self.display_name(old)
        if current == new:
            return 0
        self._aliases.pop(new, None)  # renaming back to an earlier name must not loop
        self._aliases[current or ""] = new
        if old is not None and old != current:
            self._aliases[old] = new
        count = 0
        for sid, line in list(self._lines.items()):
            if line.speaker == current:
                self._lines[sid] = dataclasses.replace(line, speaker=new)
                count += 1
        self._changed(final=True)
        return count

    def set_line_speaker(self, segment_id: int, name: str) -> SessionLine | None:
        """Say who spoke one line (a line whose speaker the engine did not recognise); None
        when there is no such line."""
        name = name.strip()
        if not name:
            raise ConfigError("A speaker name cannot be empty.")
        old = self._lines.get(segment_id)
        if old is None:
            return None
        line = dataclasses.replace(old, speaker=name)
        self._lines[segment_id] = line
        self._changed(final=True)
        return line

    def clear(self) -> None:
        self._lines.clear()
        self._id_offset, self._time_offset = 0, 0.0
        self._changed(final=True)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SESSION_VERSION,
            "created": self.created,
            "source": self.source,
            "speaker_names": dict(self._aliases),
            "speakers": [s for s in self.speakers() if s is not None],
            "speaker_colors": dict(self.speaker_colors),
            "closed": self.closed,
            "lines": [line.to_dict() for line in self.lines()],
        }

    def _changed(self, *, final: bool) -> None:
        self._dirty = True
        if self.path is None:
            return
        now = time.monotonic()
        if final or now - self._last_save >= self.partial_save_interval_s:
            self.save()

    @property
    def save_error(self) -> Exception | None:
        """The last background autosave failure (None once a save succeeds again)."""
        return self._writer.error if self._writer is not None else None

    def use_background_writer(self) -> None:
        """Write autosaves on a background thread from now on (GUI: the disk never stalls the
        UI thread); `flush()` waits for the last one."""
        if self.path is not None and self._writer is None:
            self._writer = _BackgroundWriter(self.path)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the latest autosave is on disk (True), or the timeout passed."""
        return self._writer.flush(timeout) if self._writer is not None else True

    def mark_closed(self) -> None:
        """The user left this session (started another, opened another, or declined to go
        on with it): it is not offered again on the next launch. Saved if it has lines."""
        self.closed = True
        if len(self):
            self.save()

    def close(self) -> None:
        """Save, wait for the file, and stop the background writer."""
        self.save()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def save(self) -> Path | None:
        """Write the autosave file (atomic); returns its path (None when in memory only).
        With a background writer the write happens shortly after; `flush()` waits for it."""
        if self.path is None:
            return None
        text = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        if self._writer is not None:
            self._writer.submit(text)
        else:
            atomic_write_text(self.path, text)
        self._last_save = time.monotonic()
        self._dirty = False
        return self.path

    @property
    def dirty(self) -> bool:
        return self._dirty

    # ------------------------------------------------------------------ export
    def cues(self, content: str = "both", *, include_partial: bool = True) -> list[Cue]:
        """Subtitle cues: `content` is "original", "translation" or "both"."""
        if content not in CONTENTS:
            raise ConfigError(f"Unknown export content {content!r}: use one of {CONTENTS}")
        cues: list[Cue] = []
        for line in self.lines():
            if not line.final and not include_partial:
                continue
            parts = _content_parts(line, content)
            if parts:
                cues.append(
                    Cue(line.start, max(line.end, line.start), "\n".join(parts), line.speaker)
                )
        return cues

    def export(self, path: Path, *, content: str = "both", label_speakers: bool = True) -> Path:
        """Write the transcript as .srt, .vtt, .txt or .json (by suffix); returns the path."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in EXPORT_FORMATS:
            raise ConfigError(
                f"Cannot export to {path.name}: use one of {', '.join(EXPORT_FORMATS)}."
            )
        if suffix == ".json":
            atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=1))
            return path
        cues = self.cues(content)
        if suffix == ".txt":
            cues = [dataclasses.replace(c, text=c.text.replace("\n", "\n    ")) for c in cues]
        write_cues(path, cues, label_speakers=label_speakers and self._has_named_speakers())
        return path

    def _has_named_speakers(self) -> bool:
        return any(s is not None for s in self.speakers())


def _content_parts(line: SessionLine, content: str) -> list[str]:
    parts: list[str] = []
    if content in ("original", "both") and line.text:
        parts.append(line.text)
    repeated = line.translation is not None and line.translation.strip() == line.text.strip()
    if content == "both" and repeated:
        return parts  # Whisper's own translation: the line already is the English text
    if content in ("translation", "both") and line.translation:
        parts.append(line.translation)
    if content == "translation" and not line.translation and line.text:
        parts.append(line.text)  # untranslated line: keep the original rather than a gap
    return parts


@dataclass(frozen=True, slots=True)
class SavedSession:
    """A session file, as offered to continue on launch."""

    path: Path
    created: str  # ISO 8601 with the UTC offset
    lines: int

    @property
    def created_text(self) -> str:
        """e.g. "Sun 29 Nov, 17:32" (or the raw value if it cannot be read)."""
        try:
            return datetime.fromisoformat(self.created).strftime("%a %d %b, %H:%M")
        except ValueError:
            return self.created


def last_session(folder: Path | None = None, *, exclude: Path | None = None) -> SavedSession | None:
    """The most recently written session in `folder` (default: the sessions directory), when it
    has lines and the user did not leave it; None otherwise (also for an unreadable file)."""
    folder = Path(folder) if folder else paths.sessions_dir()
    try:
        files = [p for p in folder.glob("session-*.json") if p.is_file() and p != exclude]
    except OSError:
        return None
    if not files:
        return None
    newest = max(files, key=lambda p: p.stat().st_mtime)
    try:
        data = json.loads(newest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    lines = data.get("lines")
    count = len(lines) if isinstance(lines, list) else 0
    if not count or data.get("closed"):
        return None
    return SavedSession(newest, str(data.get("created", "")), count)


def export_many(
    session: Session,
    folder: Path,
    stem: str,
    formats: Iterable[str] = EXPORT_FORMATS,
    *,
    content: str = "both",
) -> list[Path]:
    """Export one session to several formats side by side (`stem.srt`, `stem.vtt`, ...)."""
    return [session.export(Path(folder) / f"{stem}{fmt}", content=content) for fmt in formats]
