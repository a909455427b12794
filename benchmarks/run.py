"""`python -m benchmarks.run [--quick] [--output PATH]`: every Backroom benchmark in
one go. Prints the table and writes it to docs/benchmarks.md (full mode) or to
--output. Measures only: nothing here fails on a slow figure."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks import raw, routing
from benchmarks.data import (
    FULL,
    LOCATION,
    QUICK,
    Store,
    add_devices,
    device_token,
    generate,
    insert,
    load,
    order_changes,
)
from benchmarks.hubs import Backend, HubServer, pg_available, pg_checkpoint, pg_version
from benchmarks.report import Row, percentile, render, write_doc
from edge_app.local.outbox import new_op_id
from hub.credentials import create_enrollment_code
from hub.store.db import Database
from sync.kinds import SCHEMA_VERSION

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BATCH = 20  # ops per push request
PULL_PAGE = 5000  # what SyncAgent asks for
GOAL_RATE = {"sqlite": 10_000, "pg1": 5_000, "pg2": 5_000}  # ops/s the issue asks of each hub
BELOW_SATURATION = 0.8  # a second paced run, at this share of the measured saturation rate
BUSY_FLOOR = 1_000  # ops/s: 500 devices each pushing 20 picks every 10 s
# The goal-rate run lasts ~4.5 s (the store's 44,690 picks), so its p99 is the worst ~20
# pushes and moves from run to run: it runs this many times, each on a fresh hub, and
# the row is the run with the median p99, with the range beside it.
GOAL_RUNS = 3


class Plan:
    def __init__(self, quick: bool):
        self.quick = quick
        self.scale = QUICK if quick else FULL
        self.devices = 10 if quick else 500
        self.push_seconds = 1 if quick else 20
        self.goal_runs = 1 if quick else GOAL_RUNS
        self.scan_orders = 10 if quick else 300
        self.pull_changes = 1_000 if quick else 10_000
        self.raw_rows = 5_000 if quick else 50_000
        self.only: set[str] = set()

    def runs(self, part: str) -> bool:
        return not self.only or part in self.only


def machine() -> dict[str, str]:
    mem_kb = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
    info = {"cores": str(os.cpu_count()), "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
            "Python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    info["PostgreSQL"] = pg_version() if pg_available() else "not reachable"
    return info


def python_speed() -> float:
    """ns per iteration of a plain Python loop (best of 5): these shared VMs run the
    same code up to 2x faster or slower from one hour to the next, so the table says
    how fast the machine was at the start and the end of its run."""
    best = float("inf")
    for _ in range(5):
        started, total = time.perf_counter(), 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def workload(store: Store, devices: list[str]) -> list[dict]:
    """Each device's pick.confirmed ops (one per unit) in batches, orders dealt round-robin.

    Op ids are UUIDv7 as the edge makes them (`edge_app.local.outbox.new_op_id`), handed
    out in the order the batches will be pushed (every device's first batch, then
    every device's second…): on a real floor an op is pushed moments after it is
    made, so ids reach the hub in about the order they were made."""
    per_device: list[list[dict]] = [[] for _ in devices]
    lines: dict[str, list[tuple]] = {}
    for line in store.lines:
        lines.setdefault(line[0], []).append(line)
    wall = int(time.time() * 1000)
    for n, order in enumerate(store.orders):
        ops = per_device[n % len(devices)]
        device = devices[n % len(devices)]
        for order_id, line_no, sku, qty, pick_bin, _p, _s in lines[order[0]]:
            if pick_bin is None:
                continue
            for _ in range(qty):
                ops.append({"op_id": "", "device_id": device, "device_seq": len(ops) + 1,
                            "kind": "pick.confirmed", "actor": f"device:{device}", "schema_version": SCHEMA_VERSION,
                            "hlc": f"{wall:015d}:{len(ops):06d}:{device}",
                            "payload": {"order_id": order_id, "line_no": line_no, "bin": pick_bin, "sku": sku, "qty": 1}})
    batched = [[ops[i:i + BATCH] for i in range(0, len(ops), BATCH)] for ops in per_device]
    for n in range(max(map(len, batched), default=0)):
        for batches in batched:
            for op in batches[n] if n < len(batches) else ():
                op["op_id"] = new_op_id()
    return [{"token": device_token(n), "batches": batches} for n, batches in enumerate(batched)]


def run_loadgen(mode: str, spec: dict, work: Path) -> dict:
    path = work / f"spec-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(spec))
    done = subprocess.run([sys.executable, "-m", "benchmarks.loadgen", mode, str(path)], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen {mode} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def hub_run(backend: Backend, label: str, workers: int, plan: Plan, devices: list[dict], work: Path,
            pull: bool) -> tuple[dict | None, dict]:
    """Each on a fresh copy of the store: a device reading the whole feed (pull served)
    and every device pushing back to back (saturation), on one hub start (the pull
    changes only a cursor); then the devices paced at the goal rate, at 80 % of the
    saturation rate just measured, and at a busy floor's rate."""
    pulled, pushes = None, {}
    with HubServer(backend.copy(label), work / "logs", workers=workers) as hub:
        if pull:
            pulled = run_loadgen("pull", {"url": hub.url, "token": device_token(0), "page": PULL_PAGE}, work)
        if plan.runs(label):
            pushes["saturation"] = _push(hub, label, {"concurrency": len(devices)}, plan, devices, work)
    if not plan.runs(label):
        return pulled, pushes
    rates = {"goal": GOAL_RATE[label], "below": pushes["saturation"]["ops_per_s"] * BELOW_SATURATION,
             "floor": BUSY_FLOOR * plan.devices / 500}
    for name, rate in rates.items():
        runs = []
        for n in range(plan.goal_runs if name == "goal" else 1):
            with HubServer(backend.copy(f"{label}_{name}{n}"), work / "logs", workers=workers) as hub:
                runs.append({**_push(hub, label, {"rate": rate}, plan, devices, work), "offered": rate})
        p99s = sorted((percentile(run["latency"], 99) * 1000, n) for n, run in enumerate(runs))
        pushes[name] = {**runs[p99s[len(p99s) // 2][1]], "p99_runs_ms": [p99 for p99, _n in p99s]}
    return pulled, pushes


def _push(hub: HubServer, label: str, pace: dict, plan: Plan, devices: list[dict], work: Path) -> dict:
    pushed = run_loadgen("push", {"url": hub.url, "seconds": plan.push_seconds, "devices": devices, **pace}, work)
    if pushed["errors"]:
        _log(f"{label}: {pushed['errors']} failed pushes, last: {pushed.get('last_error')}; "
             f"hub log tail:\n{hub.log_tail()}")
    answered = sum(pushed.get(k, 0) for k in ("applied", "duplicate", "rejected"))
    pushed["ops_per_s"] = answered / pushed["seconds"]
    return pushed


def edge(backend: Backend, plan: Plan, work: Path) -> dict:
    """Bootstrap, scan→commit and a 10,000-change pull, in an edge process of its own."""
    url = backend.copy("edge")
    with HubServer(url, work / "logs") as hub:
        db = Database(url)
        with db.write() as conn:
            code = create_enrollment_code(conn, LOCATION, "picker")
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.edge_proc", hub.url, code, str(work / "edge"),
                                 str(plan.scan_orders)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            result = json.loads(proc.stdout.readline())
            result.update(json.loads(proc.stdout.readline()))
            _add_changes(db, plan.pull_changes)
            proc.stdin.write("go\n")
            proc.stdin.flush()
            result.update(json.loads(proc.stdout.readline()))
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        db.dispose()
    return result


def _add_changes(db: Database, count: int) -> None:
    """Hub changes a working device would pull: 80 % stock rows, 20 % order snapshots."""
    with db.write() as conn:
        stock = conn.exec_driver_sql(f"SELECT bin, sku, on_hand FROM stock LIMIT {count - count // 5}").all()
        rows = [(LOCATION, "stock", f"{b}|{s}", json.dumps({"location": LOCATION, "bin": b, "sku": s, "on_hand": q}))
                for b, s, q in stock]
        ids = [r[0] for r in conn.exec_driver_sql(f"SELECT id FROM orders ORDER BY id LIMIT {count // 5}")]
        insert(conn, "changes", ("scope", "entity", "key", "data"), rows + order_changes(conn, ids))


def limits(plan: Plan, store: Store, backends: dict[str, Backend], ops: list[dict], work: Path) -> dict:
    out = {}
    rows = raw.oplog_rows(ops[:plan.raw_rows])
    sqlite_url = backends["sqlite"].copy("raw")  # op_log is empty in the base: a hub schema with no ops yet
    out["sqlite_oplog"] = raw.sqlite_insert_rate(sqlite_url[len("sqlite:///"):], rows)
    if "pg" in backends:
        out["pg_oplog"] = raw.pg_insert_rate(backends["pg"].base_url.replace("+psycopg", ""), rows)
    out["replica_seconds"] = raw.replica_insert_seconds(work / "raw-replica", store)
    out["commit_ms"] = raw.commit_latencies(work / "raw-commit", 100 if plan.quick else 2000)
    out["feed_read"] = raw.feed_read_rate(backends["sqlite"].base_url[len("sqlite:///"):], PULL_PAGE)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data and short runs (a smoke test)")
    parser.add_argument("--output", type=Path, default=None, help="where to write the table (default: docs/benchmarks.md in full mode)")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--only", default="", help="comma-separated parts to run (edge, pull, sqlite, pg1, pg2, routing); for profiling")
    args = parser.parse_args(argv)
    plan = Plan(args.quick)
    plan.only = set(filter(None, args.only.split(",")))
    output = args.output or (None if args.quick or plan.only else DOC)
    with tempfile.TemporaryDirectory(prefix="backroom-bench-") as tmp:
        work = Path(tmp)
        backends = {"sqlite": Backend("sqlite", work)}
        if not args.no_pg and pg_available():
            backends["pg"] = Backend("pg", work)
        try:
            table = _run(plan, backends, work)
        finally:
            for backend in backends.values():
                backend.drop_all()
    print(table)
    if output:
        write_doc(output, table)
        print(f"\nwritten to {output}")
    return 0


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _run(plan: Plan, backends: dict[str, Backend], work: Path) -> str:
    info = machine()
    speed_at_start = python_speed()
    _log(f"generating {plan.scale}")
    store = generate(plan.scale)
    device_ids: list[str] = []
    for kind, backend in backends.items():
        _log(f"loading {store.feed_rows} feed rows into {kind}")
        db = backend.open_base()
        load(db, store)
        device_ids = add_devices(db, plan.devices)
        db.dispose()
    devices = workload(store, device_ids)
    ops = [op for d in devices for batch in d["batches"] for op in batch]
    _settle_disk(backends)
    results: dict = {"push": {}, "pull": {}}
    if plan.runs("edge"):
        _log("edge: bootstrap, scan→commit, pull")
        results["edge"] = edge(backends["sqlite"], plan, work)
    for label, kind, workers in (("sqlite", "sqlite", 1), ("pg1", "pg", 1), ("pg2", "pg", 2)):
        pull = workers == 1 and plan.runs("pull")
        if kind in backends and (pull or plan.runs(label)):
            _log(f"hub: {'pull served, ' if pull else ''}push ingest {label}")
            pulled, pushed = hub_run(backends[kind], label, workers, plan, devices, work, pull)
            if pulled:
                results["pull"][kind] = pulled
            if pushed:
                results["push"][label] = pushed
    if plan.runs("routing"):
        _log("routing: decisions and a rebroker pass (benchmarks.routing)")
        results["routing"] = routing_figures(plan, backends)
    if plan.only:  # a partial run for profiling: the figures, no table
        return json.dumps(_summary(results), indent=1)
    _log("raw limits")
    results["raw"] = limits(plan, store, backends, ops, work)
    if plan.runs("what_if"):  # what-if replay of a busy week's log (benchmarks.what_if; issue 20: ≥ 20,000 ops/s)
        _log("what-if replay")
        from benchmarks import what_if

        # quick: a small log on a network of 10,000 SKUs (the full set-up's imports alone take a minute)
        results["what_if"] = what_if.run(500, 10_000) if plan.quick else what_if.run(what_if.DEFAULT_OPS, 100_000)
    info["Python loop (ns/iteration, start → end of run)"] = f"{speed_at_start:.0f} → {python_speed():.0f}"
    return render(rows(plan, store, results), info)


def _settle_disk(backends: dict[str, Backend]) -> None:
    """Write out what loading the stores left dirty before timing anything: the edge
    figures once came out 5× slower while PostgreSQL was still writing its load back."""
    if "pg" in backends:
        pg_checkpoint()
    os.sync()


def _summary(results: dict) -> dict:
    out = {k: v for k, v in results.items() if k != "push"}
    if "edge" in out:
        scan = out["edge"]["scan"].pop("samples_ms")
        out["edge"]["scan"].update(p50=percentile(scan, 50), p99=percentile(scan, 99), n=len(scan))
    for label, runs in results["push"].items():
        for name, p in runs.items():
            lat = [x * 1000 for x in p.pop("latency")]
            sent = p.pop("sent")
            behind = p.pop("behind")
            out[f"{label} {name}"] = {**p, "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
                                      "p99_after_first_second_ms": percentile(_after_first_second(lat, sent), 99),
                                      "behind_p99_ms": percentile(behind, 99) * 1000}
    return out


def _ms(x: float) -> str:
    return f"{x:.2f} ms"


def _rate(x: float, unit: str) -> str:
    return f"{x:,.0f} {unit}"


def _after_first_second(latency: list[float], sent: list[float]) -> list[float]:
    """The latencies of pushes sent once the run was a second old: a hub's writer
    starts cold (for up to a second its CPU per op is ~1.5x, docs/benchmarks.md)."""
    return [x for x, at in zip(latency, sent) if at >= 1.0]


def _push_rows(plan: Plan, label: str, runs: dict, name: str, goal: str, limit: float) -> list[Row]:
    """Saturation: ops/s against the raw insert rate. Paced runs: latency at an offered rate."""
    out = []
    for run, p in runs.items():
        lat = [x * 1000 for x in p["latency"]]
        counts = f"{p.get('applied', 0):,} applied, {p.get('duplicate', 0)} dup, {p.get('rejected', 0)} rejected, {p['errors']} errors"
        if run == "saturation":
            figure = f"hub: push ingest, {name}, {plan.devices} devices pushing {BATCH}-op batches back to back ({counts})"
            out.append(Row(figure, f"{_rate(p['ops_per_s'], 'ops/s')}; push p50 {_ms(percentile(lat, 50))}",
                           _ms(percentile(lat, 95)), _ms(percentile(lat, 99)), goal, _rate(limit, "op_log rows/s"),
                           f"{p['ops_per_s'] / max(limit, 1e-9):.1%}"))
            continue
        at = {"goal": "the goal rate", "below": f"{BELOW_SATURATION:.0%} of saturation", "floor": "a busy floor's rate"}[run]
        behind = percentile(p["behind"], 99) * 1000
        steady = _after_first_second(lat, p["sent"])
        figure = (f"hub: push latency, {name}, {plan.devices} devices paced at {at} ({_rate(p['offered'], 'ops/s')}): "
                  f"{_rate(p['ops_per_s'], 'ops/s')} answered, pushes up to {behind:.0f} ms behind their pace"
                  + (f"; p99 of the pushes after the first second {_ms(percentile(steady, 99))}" if steady else "")
                  + f" ({counts})")
        p99 = _ms(percentile(lat, 99))
        if len(p["p99_runs_ms"]) > 1:
            p99 += f" (median of {len(p['p99_runs_ms'])} runs: " + ", ".join(_ms(x) for x in p["p99_runs_ms"]) + ")"
        out.append(Row(figure, f"p50 {_ms(percentile(lat, 50))}", _ms(percentile(lat, 95)), p99,
                       "p99 ≤ 100 ms" if run == "goal" else ""))
    return out


def rows(plan: Plan, store: Store, res: dict) -> list[Row]:
    e, r = res["edge"], res["raw"]
    scan = e["scan"]["samples_ms"]
    boot = e["bootstrap"]
    boot_rate = boot["changes"] / boot["seconds"]
    raw_boot = store.feed_rows / r["replica_seconds"]
    pull_rate = e["pull"]["changes"] / e["pull"]["seconds"]
    out = [
        Row(f"edge: scan→commit, pick confirmation ({len(scan)} picks)", _ms(percentile(scan, 50)), _ms(percentile(scan, 95)),
            _ms(percentile(scan, 99)), "p99 ≤ 2 ms", f"{_ms(percentile(r['commit_ms'], 50))} / p99 {_ms(percentile(r['commit_ms'], 99))} (1-row commit)",
            f"{percentile(r['commit_ms'], 50) / max(percentile(scan, 50), 1e-9):.0%}"),
        Row(f"edge: bootstrap of the scope ({boot['changes']:,} changes, {boot['seconds']:.1f} s)", _rate(boot_rate, "rows/s"),
            goal="≥ 50,000 rows/s", limit=_rate(raw_boot, "rows/s (executemany)"), fraction=f"{boot_rate / raw_boot:.0%}"),
        Row(f"edge: apply a pull of {e['pull']['changes']:,} changes", _rate(pull_rate, "changes/s"),
            limit=_rate(raw_boot, "rows/s (executemany)"), fraction=f"{pull_rate / raw_boot:.0%}"),
        Row("edge: peak RSS of the edge process", f"{e['rss_mb']:.0f} MB", goal="≤ 150 MB"),
    ]
    names = {"sqlite": "SQLite, 1 process", "pg1": "PostgreSQL, 1 worker", "pg2": "PostgreSQL, 2 workers"}
    goals = {label: f"≥ {rate:,} ops/s" for label, rate in GOAL_RATE.items()}
    for label, runs in res["push"].items():
        out.extend(_push_rows(plan, label, runs, names[label], goals[label],
                              r["sqlite_oplog"] if label == "sqlite" else r.get("pg_oplog", 0)))
    for label, p in res["pull"].items():
        rate = p["changes"] / p["seconds"]
        limit = f"{_rate(r['feed_read'], 'rows/s (SQL only)')}" if label == "sqlite" else ""
        frac = f"{rate / r['feed_read']:.0%}" if label == "sqlite" else ""
        out.append(Row(f"hub: pull served, {'SQLite' if label == 'sqlite' else 'PostgreSQL'} ({p['changes']:,} changes, pages of {PULL_PAGE:,})",
                       _rate(rate, "changes/s"), limit=limit, fraction=frac))
    out.append(Row("raw: SQLite executemany into op_log (WAL, synchronous=FULL, 10k rows/txn)", _rate(r["sqlite_oplog"], "rows/s")))
    if "pg_oplog" in r:
        out.append(Row("raw: PostgreSQL executemany into op_log (10k rows/txn)", _rate(r["pg_oplog"], "rows/s")))
    out.append(Row("raw: replica executemany of the scope's rows (one txn)", _rate(raw_boot, "rows/s")))
    out.append(Row("raw: one-row commit on the replica (WAL, synchronous=FULL)", _ms(percentile(r["commit_ms"], 50)),
                   _ms(percentile(r["commit_ms"], 95)), _ms(percentile(r["commit_ms"], 99))))
    if "what_if" in res:  # benchmarks.what_if: the log is smaller than the goal's by default (its docstring)
        w = res["what_if"]
        out.append(Row(f"hub: what-if replay of a week's log ({w['ops']:,} ops, {w['orders']:,} orders, 200 locations, "
                       f"SQLite scratch; built at {w['ops'] / w['build_s']:,.0f} ops/s)", _rate(w["ops_per_s"], "ops/s"),
                       goal="≥ 20,000 ops/s over ≥ 1,000,000 ops"))
    out.extend(routing_rows(res.get("routing", {})))
    return out


# -- routing (issue 20): benchmarks.routing's figures beside the rest ------------------------------
ROUTING_FULL = (100_000, 1_000, 10_000)  # SKUs, orders decided, orders parked for the pass
ROUTING_QUICK = (10_000, 50, 500)  # a tenth of the catalogue, each location holding a tenth as many (held_count)


def routing_figures(plan: Plan, backends: dict[str, Backend]) -> dict:
    """benchmarks.routing on SQLite and, when it runs here, PostgreSQL (its own scratch databases)."""
    skus, orders, parked = ROUTING_QUICK if plan.quick else ROUTING_FULL
    return routing.measure_backends(skus, orders, parked, pg="pg" in backends)


def routing_rows(figures: dict) -> list[Row]:
    out = []
    for label, f in figures.items():
        name = "SQLite" if label == "sqlite" else "PostgreSQL"
        out += [
            Row(f"routing: decision, {name} ({f['orders']:,} orders; 200 locations, {f['skus']:,} SKUs)",
                _ms(f["decision_p50"]), p99=_ms(f["decision_p99"]), goal=f"p99 ≤ {routing.GOAL_DECISION_P99_MS:g} ms"),
            Row(f"routing: whole `order.accepted` (decision, reservations, log), {name}", _ms(f["command_p50"]),
                p99=_ms(f["command_p99"])),
            Row(f"routing: rebroker pass over {f['parked']:,} parked orders, {name} ({f['rebroker_message']})",
                f"{f['rebroker_s']:.2f} s", goal=f"≤ {routing.GOAL_REBROKER_S:g} s"),
        ]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
