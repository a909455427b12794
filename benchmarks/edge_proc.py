"""The edge side of the benchmark, run as its own process so its peak RSS is the
device's alone: `python -m benchmarks.edge_proc HUB_URL CODE DATA_DIR ORDERS`.

Talks to the parent over stdin/stdout, one JSON object a line:
bootstrap → {"bootstrap": …}; scan→commit samples → {"scan": …}; then it waits for
a line on stdin (the parent adds 10,000 changes at the hub) and pulls them →
{"pull": …, "rss": …}."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

from edge_app.agent import RoundReport, SyncAgent, hub_client
from edge_app.enroll import enroll
from edge_app.local.replica import Replica
from edge_app.process import settle_after_start
from edge_app.workflows.pick_list import BIN_PREFIX, open_orders
from edge_app.workflows.picking import PickSession


def _say(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def peak_rss_mb() -> float:
    """VmHWM from /proc (ru_maxrss as the fallback), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _pull(agent: SyncAgent) -> tuple[int, float]:
    report = RoundReport()
    started = time.perf_counter()
    await agent.pull(report)
    return report.pulled, time.perf_counter() - started


def scan_samples(replica: Replica, orders: int) -> list[float]:
    """Pick `orders` orders line by line; the time of each line's last-unit scan
    (which confirms the pick: local effect + outbox op, committed), in ms."""
    samples = []
    for summary in open_orders(replica)[:orders]:
        session = PickSession(replica, summary.id, "bench")
        while session.current is not None and session.current.bin is not None:
            line = session.current
            barcode = replica.query_one("SELECT code FROM barcodes WHERE sku = ? ORDER BY code LIMIT 1", (line.sku,))["code"]
            session.scan(BIN_PREFIX + line.bin)
            for _ in range(line.open_qty - 1):
                session.scan(barcode)
            started = time.perf_counter_ns()
            feedback = session.scan(barcode)
            samples.append((time.perf_counter_ns() - started) / 1e6)
            if not feedback.ok:
                raise SystemExit(f"pick refused: {feedback.message}")
    return samples


async def main(hub_url: str, code: str, data_dir: str, orders: int) -> None:
    replica = Replica(data_dir)
    settle_after_start()  # as `backroom edge serve` and `edge sync` do once started
    await enroll(replica, hub_url, code, "bench edge")
    async with hub_client(replica, timeout=120.0) as client:
        agent = SyncAgent(replica, client)
        rows, seconds = await _pull(agent)
        _say({"bootstrap": {"changes": rows, "seconds": seconds, "rss_mb": peak_rss_mb()}})
        samples = scan_samples(replica, orders)
        queued = replica.query_one("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")["n"]
        _say({"scan": {"samples_ms": samples, "outbox": queued}})
        sys.stdin.readline()  # the parent has added the changes to pull
        rows, seconds = await _pull(agent)
        _say({"pull": {"changes": rows, "seconds": seconds}, "rss_mb": peak_rss_mb()})
    replica.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
