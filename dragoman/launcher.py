"""Entry point of the `dragoman` command: one decision, then hand over.

- `dragoman [APP OPTIONS] [AUDIO FILE]` starts the desktop app (`app.main`);
- `dragoman COMMAND ...` (run, devices, models, speakers, serve) and `dragoman --version` run the
  engine's command line (`engine.cli`), which knows nothing of the app.

The first word that is not an option decides. Neither side is imported before it is chosen, so a
headless `dragoman run` never loads the GUI modules.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

# Options of the desktop app that take a value: the word after them is not the command.
_APP_OPTIONS_WITH_VALUE = ("--input",)
_HELP = ("-h", "--help")


def first_word(args: Sequence[str]) -> str | None:
    """The first argument that is neither an option nor an app option's value."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--":
            return None
        elif arg.startswith("-") and arg != "-":
            skip = arg in _APP_OPTIONS_WITH_VALUE
        else:
            return arg
    return None


def combined_help() -> str:
    """The command line's help followed by the desktop app's options."""
    from app.main import build_parser
    from engine.cli import make_parser

    app_help = build_parser().format_help()
    app_options = app_help[app_help.index("positional arguments:") :].strip("\n")
    return (
        f"{make_parser().format_help()}\n"
        "Without a command the desktop app starts:\n"
        "  dragoman [--tray] [--input SPEC] [--start] [-v] [AUDIO_FILE]\n\n"
        f"{app_options}\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    word = first_word(args)
    if word is None and any(arg in _HELP for arg in args):
        print(combined_help(), end="")
        return 0
    if word is None and "--version" in args:
        word = "--version"
    if word is not None:
        from engine.cli import command_names

        if word in command_names() or word == "--version":
            from engine.cli import main as cli_main

            return cli_main(args)
        if not Path(word).exists():
            commands = ", ".join(command_names())
            print(
                f"dragoman: error: {word!r} is neither a command ({commands}) nor an audio file",
                file=sys.stderr,
            )
            return 2
    from app.main import main as app_main

    return app_main(args)
