"""`dragoman speakers enroll NAME AUDIO... | list | remove NAME`.

Errors are raised as DragomanError; the main CLI prints them as one line and exits 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.speakers.profiles import SpeakerProfiles


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `speakers` command to the main parser's subparsers."""
    parser = subparsers.add_parser(
        "speakers",
        help="enroll, list and remove known speakers",
        description="Enrolled speakers are labelled by name in every later run. Only a voice "
        "embedding is stored (under the user data folder), never the audio.",
    )
    sub = parser.add_subparsers(dest="speakers_command", metavar="COMMAND", required=True)

    p = sub.add_parser("enroll", help="learn a person's voice from recordings of them alone")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "audio", metavar="AUDIO", nargs="+", help="audio file(s) of NAME speaking (5-30 s best)"
    )
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("list", help="enrolled speakers")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("remove", help="forget an enrolled speaker")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_remove)
    return parser


def cmd_enroll(args: argparse.Namespace) -> int:
    store = SpeakerProfiles()
    replaced = store.get(args.name) is not None
    profile = store.enroll(args.name, list(args.audio))
    verb = "re-enrolled" if replaced else "enrolled"
    print(f"{verb} {profile.name!r} from {profile.duration_s:.1f} s of audio ({profile.path})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    profiles = SpeakerProfiles().list()
    for p in profiles:
        if args.json:
            record = {
                "name": p.name,
                "model": p.model_id,
                "duration_s": p.duration_s,
                "created_at": p.created_at,
                "path": str(p.path),
            }
            print(json.dumps(record))
        else:
            print(f"{p.name}\t{p.duration_s:.1f} s\t{p.created_at}")
    if not profiles and not args.json:
        print("no enrolled speakers (add one with: dragoman speakers enroll NAME AUDIO)")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    name = SpeakerProfiles().remove(args.name)
    print(f"removed {name!r}")
    return 0
