"""`make soak`: many seeded schedules (10,000 unless told), with a progress bar, a
summary of the faults injected and the invariants checked, and for any violation the
seed, the command that replays it and its steps. Not part of `make test`.

    python -m simulator.soak --schedules 10000 [--seed 1] [--steps 300] [--devices 4]
"""

from __future__ import annotations

import argparse
import sys
import time

from simulator.run import STEPS, ScheduleResult, run_many

__all__ = ["main"]

# What every schedule checks (simulator.checks), said once in the summary.
INVARIANTS = ("no oversell, after every step", "each op's effect at most once, after every step",
              "device order and no gap in each device's log, after every step",
              "no op a device holds as answered missing at the hub (once it synced after a hub restore)",
              "at quiescence: every replica equals the hub for its scope",
              "at quiescence: outboxes and overlays empty", "at quiescence: the log replays to the same digest",
              "every 10 steps: each order routed to the one location holding its reservations, or parked holding none",
              "every 10 steps: no reservation where the location never stocked the SKU",
              "every 10 steps: a linked order (split, remainder, rejected line) keeps its root's promise",
              "every 10 steps: each routing decision names every location its rules could choose, with reasons",
              "every 10 steps: a revoked handheld's log never grows and it holds no claim on an order being picked",
              "at quiescence: the replay reaches the same routing decisions (folded into the digest)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    failed: list[ScheduleResult] = []
    done = [0, 0]  # schedules, ops

    def progress(result: ScheduleResult) -> None:
        done[0] += 1
        done[1] += result.ops
        if result.violations:
            failed.append(result)
        _bar(done[0], args.schedules, done[1], len(failed), time.monotonic() - started)

    results = run_many(args.seed, args.schedules, args.devices, args.steps, progress)
    sys.stderr.write("\n")
    _summary(results, failed, args, time.monotonic() - started)
    return 1 if failed else 0


def _bar(done: int, total: int, ops: int, failed: int, elapsed: float) -> None:
    width = 40
    filled = width * done // max(total, 1)
    left = elapsed / done * (total - done) if done else 0
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} schedules, {ops} ops, "
                     f"{failed} failed, {elapsed:.0f} s, ~{left:.0f} s left ")
    sys.stderr.flush()


def _summary(results: list[ScheduleResult], failed: list[ScheduleResult], args: argparse.Namespace, elapsed: float) -> None:
    faults: dict[str, int] = {}
    for r in results:
        for kind, n in r.faults.items():
            faults[kind] = faults.get(kind, 0) + n
    restores = sum(1 for r in results for line in r.steps if "restored from its backup" in line)
    crashes = sum(1 for r in results for line in r.steps if "crashes" in line)
    restarts = sum(1 for r in results for line in r.steps if line.endswith("hub restarts"))
    ops = sorted(r.ops for r in results) or [0]
    idle = sum(1 for r in results for n in r.ops_by_device.values() if n == 0)
    print(f"soak: {len(results)} schedules of {args.steps} steps, {args.devices} devices, seeds {args.seed}.."
          f"{args.seed + len(results) - 1}, {elapsed:.0f} s")
    print("faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items()))
          + f", device crashes {crashes}, hub restarts {restarts}, hub restores from backup {restores}")
    steps: dict[str, int] = {}
    for r in results:
        for kind, n in r.step_counts.items():
            steps[kind] = steps.get(kind, 0) + n
    print("routing, claims and handheld steps: " + ", ".join(f"{k} {v}" for k, v in sorted(steps.items())))
    print(f"ops: {sum(ops)} (per schedule min {ops[0]}, median {ops[len(ops) // 2]}, max {ops[-1]}); "
          f"devices that did nothing: {idle}")
    print("invariants checked: " + "; ".join(INVARIANTS))
    for result in failed:
        print(f"\nVIOLATION, seed {result.seed}; replay: backroom simulate --devices {args.devices} --steps {args.steps} "
              f"--schedules 1 --seed {result.seed} --verbose")
        for v in result.violations:
            print(f"  {v}")
        for line in result.steps:
            print(f"    {line}")
    print(f"{len(results)} schedules, {sum(ops)} ops, {sum(len(r.violations) for r in results)} violations")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--devices", type=int, default=4)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
