"""What a second app host costs: CPU seconds per message, summed over every process on every host
(web, worker, Rasa, actions on the app hosts; Redis and the Sentinels), with one app host and with
two, under the same load (tests/cluster.py: hosts made of network namespaces; root only).

Usage: .venv/bin/python bench/cluster.py [--conversations 50] [--messages 10] [--gap 1.0]
The hosts share this machine's two cores, so messages per second cannot double here; CPU per
message shows what would on real hosts (issue 18: two hosts at most 1.15 x one).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster import answered_all, cluster, converse  # noqa: E402
from tests.servers import ROOT  # noqa: E402

LOGS = ROOT / "results" / "bench-cluster"


def measure(app_hosts: int, conversations: int, messages: int, gap: float) -> tuple[float, float]:
    """(CPU seconds per message, messages answered per second) with `app_hosts` app hosts."""
    with cluster(app_hosts, LOGS / f"{app_hosts}-hosts") as running:
        # A first round loads what Rasa loads on first use; it is not counted.
        warm = [uuid.uuid4().hex for _ in range(conversations)]
        load = asyncio.run(converse(running, warm, 2, gap))
        if not answered_all(running, load, warm, 120):
            raise SystemExit("the warm-up was not answered")
        clients = [uuid.uuid4().hex for _ in range(conversations)]
        cpu, started = running.cpu_seconds(), time.monotonic()
        load = asyncio.run(converse(running, clients, messages, gap))
        if load.refused or not answered_all(running, load, clients, 300):
            raise SystemExit("not every message was accepted and answered")
        seconds = time.monotonic() - started
        used = running.cpu_seconds() - cpu
        count = len(load.accepted)
        return used / count, count / seconds


def main() -> None:
    """Measures with one app host, then two, and prints both and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between a page's messages")
    args = parser.parse_args()
    figures = {}
    for hosts in (1, 2):
        print(f"== {hosts} app host(s): starting", flush=True)  # noqa: T201
        figures[hosts] = measure(hosts, args.conversations, args.messages, args.gap)
    total = args.conversations * args.messages
    print(f"\n{total} messages from {args.conversations} pages, one every {args.gap} s each")  # noqa: T201
    print("app hosts  CPU s per message  messages/s")  # noqa: T201
    for hosts, (cpu, rate) in figures.items():
        print(f"{hosts:>9}  {cpu:>17.4f}  {rate:>10.1f}")  # noqa: T201
    print(f"two hosts / one: {figures[2][0] / figures[1][0]:.2f} x the CPU per message")  # noqa: T201


if __name__ == "__main__":
    main()
