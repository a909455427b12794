"""Running schedules: each is seeded, so a failing one replays exactly with
`backroom simulate --schedules 1 --seed <its seed>`."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from hub.seed import DARK_STORE, DEMO_LOCATION
from simulator import checks
from simulator.network import Faults, Network
from simulator.workload import World, step
from simulator.world import HubTemplate, SimDevice, SimHub

__all__ = ["ScheduleResult", "run_schedule", "run_many", "STEPS"]


@dataclass
class ScheduleResult:
    seed: int
    ops: int = 0
    ops_by_device: dict[str, int] = field(default_factory=dict)  # every device must do real work
    steps: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    step_counts: dict[str, int] = field(default_factory=dict)  # routing, claims, swaps, resets, restores


@contextmanager
def _seeded_uuids(rng: random.Random) -> Iterator[None]:
    """Op and order ids from the schedule's RNG, so a replay takes the same paths."""
    real = uuid.uuid4
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
    try:
        yield
    finally:
        uuid.uuid4 = real


def _scratch() -> str:
    # Schedules write many small SQLite files; memory-backed storage keeps fsync cheap.
    return tempfile.mkdtemp(prefix="backroom-sim-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


_template: HubTemplate | None = None


def _hub_template() -> HubTemplate:
    global _template
    if _template is None:
        with _seeded_uuids(random.Random(0)):
            _template = HubTemplate(Path(_scratch()))
    return _template


async def _run(seed: int, devices: int, steps: int, folder: Path) -> ScheduleResult:
    rng = random.Random(seed)
    result = ScheduleResult(seed)
    template = _hub_template()
    with _seeded_uuids(random.Random(seed ^ 0x5EED)):
        hub = SimHub(folder, template)
        network = Network(rng, Faults(), hub.transport)
        roles = [(DEMO_LOCATION, "picker"), (DARK_STORE, "terminal"), (DEMO_LOCATION, "associate"), (DARK_STORE, "picker")]
        fleet = [SimDevice(f"dev{i}", folder / f"dev{i}", *roles[i % len(roles)]) for i in range(devices)]
        for device in fleet:
            await device.enroll(hub, network)
        for device in fleet:  # enrolled devices pull their scope before work starts, so each has work to do
            await device.bootstrap(tries=3)
        world = World(rng, hub, fleet, network, steps)
        try:
            for n in range(steps):
                world.step_no = n
                line = await step(world)
                if line:
                    result.steps.append(f"{n:3d} {line}")
                problems = checks.after_step(hub, fleet, n)
                if problems:
                    result.violations += [f"after step {n}: {p}" for p in problems]
                    break
            if not result.violations:
                network.partitioned.clear()
                network.faults = Faults(0, 0, 0)
                await network.deliver_delayed(len(network.in_flight))
                result.violations += [f"at quiescence: {p}" for p in await checks.at_quiescence(hub, fleet)]
            result.ops_by_device = {d.name: _ops_recorded(hub, d) for d in fleet}
            result.ops = sum(result.ops_by_device.values())
            result.faults = dict(network.counts)
            result.step_counts = dict(world.counts)
        except Exception as exc:  # noqa: BLE001 - any crash is a finding, reported with its seed
            result.violations.append(f"crashed: {exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=6)}")
        finally:
            for device in fleet:
                await device.close()
            hub.close()
    return result


def _ops_recorded(hub: SimHub, device: SimDevice) -> int:
    """Ops the device recorded: its outbox; for a reset one, what its old disk held (sent or
    lost with it) and what it recorded since, or what the hub holds of it, if more."""
    held = device.replica.query_one("SELECT COUNT(*) AS n FROM outbox")["n"]
    if device.reset_mark is None:
        return held
    with hub.db.read() as conn:
        logged = conn.execute("SELECT COUNT(*) FROM op_log WHERE device_id = :d", {"d": device.device_id}).scalar_one()
    return max(device.ops_before_reset + held - device.held_after_reset, int(logged))


# Steps per schedule: at 60, 4 devices recorded ~12 ops a schedule and some none;
# at 300 each device does real work in every schedule (tests/integration/test_simulator.py).
STEPS = 300


def run_schedule(seed: int, devices: int = 4, steps: int = STEPS) -> ScheduleResult:
    folder = Path(_scratch())
    try:
        return asyncio.run(_run(seed, devices, steps, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_many(seed: int, schedules: int, devices: int, steps: int, progress=None) -> list[ScheduleResult]:
    """Schedule k runs with seed `seed + k`."""
    results = []
    for k in range(schedules):
        result = run_schedule(seed + k, devices, steps)
        results.append(result)
        if progress:
            progress(result)
    return results
