"""`dragoman models list|download|import|verify|remove`.

Wiring (engine/cli.py): `engine.models.cli.register(subparsers)`; every sub-command sets
`func(args) -> int`. Errors are raised as DragomanError subclasses (the main CLI prints one line
and exits 2). `--offline` (here, or a global one with dest "offline") never touches the network.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from engine.errors import ModelError
from engine.models.catalog import STAGES
from engine.models.download import DownloadCancelled, DownloadProgress
from engine.models.store import ModelStatus, ModelStore


def make_store(args: argparse.Namespace) -> ModelStore:
    """The store the commands use (tests replace this)."""
    return ModelStore(offline=bool(getattr(args, "offline", False)))


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `models` command to the main parser's subparsers."""
    parser = subparsers.add_parser(
        "models",
        help="list, download, import, verify and remove models",
        description="Manage the models every stage uses (catalogue: resources/models.toml).",
    )
    # SUPPRESS: an absent flag keeps the value of a global --offline, if the main parser has one.
    parser.add_argument(
        "--offline",
        action="store_true",
        default=argparse.SUPPRESS,
        help="never touch the network (same as HF_HUB_OFFLINE=1)",
    )
    sub = parser.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    p = sub.add_parser("list", help="installed, packaged and downloadable models")
    p.add_argument("--stage", choices=STAGES, help="only this stage")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("download", help="download a model from the Hugging Face Hub (resumes)")
    p.add_argument("model_id", metavar="ID")
    p.add_argument("--revision", help="branch, tag or commit (default: the catalogue's)")
    p.add_argument("--force", action="store_true", help="download again even if installed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("import", help="copy a folder of model files into the store")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--id", dest="model_id", help="catalogue id, or a new id for another model")
    p.add_argument("--stage", choices=STAGES, help="stage of a model not in the catalogue")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("verify", help="check sizes and sha256 of installed models")
    p.add_argument("model_id", metavar="ID", nargs="?", help="one model (default: all)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("remove", help="delete an installed model")
    p.add_argument("model_id", metavar="ID")
    p.set_defaults(func=cmd_remove)
    return parser


def format_size(size: int | None, exact: bool = True) -> str:
    if size is None:
        return "?"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            text = f"{size / scale:.1f} {unit}"
            break
    else:
        text = f"{size} B"
    return text if exact else f"~{text}"


def format_languages(languages: tuple[str, ...], width: int = 24) -> str:
    if "*" in languages:
        return "multilingual"
    text = " ".join(languages)
    if len(text) <= width:
        return text
    return f"{text[: width - 8].rsplit(' ', 1)[0]} … ({len(languages)})"


def cmd_list(args: argparse.Namespace) -> int:
    store = make_store(args)
    rows: list[ModelStatus] = [
        r for r in store.statuses() if args.stage is None or r.stage == args.stage
    ]
    header = ("ID", "STAGE", "STATUS", "SIZE", "LANGUAGES", "LICENCE")
    table = [header] + [
        (
            r.model_id,
            r.stage or "-",
            r.state,
            format_size(r.size_bytes, r.size_exact),
            format_languages(r.languages),
            r.licence.split(" (")[0],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\nmodels directory: {store.models_dir}" + ("  (offline)" if store.offline else ""))
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    store = make_store(args)
    entry = store.entry(args.model_id)
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=None,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=entry.id,
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def on_progress(progress: DownloadProgress) -> None:
        if bar is None:
            return
        if bar.total != progress.bytes_total:
            bar.total = progress.bytes_total
        bar.set_postfix_str(progress.file, refresh=False)
        bar.update(progress.bytes_done - bar.n)

    cancel = threading.Event()
    try:
        path = store.download(
            entry.id, revision=args.revision, on_progress=on_progress, cancel=cancel
        )
    except KeyboardInterrupt:
        raise DownloadCancelled(
            f"Download of model '{entry.id}' interrupted; the partial files are kept and "
            f"`dragoman models download {entry.id}` resumes it."
        ) from None
    finally:
        if bar is not None:
            bar.close()
    print(f"{entry.id}: installed in {path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    store = make_store(args)
    path = store.import_folder(args.path, args.model_id, stage=args.stage)
    print(f"imported into {path}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    store = make_store(args)
    reports = [store.verify(args.model_id)] if args.model_id else store.verify_all()
    if not reports:
        print("no models installed")
        return 0
    bad = []
    for report in reports:
        where = f" ({report.path})" if report.path else ""
        if report.ok:
            print(f"{report.model_id}: ok, {report.files_checked} file(s), {report.source}{where}")
        else:
            bad.append(report.model_id)
            print(f"{report.model_id}: FAILED{where}")
            for problem in report.problems:
                print(f"  - {problem}")
    if bad:
        raise ModelError(
            f"{len(bad)} model(s) failed verification: {', '.join(bad)}. Download them again "
            "(`dragoman models download ID`) or re-import them."
        )
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    store = make_store(args)
    store.remove(args.model_id)
    print(f"removed {args.model_id}")
    return 0
