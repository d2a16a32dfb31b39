"""A screenshot of the live caption page (engine.captions) in headless Chromium, with a few
sample captions: two speakers, translations, and a partial line still being spoken.

    .venv/bin/python tools/caption_page_shot.py [--out caption-page.png] [--query "size=36"]
        [--size 1280x360] [--backdrop]

The PNG keeps the page's transparency (what OBS composites over the video); --backdrop paints
a dark grey behind it instead, to look at it in an image viewer that shows transparency as white.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.captions import CaptionOptions, Captions  # noqa: E402
from engine.events import Final, Partial, SpeakerChanged, StageTimes, Translation  # noqa: E402

T = StageTimes()
SAMPLE = [
    (
        "S1",
        "Good morning everyone, thanks for joining.",
        "Guten Morgen zusammen, danke fürs Kommen.",
    ),
    ("Alice", "Let's start with the budget for next year.", "Beginnen wir mit dem Budget."),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("caption-page.png"))
    parser.add_argument("--query", default="", help="the page's query, e.g. size=48&lines=2")
    parser.add_argument("--size", default="1280x360", help="window size WIDTHxHEIGHT")
    parser.add_argument("--backdrop", action="store_true", help="dark grey instead of alpha")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (installers/apt-packages.txt)", file=sys.stderr)
        return 1
    with Captions(CaptionOptions(port=0)) as captions, tempfile.TemporaryDirectory() as profile:
        for seg, (who, text, translated) in enumerate(SAMPLE, start=1):
            captions(SpeakerChanged(None, who))
            captions(Final(seg, seg, seg + 1, text, "en", T, who))
            captions(Translation(seg, seg, seg + 1, text, "en", translated, "de", who, "m", {}, T))
        captions(Partial(3, 3.0, 4.0, "I think we", "should cut", "en", T))
        width, height = args.size.split("x")
        proc = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--default-background-color=" + ("303030ff" if args.backdrop else "00000000"),
                f"--screenshot={args.out.resolve()}",
                f"{captions.url}?{args.query}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if proc.returncode != 0 or not args.out.exists():
        print(proc.stderr[-2000:], file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
