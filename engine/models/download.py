"""Downloading catalogue models from the Hugging Face Hub (or a mirror set with HF_ENDPOINT).

Metadata comes from `huggingface_hub` (`hf_hub_url` + `get_hf_file_metadata`: size, commit, and
the LFS sha256 / git sha1 the Hub reports); the bytes are streamed with httpx so that we control
resume (the partial file is kept and continued with a Range request), cancel (a threading.Event
checked between chunks), progress (a callback with a frozen `DownloadProgress`) and verification
(size + sha256, or the git blob sha1 for small non-LFS files). A file that fails verification is
deleted and never used.

Files land in a staging directory the store hands in (inside the models directory); the store
renames the finished, verified directory into place. Offline mode (HF_HUB_OFFLINE=1 or the
store's flag) is checked before anything touches the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from engine.errors import DownloadError
from engine.models.catalog import ModelEntry, ModelFile

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_TRUE = {"1", "on", "yes", "true"}


class DownloadCancelled(DownloadError):
    """The user cancelled a download; the partial files are kept so the next try resumes."""


@dataclass(frozen=True)
class DownloadProgress:
    """Progress of one model download, reported after every chunk (from the downloading thread).

    bytes_done/bytes_total count the whole model (every file); file_* count the current file.
    fraction is bytes_done / bytes_total (0.0-1.0), or None while the total is unknown.
    """

    model_id: str
    file: str
    bytes_done: int
    bytes_total: int | None
    file_bytes_done: int
    file_bytes_total: int | None
    fraction: float | None


ProgressCallback = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class RemoteFile:
    """What the Hub says about one file of a model (from a HEAD request)."""

    file: ModelFile
    url: str  # where to GET the bytes (the CDN location for LFS files)
    size: int
    sha256: str | None  # catalogue or LFS sha256
    git_sha1: str | None  # git blob sha1 of a small non-LFS file
    etag: str | None
    commit: str | None


@dataclass(frozen=True)
class FileRecord:
    """A downloaded and verified file (goes into the model's `.complete` manifest)."""

    path: str
    local: str
    size: int
    sha256: str


def hub_endpoint() -> str:
    """The Hub (or mirror) base URL, read from HF_ENDPOINT now (not at import time)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def offline_from_env() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) asks for no network at all."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return True
    return False


def file_digests(path: Path, chunk: int = 1 << 20) -> tuple[str, str]:
    """(sha256, git blob sha1) of a file in one pass."""
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1()  # noqa: S324 - git object id, not a security hash
    sha1.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            sha256.update(block)
            sha1.update(block)
    return sha256.hexdigest(), sha1.hexdigest()


def _network_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [httpx.HTTPError, OSError]
    try:
        import httpx2  # huggingface_hub >= 1.x speaks httpx2

        errors.append(httpx2.HTTPError)
    except ImportError:
        pass
    try:
        from huggingface_hub.errors import HfHubHTTPError

        errors.append(HfHubHTTPError)
    except ImportError:
        pass
    return tuple(errors)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class _Retry(Exception):
    """A transient failure worth resuming from (connection cut, 5xx)."""


class HubDownloader:
    """Downloads the files of one catalogue entry into a staging directory.

    endpoint: Hub base URL; None = HF_ENDPOINT or https://huggingface.co at call time.
    token: Hub token; None = whatever huggingface_hub finds (HF_TOKEN, saved login).
    retries: how many times one file is resumed after a transient failure before giving up
        (the partial file is kept either way).
    """

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | bool | None = None,
        *,
        retries: int = 3,
        timeout_s: float = 30.0,
        retry_wait_s: float = 0.5,
    ) -> None:
        self._endpoint = endpoint.rstrip("/") if endpoint else None
        self.token = token
        self.retries = retries
        self.timeout_s = timeout_s
        self.retry_wait_s = retry_wait_s

    @property
    def endpoint(self) -> str:
        return self._endpoint or hub_endpoint()

    # ------------------------------------------------------------------ metadata

    def fetch_metadata(self, entry: ModelEntry, file: ModelFile, revision: str) -> RemoteFile:
        """HEAD one file on the Hub; raises DownloadError naming the model and file."""
        from huggingface_hub import get_hf_file_metadata, hf_hub_url

        assert entry.repo is not None
        endpoint = self.endpoint
        url = hf_hub_url(entry.repo, file.path, revision=revision, endpoint=endpoint)
        try:
            meta = get_hf_file_metadata(
                url, token=self.token, endpoint=endpoint, timeout=self.timeout_s
            )
        except _network_errors() as exc:
            raise DownloadError(
                f"Cannot reach {file.path} of model '{entry.id}' at {endpoint} "
                f"({entry.repo}@{revision}): {_short(exc)}. Check the network connection or "
                "HF_ENDPOINT, or import the files with `dragoman models import PATH --id "
                f"{entry.id}`."
            ) from exc
        if meta.size is None:
            raise DownloadError(
                f"{endpoint} did not report the size of {file.path} "
                f"(model '{entry.id}'); is HF_ENDPOINT a Hub mirror?"
            )
        etag = (meta.etag or "").strip('"').lower() or None
        lfs_sha = etag if etag and _HEX64.match(etag) else None
        git_sha1 = etag if etag and _HEX40.match(etag) else None
        if file.size is not None and file.size != meta.size:
            raise DownloadError(
                f"Model '{entry.id}': the catalogue expects {file.path} to be {file.size} "
                f"bytes but {endpoint} serves {meta.size} bytes ({entry.repo}@{revision}); the "
                "repository changed. Import a known-good copy with `dragoman models import`."
            )
        if file.sha256 and lfs_sha and file.sha256 != lfs_sha:
            raise DownloadError(
                f"Model '{entry.id}': the catalogue pins sha256 {file.sha256} for {file.path} but "
                f"{endpoint} serves sha256 {lfs_sha}; refusing to download it."
            )
        return RemoteFile(
            file=file,
            url=meta.location,
            size=meta.size,
            sha256=file.sha256 or lfs_sha,
            git_sha1=None if (file.sha256 or lfs_sha) else git_sha1,
            etag=etag,
            commit=meta.commit_hash,
        )

    # ------------------------------------------------------------------ whole model

    def download(
        self,
        entry: ModelEntry,
        staging: Path,
        *,
        revision: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[list[FileRecord], str | None]:
        """Download and verify every file of `entry` into `staging` (kept between tries so a
        later call resumes). Returns the verified files and the commit they came from."""
        if not entry.downloadable:
            raise DownloadError(f"Model '{entry.id}' has no Hub source to download from.")
        revision = revision or entry.revision
        staging.mkdir(parents=True, exist_ok=True)
        remotes: list[RemoteFile] = []
        commit: str | None = None
        for file in entry.files:
            _check_cancel(entry, cancel)
            # Pin every file to the commit the first one came from (no mixed revisions).
            remote = self.fetch_metadata(entry, file, commit or revision)
            commit = commit or remote.commit
            remotes.append(remote)
        total = sum(r.size for r in remotes)
        _check_disk_space(entry, staging, remotes)
        done_before = 0
        records: list[FileRecord] = []
        for remote in remotes:
            _check_cancel(entry, cancel)
            record = self._download_file(
                entry, remote, staging, done_before, total, on_progress, cancel
            )
            records.append(record)
            done_before += remote.size
        return records, commit

    # ------------------------------------------------------------------ one file

    def _download_file(
        self,
        entry: ModelEntry,
        remote: RemoteFile,
        staging: Path,
        done_before: int,
        total: int,
        on_progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> FileRecord:
        local = remote.file.local
        final = staging / local
        ok_marker = staging / f"{local}.ok.json"
        part = staging / f"{local}.part"
        part_meta = staging / f"{local}.part.json"
        identity = {
            "url_path": remote.file.path,
            "etag": remote.etag,
            "size": remote.size,
            "sha256": remote.sha256,
        }

        def report(file_done: int) -> None:
            if on_progress is not None:
                done = done_before + file_done
                on_progress(
                    DownloadProgress(
                        model_id=entry.id,
                        file=local,
                        bytes_done=done,
                        bytes_total=total,
                        file_bytes_done=file_done,
                        file_bytes_total=remote.size,
                        fraction=(done / total) if total else 1.0,
                    )
                )

        ok = _read_json(ok_marker)
        if (
            final.is_file()
            and ok
            and ok.get("identity") == identity
            and final.stat().st_size == remote.size
        ):
            report(remote.size)
            return FileRecord(remote.file.path, local, remote.size, ok["sha256"])
        final.unlink(missing_ok=True)
        ok_marker.unlink(missing_ok=True)

        previous = _read_json(part_meta)
        if part.exists() and (previous != identity or part.stat().st_size > remote.size):
            log.info("discarding stale partial %s", part)
            part.unlink()
        _write_json(part_meta, identity)
        part.touch()

        failures = 0
        while part.stat().st_size < remote.size:
            _check_cancel(entry, cancel)
            try:
                self._transfer(entry, remote, part, report, cancel)
            except _Retry as exc:
                failures += 1
                if failures > self.retries:
                    raise DownloadError(
                        f"Download of {local} (model '{entry.id}') failed after {failures} tries: "
                        f"{exc}. {part.stat().st_size} of {remote.size} bytes are kept; run "
                        f"`dragoman models download {entry.id}` again to resume."
                    ) from exc
                log.warning("download of %s interrupted (%s); resuming", local, exc)
                if cancel is not None and cancel.wait(self.retry_wait_s * failures):
                    _check_cancel(entry, cancel)
                elif cancel is None:
                    time.sleep(self.retry_wait_s * failures)

        size = part.stat().st_size
        sha256, git_sha1 = file_digests(part)
        problem = None
        if size != remote.size:
            problem = f"{size} bytes instead of {remote.size}"
        elif remote.sha256 and sha256 != remote.sha256:
            problem = f"sha256 {sha256}, expected {remote.sha256}"
        elif remote.git_sha1 and git_sha1 != remote.git_sha1:
            problem = f"git sha1 {git_sha1}, expected {remote.git_sha1}"
        if problem:
            part.unlink(missing_ok=True)
            part_meta.unlink(missing_ok=True)
            raise DownloadError(
                f"Checksum mismatch for {local} of model '{entry.id}' ({problem}); the file was "
                f"deleted and not used. Run `dragoman models download {entry.id}` again; if it "
                "keeps failing, the mirror (HF_ENDPOINT) serves bad data."
            )
        if not (remote.sha256 or remote.git_sha1):
            log.warning("%s of %s has no checksum to check against (size only)", local, entry.id)
        os.replace(part, final)
        part_meta.unlink(missing_ok=True)
        _write_json(ok_marker, {"identity": identity, "sha256": sha256})
        report(remote.size)
        return FileRecord(remote.file.path, local, remote.size, sha256)

    def _headers_for(self, url: str) -> dict[str, str]:
        from huggingface_hub.utils import build_hf_headers

        headers = dict(build_hf_headers(token=self.token))
        if urlsplit(url).netloc != urlsplit(self.endpoint).netloc:
            headers.pop("authorization", None)  # never send the token to a CDN
            headers.pop("Authorization", None)
        headers["Accept-Encoding"] = "identity"
        return headers

    def _transfer(
        self,
        entry: ModelEntry,
        remote: RemoteFile,
        part: Path,
        report: Callable[[int], None],
        cancel: threading.Event | None,
    ) -> None:
        """One GET of the rest of a file, appended to `part`. Raises _Retry on transient errors."""
        have = part.stat().st_size
        headers = self._headers_for(remote.url)
        if have:
            headers["Range"] = f"bytes={have}-"
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0))
        try:
            with (
                httpx.Client(follow_redirects=True, timeout=timeout) as client,
                client.stream("GET", remote.url, headers=headers) as response,
            ):
                status = response.status_code
                if status == 416 and have == remote.size:
                    return
                if status >= 500 or status in (408, 429):
                    raise _Retry(f"HTTP {status} from {urlsplit(remote.url).netloc}")
                if status not in (200, 206):
                    raise DownloadError(
                        f"Cannot download {remote.file.path} of model '{entry.id}': HTTP {status} "
                        f"from {remote.url}. Run `dragoman models download {entry.id}` again "
                        "later (it resumes)."
                    )
                mode = "ab"
                if status == 200 or not _range_starts_at(response, have):
                    mode, have = "wb", 0  # the server ignored the Range: start over
                report(have)
                with part.open(mode) as out:
                    # No chunk_size: every byte read is kept, even if the connection then breaks.
                    for chunk in response.iter_bytes():
                        if cancel is not None and cancel.is_set():
                            break
                        out.write(chunk)
                        have += len(chunk)
                        if have > remote.size:
                            break
                        report(have)
        except httpx.TransportError as exc:
            raise _Retry(_short(exc)) from exc
        _check_cancel(entry, cancel)
        if part.stat().st_size < remote.size:
            raise _Retry(f"connection closed after {part.stat().st_size} of {remote.size} bytes")


def _range_starts_at(response: httpx.Response, offset: int) -> bool:
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return match is not None and int(match.group(1)) == offset


def _check_cancel(entry: ModelEntry, cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(
            f"Download of model '{entry.id}' cancelled; the partial files are kept and "
            f"`dragoman models download {entry.id}` resumes it."
        )


def _check_disk_space(entry: ModelEntry, staging: Path, remotes: list[RemoteFile]) -> None:
    needed = 0
    for remote in remotes:
        local = staging / remote.file.local
        have = local.stat().st_size if local.is_file() else 0
        part = staging / f"{remote.file.local}.part"
        have = max(have, part.stat().st_size if part.is_file() else 0)
        needed += max(0, remote.size - have)
    free = shutil.disk_usage(staging).free
    if needed > free:
        raise DownloadError(
            f"Not enough disk space for model '{entry.id}': {needed / 1e6:.0f} MB needed, "
            f"{free / 1e6:.0f} MB free in {staging.parent}."
        )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
