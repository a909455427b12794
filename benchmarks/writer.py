"""`python -m benchmarks.writer sqlite|pg [PUSHES_PER_GROUP] [--profile]`: the hub's
writer alone, without HTTP and without the writer process's socket.

Loads the benchmark store, builds every device's pushes (20 picks each, in push
order), then hands them to the group-commit writer as it does under load, a
group of PUSHES_PER_GROUP (default 64) pushes at a time, in the calling thread.
Prints ops/s, wall and CPU µs per op (and PostgreSQL's CPU), and where a group's
time goes: prepare (bulk reads), apply (the handlers), write-back, feed, op log,
commit. `--profile` adds cProfile's top functions. Measures, asserts nothing:
the ceiling the HTTP figures of `make bench` approach."""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path

from benchmarks.data import FULL, LOCATION, add_devices, generate, load
from benchmarks.hubs import Backend
from benchmarks.run import workload
from hub import feed
from hub.api import push as ops
from hub.credentials import Device
from hub.domain import pick_state
from hub.store import group_commit
from hub.store.db import Database
from sync.models import PushRequest

_PHASES = {"prepare: bulk reads": (group_commit, "_prepare"), "write-back: orders": (pick_state, "_write_orders"),
           "write-back: movements + stock": (pick_state, "_write_movements"), "feed": (feed, "flush"),
           "op log": (ops, "write_log")}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("backend", choices=["sqlite", "pg"])
    parser.add_argument("per_group", nargs="?", type=int, default=64)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="backroom-writer-") as tmp:
        backend = Backend(args.backend, Path(tmp))
        try:
            _run(backend, args.per_group, args.profile)
        finally:
            backend.drop_all()
    return 0


def _run(backend: Backend, per_group: int, profile: bool) -> None:
    store = generate(FULL)
    base = backend.open_base()
    load(base, store)
    ids = add_devices(base, 500)
    base.dispose()
    db = Database(backend.copy("writer"))
    groups = _groups(workload(store, ids), ids, per_group)
    spent = _time_phases()
    gc.freeze()  # as the writer process does once started
    profiler = cProfile.Profile() if profile else None
    before, pg_before, started = resource.getrusage(resource.RUSAGE_SELF), _postgres_cpu(), time.perf_counter()
    if profiler:
        profiler.enable()
    for group in groups:
        db.group_commit._write([(work, Future()) for work in group])
    if profiler:
        profiler.disable()
    seconds, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
    n = sum(len(work.ops) for group in groups for work in group)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"{backend.kind}: {n:,} picks in groups of {per_group} pushes: {n / seconds:,.0f} ops/s, "
          f"{seconds / n * 1e6:.0f} µs/op wall, {cpu / n * 1e6:.0f} µs/op CPU"
          + (f", PostgreSQL {(_postgres_cpu() - pg_before) / n * 1e6:.0f} µs/op CPU" if backend.kind == "pg" else ""))
    for phase, total in spent.items():
        print(f"  {total / n * 1e6:6.1f} µs/op  {phase}")
    print(f"  {(seconds - sum(spent.values())) / n * 1e6:6.1f} µs/op  the rest: the handlers, begin and commit")
    db.dispose()
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def _groups(devices: list[dict], ids: list[str], per_group: int) -> list[list]:
    works = []
    for n in range(max(len(d["batches"]) for d in devices)):
        for i, d in enumerate(devices):
            if n < len(d["batches"]):
                device = Device(ids[i], "bench", LOCATION, "picker")
                works.append(ops._PushWork(device, PushRequest.model_validate({"ops": d["batches"][n]}).ops))
    return [works[i:i + per_group] for i in range(0, len(works), per_group)]


def _time_phases() -> dict[str, float]:
    spent: dict[str, float] = defaultdict(float)
    for phase, (module, name) in _PHASES.items():
        setattr(module, name, _timed(getattr(module, name), phase, spent))
    return spent


def _timed(fn, phase: str, spent: dict[str, float]):
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[phase] += time.perf_counter() - started
    return timed


def _postgres_cpu() -> float:
    """CPU seconds of every postgres process on this machine (utime + stime)."""
    total = 0
    for pid in subprocess.run(["pgrep", "postgres"], capture_output=True, text=True).stdout.split():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / 100


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
