"""`backroom simulate`."""

from __future__ import annotations

import click

from simulator.run import STEPS, ScheduleResult, run_many


@click.command()
@click.option("--devices", default=4, show_default=True, help="Devices per schedule (store pickers and dark-store terminals).")
@click.option("--schedules", default=100, show_default=True, help="How many seeded schedules to run.")
@click.option("--seed", default=1, show_default=True, help="Schedule k runs with seed SEED + k.")
@click.option("--steps", default=STEPS, show_default=True, help="Steps per schedule before quiescence.")
@click.option("--verbose", is_flag=True, help="Print every schedule's steps.")
def simulate(devices: int, schedules: int, seed: int, steps: int, verbose: bool) -> None:
    """Run seeded fault schedules against the real hub and device code and check the sync contract.

    Faults: dropped requests, lost responses (after the hub acted), duplicated and
    delayed requests delivered out of order, partitions, device crashes, hub restarts,
    a hub restored from its backup, a handheld reset or swapped (revoked). Orders are also
    routed by the hub across a four-location network, parked, re-brokered and turned away.
    Exits 1 if any schedule broke an invariant, printing its seed and steps."""
    failed: list[ScheduleResult] = []

    def progress(result: ScheduleResult) -> None:
        if result.violations:
            failed.append(result)
        if verbose or schedules <= 100:
            per_device = " ".join(f"{name} {n}" for name, n in result.ops_by_device.items())
            click.echo(f"seed {result.seed}: {result.ops} ops ({per_device}), faults {result.faults}")
        if verbose:
            for line in result.steps:
                click.echo(f"    {line}")

    results = run_many(seed, schedules, devices, steps, progress)
    ops = sum(r.ops for r in results)
    violations = sum(len(r.violations) for r in results)
    faults: dict[str, int] = {}
    for r in results:
        for k, v in r.faults.items():
            faults[k] = faults.get(k, 0) + v
    for result in failed:
        click.echo(f"\nVIOLATION in schedule with seed {result.seed}; replay: backroom simulate --devices {devices} --steps {steps} --schedules 1 --seed {result.seed} --verbose")
        for v in result.violations:
            click.echo(f"  {v}")
        for line in result.steps:
            click.echo(f"    {line}")
    click.echo("faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())))
    kinds: dict[str, int] = {}
    for r in results:
        for k, v in r.step_counts.items():
            kinds[k] = kinds.get(k, 0) + v
    click.echo("routing, claims and handheld steps: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    per_schedule = sorted(r.ops for r in results) or [0]
    idle = sum(1 for r in results for n in r.ops_by_device.values() if n == 0)
    click.echo(f"ops per schedule: min {per_schedule[0]}, median {per_schedule[len(per_schedule) // 2]}, "
               f"max {per_schedule[-1]}; devices that did nothing: {idle}")
    click.echo(f"{schedules} schedules, {ops} ops, {violations} violations")
    if violations:
        raise SystemExit(1)
