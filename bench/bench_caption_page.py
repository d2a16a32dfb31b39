"""What the live caption page (engine.captions) costs the engine and how fast browsers see it.

    .venv/bin/python bench/bench_caption_page.py [--events N] [--clients 1 8] [--stalled 1]

For each number of event-stream clients (real HTTP connections on 127.0.0.1 reading /events
with httpx), the engine thread sends N events (a partial every time, a final every 5th, the
text growing like real partials) at a steady 50 per second, and the script prints:

- the engine's cost per call of `Captions(event)` (median / p95 / max microseconds): what the
  engine thread pays, whatever the browsers do;
- delivery latency from the call to each client parsing the message (median / p95 ms);
- messages dropped for slow clients.

`--stalled K` adds K clients that connect and never read (a frozen browser): the engine's cost
must not grow, and they are disconnected after the write timeout. Timings on a shared machine
are noisy: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time

import httpx

from engine.captions import CaptionOptions, Captions
from engine.events import Final, Partial, StageTimes

T = StageTimes()
WORDS = [
    "the",
    "committee",
    "agreed",
    "to",
    "move",
    "the",
    "budget",
    "vote",
    "to",
    "next",
    "thursday",
    "after",
    "lunch",
]


def _events(n: int) -> list[tuple[int, object]]:
    out: list[tuple[int, object]] = []
    seg, words = 1, 0
    for i in range(n):
        words += 1
        text = " ".join(WORDS[j % len(WORDS)] for j in range(words))
        if i % 5 == 4:
            out.append((seg, Final(seg, 0.0, 1.0, text, "en", T, f"S{seg % 3 + 1}")))
            seg, words = seg + 1, 0
        else:
            out.append((seg, Partial(seg, 0.0, 1.0, text, "", "en", T)))
    return out


def _reader(url: str, sent_at: dict[int, float], delays: list[float], stop: threading.Event):
    with httpx.Client(timeout=30) as client, client.stream("GET", url + "events") as reply:
        for line in reply.iter_lines():
            if stop.is_set():
                return
            if line.startswith("data: "):
                now = time.perf_counter()
                seq = json.loads(line[6:])["seq"]
                if seq in sent_at:
                    delays.append(now - sent_at[seq])


def run(n_events: int, clients: int, stalled: int, rate: float) -> None:
    captions = Captions(CaptionOptions(port=0, write_timeout_s=2.0)).start()
    assert captions.url is not None
    sent_at: dict[int, float] = {}
    delays: list[float] = []
    stop = threading.Event()
    readers = [
        threading.Thread(target=_reader, args=(captions.url, sent_at, delays, stop), daemon=True)
        for _ in range(clients)
    ]
    for reader in readers:
        reader.start()
    frozen = []
    for _ in range(stalled):
        sock = socket.create_connection(("127.0.0.1", captions.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        frozen.append(sock)
    deadline = time.monotonic() + 10
    while captions.clients < clients + stalled and time.monotonic() < deadline:
        time.sleep(0.01)
    costs: list[float] = []
    period = 1.0 / rate
    next_at = time.perf_counter()
    for _seg, event in _events(n_events):
        next_at += period
        start = time.perf_counter()
        captions(event)
        end = time.perf_counter()
        costs.append(end - start)
        sent_at[captions.snapshot()["seq"]] = start
        time.sleep(max(0.0, next_at - time.perf_counter()))
    time.sleep(0.5)
    stop.set()
    dropped, still = captions.dropped, captions.clients
    captions.close()
    for sock in frozen:
        sock.close()
    us = sorted(c * 1e6 for c in costs)
    ms = sorted(d * 1e3 for d in delays)
    p95 = lambda xs: xs[int(0.95 * (len(xs) - 1))] if xs else float("nan")  # noqa: E731
    print(
        f"clients={clients:2d} stalled={stalled}  call us: median {statistics.median(us):7.1f}"
        f"  p95 {p95(us):7.1f}  max {us[-1]:8.1f}   delivery ms: "
        + (f"median {statistics.median(ms):6.2f}  p95 {p95(ms):6.2f}" if ms else "n/a")
        + f"  ({len(ms)} msgs)  dropped {dropped}  connected at end {still}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--clients", type=int, nargs="+", default=[0, 1, 8])
    parser.add_argument("--stalled", type=int, default=1)
    args = parser.parse_args()
    for clients in args.clients:
        run(args.events, clients, 0, args.rate)
    if args.stalled:
        run(args.events, 1, args.stalled, args.rate)


if __name__ == "__main__":
    main()
