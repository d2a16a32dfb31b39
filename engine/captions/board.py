"""What a caption display shows: the newest lines, built from engine events (pure, no I/O).

`CaptionBoard.apply(event)` folds one engine event into the board and says whether anything
visible changed. A partial line is replaced in place by its final (same `segment_id`); a
discarded segment's partial line is withdrawn; a translation is attached to its final's line;
speaker colours are assigned in order of first appearance and follow renames, as in the app.
Memory is bounded: the board keeps the `keep` newest lines and at most `MAX_SPEAKERS` colours.
Not thread-safe on its own: `engine.captions.server.Captions` serialises access.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from engine.events import (
    Final,
    FinalRevised,
    Finished,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    SpeechStarted,
    Translation,
)

Show = Literal["original", "translation", "both"]
SHOW_CHOICES: tuple[Show, ...] = ("original", "translation", "both")

# The speaker palette of the app too (app/theme.py uses it): one speaker looks the same in the
# window, the overlay and on stream.
SPEAKER_COLORS = (
    "#4fc3f7",
    "#ffb74d",
    "#81c784",
    "#f48fb1",
    "#ce93d8",
    "#fff176",
    "#4db6ac",
    "#ff8a65",
)
NO_SPEAKER_COLOR = "#ffffff"
MAX_SPEAKERS = 256


@dataclass(frozen=True, slots=True)
class CaptionLine:
    """One caption line: a segment's text (partial until `final`) and its translation."""

    segment_id: int
    text: str
    final: bool
    speaker: str | None = None
    lang: str | None = None
    translation: str | None = None
    target_lang: str | None = None


class CaptionBoard:
    """The newest `keep` caption lines and the speaker colours, updated by engine events."""

    def __init__(self, keep: int = 8) -> None:
        if keep < 1:
            raise ValueError("a caption board keeps at least one line")
        self.keep = keep
        self.seq = 0  # grows by one with every visible change
        self._lines: dict[int, CaptionLine] = {}
        self._colors: dict[str, str] = {}
        self._assigned = 0
        self._finished: set[int] = set()  # recent finals, so a late partial cannot revive one

    @property
    def lines(self) -> tuple[CaptionLine, ...]:
        """The kept lines, oldest first."""
        return tuple(self._lines[k] for k in sorted(self._lines))

    def color(self, speaker: str | None) -> str:
        """The speaker's colour (assigned on first sight, in order of appearance)."""
        if not speaker:
            return NO_SPEAKER_COLOR
        color = self._colors.get(speaker)
        if color is None:
            color = SPEAKER_COLORS[self._assigned % len(SPEAKER_COLORS)]
            self._assigned += 1
            self._colors[speaker] = color
            while len(self._colors) > MAX_SPEAKERS:
                self._colors.pop(next(iter(self._colors)))
        return color

    def apply(self, event: Any) -> bool:
        """Fold one engine event in; True when what a display shows changed."""
        changed = self._apply(event)
        if changed:
            self.seq += 1
        return changed

    def _apply(self, event: Any) -> bool:
        if isinstance(event, Partial):
            if event.segment_id in self._finished or not event.text.strip():
                return False
            old = self._lines.get(event.segment_id)
            speaker = event.speaker or (old.speaker if old else None)
            self.color(speaker)
            line = CaptionLine(event.segment_id, event.text, False, speaker, event.lang)
            return self._put(line, old)
        if isinstance(event, Final):
            self._finished.add(event.segment_id)
            if len(self._finished) > 4 * self.keep:
                self._finished.discard(min(self._finished))
            if not event.text.strip():
                return self._lines.pop(event.segment_id, None) is not None
            self.color(event.speaker)
            old = self._lines.get(event.segment_id)
            line = CaptionLine(event.segment_id, event.text, True, event.speaker, event.lang)
            return self._put(line, old)
        if isinstance(event, FinalRevised):
            old = self._lines.get(event.segment_id)
            if old is None or not event.text.strip():
                return False  # its line already scrolled away
            return self._put(dataclasses.replace(old, text=event.text, lang=event.lang), old)
        if isinstance(event, Translation):
            old = self._lines.get(event.segment_id)
            if old is None or not event.text.strip():
                return False  # its line already scrolled away
            line = dataclasses.replace(old, translation=event.text, target_lang=event.target_lang)
            return self._put(line, old)
        if isinstance(event, SegmentDiscarded):
            old = self._lines.get(event.segment_id)
            if old is None or old.final:
                return False
            del self._lines[event.segment_id]
            return True
        if isinstance(event, SpeakerChanged):
            return self._rename(event.old_label, event.new_label)
        if isinstance(event, Finished):
            # every final has been emitted: a partial line still showing will never get one
            stale = [k for k, line in self._lines.items() if not line.final]
            for k in stale:
                del self._lines[k]
            return bool(stale)
        if isinstance(event, SpeechStarted):
            return False  # nothing to show until there are words
        return False

    def _put(self, line: CaptionLine, old: CaptionLine | None) -> bool:
        if line == old:
            return False
        self._lines[line.segment_id] = line
        while len(self._lines) > self.keep:
            del self._lines[min(self._lines)]
        return line.segment_id in self._lines

    def _rename(self, old: str | None, new: str) -> bool:
        if old is None or old == new:
            self.color(new)  # a new speaker: the colour is theirs from now on
            return False
        if old in self._colors and new not in self._colors:
            self._colors[new] = self._colors.pop(old)
        changed = False
        for k, line in self._lines.items():
            if line.speaker == old:
                self._lines[k] = dataclasses.replace(line, speaker=new)
                changed = True
        return changed

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state for a display: `seq` and the kept lines with their colours."""
        return {
            "seq": self.seq,
            "lines": [
                {
                    "id": line.segment_id,
                    "text": line.text,
                    "final": line.final,
                    "speaker": line.speaker,
                    "color": self.color(line.speaker),
                    "lang": line.lang,
                    "translation": line.translation,
                    "target_lang": line.target_lang,
                }
                for line in self.lines
            ],
        }


def caption_text(
    lines: tuple[CaptionLine, ...], *, count: int = 2, show: Show = "both", speakers: bool = True
) -> str:
    """The newest `count` captions as plain text (the "current caption" file).

    One text line per caption ("Alice: words"), its translation on the next line with `both`;
    with `translation` only translated captions appear. Always ends with a newline when not
    empty."""
    out: list[str] = []
    shown = [line for line in lines if show != "translation" or line.translation]
    for line in shown[-count:] if count > 0 else []:
        who = f"{line.speaker}: " if speakers and line.speaker else ""
        if show in ("original", "both"):
            out.append(who + _one_line(line.text))
        if show in ("translation", "both") and line.translation:
            out.append((who if show == "translation" else "") + _one_line(line.translation))
    return "".join(f"{text}\n" for text in out)


def _one_line(text: str) -> str:
    return " ".join(text.split())
