"""How responsive the desktop app's UI thread stays (offscreen Qt, real engine).

    .venv/bin/python bench/gui_responsiveness.py [--clip chan3.wav] [--lines 2000]

Prints the event-loop delay (how late a 10 ms timer fires: max, p99, median) while the models
preload and while a clip is interpreted at real-time pace, and the cost of one partial update of
the transcript view holding N lines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


class Probe:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.delays: list[float] = []
        self.last: float | None = None
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.monotonic()
        if self.last is not None:
            self.delays.append(max(now - self.last - 0.010, 0.0))
        self.last = now

    def report(self, label: str) -> None:
        d = sorted(self.delays) or [0.0]
        p99 = d[min(len(d) - 1, int(len(d) * 0.99))]
        print(
            f"{label:<28} max {d[-1] * 1000:6.0f} ms   p99 {p99 * 1000:5.0f} ms   "
            f"median {statistics.median(d) * 1000:4.1f} ms   ({len(d)} ticks)"
        )


def wait(app, predicate, timeout: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clip", default="chan3.wav")
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from app.controller import AppController
    from app.settings import Settings
    from app.theme import apply_theme
    from engine.session import SessionLine

    app = QApplication([])
    apply_theme(app)
    settings = Settings()
    settings.ui.preload_models = False
    settings.ui.source = str((REPO / ".." / "shared" / "data" / "speech" / args.clip).resolve())
    c = AppController(settings)
    c.window.resize(1100, 700)
    c.show()

    probe = Probe()
    probe.timer.start()
    t0 = time.monotonic()
    c.preload()
    wait(app, lambda: not c.preloading, 300)
    probe.timer.stop()
    probe.report(f"preload ({time.monotonic() - t0:.1f} s)")

    probe = Probe()
    probe.timer.start()
    t0 = time.monotonic()
    c.start()
    wait(app, lambda: c.state != "idle", 30)
    wait(app, lambda: c.state == "idle", 600)
    probe.timer.stop()
    probe.report(f"run of {args.clip} ({time.monotonic() - t0:.1f} s)")
    print(f"lines: {len(c.session)}")

    view = c.window.subtitles
    for i in range(args.lines):
        view.upsert(
            SessionLine(
                10_000 + i,
                100.0 + i * 3,
                102.0 + i * 3,
                f"sentence {i} of a long meeting, long enough to wrap once at "
                "this width of the window",
                f"S{i % 4}",
                "en",
                True,
                f"frase {i} de una reunión larga",
                "es",
            )
        )
    app.processEvents()
    costs = []
    for k in range(30):
        t = time.perf_counter()
        view.upsert(
            SessionLine(99_999, 1e6, 1e6 + 2, "growing partial " * (k // 3 + 1), "S1", "en", False)
        )
        app.processEvents()
        costs.append(time.perf_counter() - t)
    print(
        f"partial update with {view.row_count()} lines: median "
        f"{statistics.median(costs) * 1000:.1f} ms, max {max(costs) * 1000:.1f} ms"
    )
    c.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
