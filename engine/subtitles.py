"""Subtitle files (SRT, VTT) written with pysubs2, and JSONL event logs.

`SubtitleFile` appends each final line as one synced write and rewrites the whole file atomically
when a line is revised, so an interrupted run (Ctrl-C, kill -9, crash, device lost) keeps
everything already final and never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pysubs2

from engine.errors import ConfigError
from engine.events import Word, event_to_dict

FORMATS = {".srt": "srt", ".vtt": "vtt", ".txt": "txt", ".json": "json"}


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str
    speaker: str | None = None


def word_cues(
    start: float,
    end: float,
    text: str,
    words: Sequence[Word],
    speaker: str | None = None,
    *,
    max_words: int,
) -> list[Cue]:
    """A final's line as cues of at most `max_words` words, each timed by its words (a new cue
    also starts after a sentence end). Without word timings: one cue for the whole line."""
    if not words or max_words < 1:
        return [Cue(start, end, text, speaker)]
    groups: list[list[Word]] = [[]]
    for word in words:
        if len(groups[-1]) >= max_words:
            groups.append([])
        groups[-1].append(word)
        if word.text.endswith((".", "?", "!", "。", "？", "！")):
            groups.append([])
    groups = [g for g in groups if g]
    cues = []
    for i, group in enumerate(groups):
        cue_start = start if i == 0 else group[0].start
        cue_end = end if i == len(groups) - 1 else groups[i + 1][0].start
        joiner = "" if all(len(w.text) == 1 and not w.text.isascii() for w in group) else " "
        cues.append(
            Cue(cue_start, max(cue_end, cue_start), joiner.join(w.text for w in group), speaker)
        )
    return cues


def subtitle_format(path: Path, *, allow_txt: bool = False) -> str:
    """ "srt" or "vtt" (or "txt" where plain lines are allowed) by the file's suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    allowed = ("srt", "vtt", "txt") if allow_txt else ("srt", "vtt")
    if fmt not in allowed:
        names = ", ".join(f".{f}" for f in allowed[:-1]) + f" or .{allowed[-1]}"
        raise ConfigError(f"Unsupported subtitle format {path.suffix!r} for {path}: use {names}")
    return str(fmt)


def new_file_mode() -> int:
    """The mode a new file gets from open(): 0o666 less the process umask (read without
    changing it where /proc tells it; else set and restored at once)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and rename, so readers never see half a file.

    A symlink is written through (its target is replaced, the link stays); the file keeps its
    mode, or gets the umask's like any new file; something that is not a regular file (a pipe,
    /dev/stdout) is written in place."""
    path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8") as fh:
            fh.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_cues(cues: Iterable[Cue], fmt: str, *, label_speakers: bool = True) -> str:
    """Cues as SRT / VTT text (pysubs2), or plain TXT lines."""
    cues = list(cues)
    if fmt == "txt":
        lines = []
        for cue in cues:
            who = f"{cue.speaker}: " if label_speakers and cue.speaker else ""
            lines.append(f"[{_clock(cue.start)} - {_clock(cue.end)}] {who}{cue.text}")
        return "\n".join(lines) + ("\n" if lines else "")
    subs = pysubs2.SSAFile()
    for cue in cues:
        text = cue.text
        if label_speakers and cue.speaker:
            text = f"{cue.speaker}: {text}"
        subs.append(
            pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000), text=text)
        )
    return subs.to_string(fmt)


def _clock(seconds: float) -> str:
    minutes, sec = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:02d}:{minutes:02d}:{sec:06.3f}"


def write_cues(path: Path, cues: Iterable[Cue], *, label_speakers: bool = True) -> None:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt not in ("srt", "vtt", "txt"):
        raise ConfigError(f"Unsupported export format {path.suffix!r}: use .srt, .vtt or .txt")
    atomic_write_text(path, render_cues(cues, fmt, label_speakers=label_speakers))


class SubtitleFile:
    """An SRT/VTT (or plain TXT) file that grows line by line and is valid after every `add`
    and every `replace`.

    Cues are appended (rendered by pysubs2, numbered in order) and synced to disk, so a long
    meeting costs the same per line at its end as at its start, and an interrupted run keeps
    every line already final. A revised line (`replace`) rewrites the whole file atomically."""

    def __init__(self, path: Path, *, label_speakers: bool = True) -> None:
        self.path = Path(path)
        self.format = subtitle_format(self.path, allow_txt=True)
        self.label_speakers = label_speakers
        self.cues: list[Cue] = []
        self._keys: list[object] = []  # per cue: the key it was added with (a segment id)
        # a valid (empty) file from the start, even if no line is ever final
        atomic_write_text(self.path, render_cues([], self.format))

    def add(self, cue: Cue, key: object = None) -> None:
        self.cues.append(cue)
        self._keys.append(key)
        block = render_cues([cue], self.format, label_speakers=self.label_speakers)
        if self.format != "txt":
            block = block.removeprefix("WEBVTT\n\n")
            number, rest = block.split("\n", 1)  # pysubs2 numbers a lone cue "1"
            block = f"{len(self.cues)}\n{rest}"
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(block)
                fh.flush()
                if self.path.is_file():
                    os.fsync(fh.fileno())
        except OSError as exc:
            raise _named(exc, self.path) from exc

    def has(self, key: object) -> bool:
        return key in self._keys

    def replace(self, key: object, cues: Sequence[Cue]) -> None:
        """Put `cues` where the cues added with `key` are (appended when there are none) and
        rewrite the file atomically: a reader or a kill at any moment sees the old file or the
        new one, never a mix."""
        if key not in self._keys:
            for cue in cues:
                self.add(cue, key)
            return
        merged: list[tuple[Cue, object]] = []
        for cue, k in zip(self.cues, self._keys, strict=True):
            if k != key:
                merged.append((cue, k))
            elif not any(mk == key for _, mk in merged):
                merged.extend((c, key) for c in cues)  # at the place of the first old cue
        self.cues = [c for c, _ in merged]
        self._keys = [k for _, k in merged]
        try:
            atomic_write_text(
                self.path,
                render_cues(self.cues, self.format, label_speakers=self.label_speakers),
            )
        except OSError as exc:
            raise _named(exc, self.path) from exc


class JsonlLog:
    """One JSON object per event, flushed as it happens."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO = self.path.open("w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        try:
            self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._fh.flush()
        except OSError as exc:
            raise _named(exc, self.path) from exc

    def write_event(self, event: Any, **extra: Any) -> None:
        self.write({**event_to_dict(event), **extra})

    def close(self) -> None:
        # what did not fit was reported by write(); closing loses nothing more
        with contextlib.suppress(OSError):
            self._fh.close()


def _named(exc: OSError, path: Path) -> OSError:
    """The same error with the file's name (a file object's write errors carry none)."""
    return exc if exc.filename else OSError(exc.errno, exc.strerror, str(path))
