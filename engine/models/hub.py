"""Models named by Hub repository: faster-whisper's names, any CTranslate2 Whisper repo id, and
what other tools already downloaded into the Hugging Face cache.

- `whisper_repo("turbo")` -> "mobiuslabsgmbh/faster-whisper-large-v3-turbo": every name
  `faster_whisper.available_models()` knows, and any "owner/name" repo id.
- `find_in_hf_cache(repo, files)`: a complete snapshot of the repo in the Hugging Face cache
  (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub: where faster-whisper,
  whisper-ctranslate2 and Buzz put their models), found by reading the cache directory only:
  no request, no lock, nothing written.
- `hub_entry(repo, ...)`: a catalogue-like entry for a repo outside the catalogue, its files
  listed by the Hub (the patterns faster-whisper downloads), so the store can download, verify
  and install it like any other model.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from engine.errors import DownloadError
from engine.models.catalog import ModelEntry, ModelFile

_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
# what faster-whisper itself downloads from a repo (faster_whisper.utils.download_model)
WHISPER_PATTERNS = (
    re.compile(r"^config\.json$"),
    re.compile(r"^preprocessor_config\.json$"),
    re.compile(r"^model\.bin$"),
    re.compile(r"^tokenizer\.json$"),
    re.compile(r"^vocabulary\.[^/]+$"),
)


def looks_like_repo(name: str) -> bool:
    """'owner/name' (and not an existing path, which the caller checks)."""
    return bool(_REPO_RE.match(name)) and ".." not in name


def faster_whisper_names() -> dict[str, str]:
    """faster-whisper's model names and the repositories they download."""
    try:
        from faster_whisper.utils import _MODELS
    except ImportError:  # pragma: no cover - a project dependency
        return {}
    return dict(_MODELS)


def whisper_repo(name: str) -> str | None:
    """The Hub repository of a faster-whisper name or repo id; None for anything else."""
    names = faster_whisper_names()
    if name in names:
        return names[name]
    return name if looks_like_repo(name) else None


def repo_model_id(repo: str) -> str:
    """Store id of a model known only by its repo: 'hf-owner--name' (a valid directory name)."""
    return "hf-" + repo.replace("/", "--")


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at call time."""
    if value := os.environ.get("HF_HUB_CACHE"):
        return Path(value).expanduser()
    if value := os.environ.get("HF_HOME"):
        return Path(value).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def find_in_hf_cache(
    repo: str, files: tuple[str, ...] = ("model.bin", "config.json"), revision: str = "main"
) -> Path | None:
    """A cached snapshot of `repo` holding every file in `files`: the one `revision` points at,
    else the newest complete one. None when there is none. Reads the directory only."""
    root = hf_cache_dir() / ("models--" + repo.replace("/", "--"))
    snapshots = root / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates: list[Path] = []
    ref = root / "refs" / revision
    if ref.is_file():
        with contextlib.suppress(OSError):
            candidates.append(snapshots / ref.read_text(encoding="utf-8").strip())
    elif re.fullmatch(r"[0-9a-f]{40}", revision):
        candidates.append(snapshots / revision)
    others = sorted(
        (p for p in snapshots.iterdir() if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    candidates.extend(p for p in others if p not in candidates)
    for snapshot in candidates:
        # cache entries are symlinks into blobs/: a missing or dangling one is incomplete
        if snapshot.is_dir() and all((snapshot / f).is_file() for f in files):
            return snapshot
    return None


def hub_entry(
    repo: str,
    stage: str,
    *,
    endpoint: str,
    revision: str = "main",
    token: str | bool | None = None,
    patterns: tuple[re.Pattern[str], ...] = WHISPER_PATTERNS,
) -> ModelEntry:
    """An entry for a repo outside the catalogue; its file list comes from the Hub (one API
    request). Raises DownloadError when the Hub cannot be asked or the repo is not a model."""
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=endpoint, token=token).model_info(repo, revision=revision)
    except Exception as exc:  # huggingface_hub raises many HTTP/network classes
        raise DownloadError(
            f"Cannot list the files of {repo} at {endpoint}: {str(exc).splitlines()[0][:200]}. "
            "Check the name (a faster-whisper model name or a Hub repo id) and the network."
        ) from exc
    names = [s.rfilename for s in info.siblings or []]
    files = tuple(ModelFile(path=n, local=n) for n in names if any(p.match(n) for p in patterns))
    if not any(f.local == "model.bin" for f in files):
        raise DownloadError(
            f"{repo} has no model.bin: it is not a CTranslate2 (faster-whisper) export."
        )
    return ModelEntry(
        id=repo_model_id(repo),
        stage=stage,
        description=f"{repo} (Hugging Face Hub)",
        licence="see the repository",
        languages=("*",),
        files=files,
        repo=repo,
        revision=revision,
    )
