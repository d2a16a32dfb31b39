"""The files a `dragoman run` writes, planned and checked before the run starts.

Every output is checked up front (before the input is opened and models load), so a wrong path
costs one line and no work: a missing or non-folder parent, a folder where a file belongs, a file
or folder that cannot be written (probed for real: read-only file systems and root's permissions
are caught too; `/dev/full` is caught by a zero-length write), the wrong suffix, one file named
twice, or an output that is the input itself. Nothing is created or truncated by the checks.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.errors import ConfigError
from engine.subtitles import subtitle_format

OutputKind = Literal["subtitles", "translated", "jsonl", "speech", "json", "caption"]
OUTPUT_FORMATS = ("srt", "vtt", "txt", "json")


@dataclass(frozen=True, slots=True)
class Output:
    """One file to write: which option asked for it, where, and what goes in it."""

    flag: str
    path: Path
    kind: OutputKind


def plan_outputs(
    *,
    input_spec: str,
    subtitles: Path | None = None,
    translated_subtitles: Path | None = None,
    jsonl: Path | None = None,
    speech: Path | None = None,
    output_dir: Path | None = None,
    output_formats: Iterable[str] = (),
    target_lang: str | None = None,
    stem: str | None = None,
) -> list[Output]:
    """The outputs of one run. `output_dir`/`output_formats` (whisper-ctranslate2's
    --output_dir/--output_format) add `STEM.FMT` files (STEM: the input file's name, else
    `stem`), plus `STEM.TARGET.FMT` with the translation for srt, vtt and txt."""
    outputs: list[Output] = []
    if subtitles is not None:
        outputs.append(Output("--subtitles", Path(subtitles), "subtitles"))
    if translated_subtitles is not None:
        outputs.append(Output("--translated-subtitles", Path(translated_subtitles), "translated"))
    if jsonl is not None:
        outputs.append(Output("--jsonl", Path(jsonl), "jsonl"))
    if speech is not None:
        outputs.append(Output("--speech", Path(speech), "speech"))
    formats = list(dict.fromkeys(output_formats))
    if formats or output_dir is not None:
        folder = Path(output_dir) if output_dir is not None else Path(".")
        name = stem or _stem(input_spec)
        for fmt in formats or OUTPUT_FORMATS:
            if fmt not in OUTPUT_FORMATS:
                raise ConfigError(f"--output-format {fmt!r}: use srt, vtt, txt, json or all")
            kind: OutputKind = "json" if fmt == "json" else "subtitles"
            outputs.append(Output("--output-dir", folder / f"{name}.{fmt}", kind))
            if target_lang and fmt != "json":
                outputs.append(
                    Output("--output-dir", folder / f"{name}.{target_lang}.{fmt}", "translated")
                )
    return outputs


def _stem(input_spec: str) -> str:
    path = Path(input_spec)
    if path.suffix and not input_spec.startswith(("mic", "pulse:", "system")):
        return path.stem
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in input_spec) or "dragoman"


def check_outputs(outputs: Iterable[Output], input_path: Path | None = None) -> None:
    """Raise ConfigError (one line) for the first output that cannot be written."""
    seen: dict[Path, Output] = {}
    source = Path(os.path.realpath(input_path)) if input_path is not None else None
    for out in outputs:
        target = Path(os.path.realpath(out.path))
        if target in seen and not _is_stream(target):
            first = seen[target]
            raise ConfigError(f"{out.flag} and {first.flag} both name {out.path}: use two files")
        seen[target] = out
        if source is not None and target == source:
            raise ConfigError(f"{out.flag} {out.path} is the input file: it would be overwritten")
        check_output(out)


def check_output(out: Output) -> None:
    """Raise ConfigError (one line) if `out` cannot be written; creates nothing."""
    if out.kind in ("subtitles", "translated"):
        subtitle_format(out.path, allow_txt=True)
    elif out.kind == "speech" and out.path.suffix.lower() != ".wav":
        raise ConfigError(f"--speech writes WAV audio: name the file .wav (not {out.path.name})")
    target = Path(os.path.realpath(out.path))
    where = f"{out.flag} {out.path}"
    if target.is_dir():
        raise ConfigError(f"{where} is a folder: name a file in it")
    folder = target.parent
    if not folder.exists():
        raise ConfigError(f"{where}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise ConfigError(f"{where}: {folder} is not a folder")
    try:
        if target.exists():
            _probe_existing(target)
        else:
            _probe_folder(folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"{where} cannot be written: {reason}") from exc


def _is_stream(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _probe_existing(path: Path) -> None:
    """Open for appending (nothing truncated) and write zero bytes: a full device says so."""
    if stat.S_ISFIFO(path.stat().st_mode):
        return  # opening a pipe would wait for its reader
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, b"")
    finally:
        os.close(fd)


def _probe_folder(folder: Path) -> None:
    """Create and drop a nameless file in `folder` (permissions, read-only file systems)."""
    with tempfile.TemporaryFile(dir=folder):
        pass
