"""Model store plumbing figures: download through the local fake Hub (HF_ENDPOINT), resume,
sha256 verification, and resolve() of an installed model. Prints numbers; no assertions.

    .venv/bin/python bench/bench_model_store.py [--mb 128]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "services")]

from hub_mirror import HubMirror  # noqa: E402

from engine.models.catalog import parse_catalog  # noqa: E402
from engine.models.download import HubDownloader, file_digests  # noqa: E402
from engine.models.store import INCOMING, ModelStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=128, help="size of the fake model.bin")
    args = parser.parse_args()
    blob = os.urandom(args.mb * 1_000_000)
    catalog = parse_catalog(
        '[[model]]\nid = "bench"\nstage = "asr"\nrepo = "bench/model"\nlanguages = ["en"]\n'
        'licence = "MIT"\ndescription = "bench"\nfiles = [{ path = "model.bin" }, '
        '{ path = "config.json" }]\n'
    )
    with tempfile.TemporaryDirectory() as tmp, HubMirror() as hub:
        hub.add_file("bench/model", "model.bin", blob)
        hub.add_file("bench/model", "config.json", b"{}")
        os.environ["HF_ENDPOINT"] = hub.endpoint
        store = ModelStore(
            Path(tmp) / "models",
            catalog=catalog,
            downloader=HubDownloader(retry_wait_s=0.0),
            use_packaged=False,
        )
        events = 0

        def count(_progress: object) -> None:
            nonlocal events
            events += 1

        t0 = time.perf_counter()
        from huggingface_hub import get_hf_file_metadata  # noqa: F401 - lazy in the downloader

        print(f"import huggingface_hub.file_download: {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        path = store.download("bench", on_progress=count)
        full = time.perf_counter() - t0
        print(
            f"full download {args.mb} MB incl. sha256 + atomic install: {full:.2f} s "
            f"({args.mb / full:.0f} MB/s), {events} progress events"
        )

        t0 = time.perf_counter()
        sha, _ = file_digests(path / "model.bin")
        digest = time.perf_counter() - t0
        print(f"sha256 + git sha1 of {args.mb} MB: {digest:.2f} s ({args.mb / digest:.0f} MB/s)")

        t0 = time.perf_counter()
        for _ in range(100):
            store.resolve("bench", "asr")
        print(f"resolve() of an installed model: {(time.perf_counter() - t0) * 10:.2f} ms")

        t0 = time.perf_counter()
        report = store.verify("bench")
        print(f"verify(): {time.perf_counter() - t0:.2f} s, ok={report.ok}")

        store.remove("bench")
        hub.drop_after("bench/model", "model.bin", len(blob) // 2)
        store.downloader.retries = 0
        try:
            store.download("bench")
        except Exception as exc:  # noqa: BLE001 - expected: the cut download
            print(f"cut download: {type(exc).__name__}")
        kept = (store.models_dir / INCOMING / "bench" / "model.bin.part").stat().st_size
        t0 = time.perf_counter()
        store.download("bench")
        resumed = time.perf_counter() - t0
        print(
            f"resume from {kept / 1e6:.0f} MB: {resumed:.2f} s "
            f"(re-hashes the whole file; {(len(blob) - kept) / 1e6:.0f} MB transferred)"
        )


if __name__ == "__main__":
    main()
