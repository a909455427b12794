"""The soak of real processes (issue 22), not part of `make test`: a hub on a fresh
PostgreSQL database served by two `backroom hub serve` instances behind a lossy proxy
that balances between them, ten devices synced by `backroom edge sync` rounds doing
floor work, SIGKILLs of every kind of process and one hub restore from a backup taken
earlier in the run; after a quiet period in which every device drains, the counts of
lost, doubled, oversold and diverged ops, which must all be 0.

    python -m simulator.real_soak --minutes 60 [--devices 10] [--seed N] [--keep]

The floor is the chaos test's (tests/e2e/chaos_floor.py; run it from a checkout):
pickers pick, short, count, stage and ask for refunds the hub refuses at the store, a
supervisor also receives deliveries, terminals take quick orders at the dark store
(confirmed offline from their allotments, or pending) while the quick-commerce app
sells the same stock straight to the hub, and store orders keep coming through the
admin API (some cancelled while picked). Meanwhile, at seeded random moments:
- the proxy drops requests, drops or cuts answers after a hub acted, replays
  requests, delays, and partitions (refused or blackholed connections);
- device rounds are SIGKILLed at random times and in the middle of their traffic;
- each hub instance is SIGKILLed (with its writer and jobs processes) and restarted,
  and a writer process alone is SIGKILLed (its instance answers pushes 503 until it
  is restarted);
- the database is backed up (`pg_dump`) and, later, every instance is stopped, the
  database replaced from that backup (`pg_restore`) and the instances started again:
  devices send again what the restored hub forgot.

The seed fixes the schedule's choices, not the OS's interleaving of the processes, so
a violation's seed replays the same kinds of faults, not their exact timing; the run's
logs are kept in its work folder on a violation."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from edge_app.local.replica import Replica
from hub.seed import DARK_STORE, DEMO_ITEMS, DEMO_LOCATION
from simulator.real_counts import Counts, count
from tests.e2e.chaos_floor import Device, floor_work, last_lines, quick_app_order, receive, switch_proxy, sync_all, tend
from tests.e2e.chaos_proxy import ChaosProxy
from tests.e2e.procs import BACKROOM, EdgeDevice, HubProcess, Processes, free_port, wait_for_http

__all__ = ["main"]

PG_SERVER = os.environ.get("BACKROOM_SOAK_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
INSTANCES = 2
_STORE_SKUS = [sku for sku, _name, _weight, _body in DEMO_ITEMS]
# A push that meets an instance whose writer was killed is answered 503 and sent again next round.
WRITER_GONE = ("hub answered 503: the hub's writer",)
_JOBS_OFF = {"BACKROOM_REBROKER_EVERY_S": "0", "BACKROOM_PICKUP_SWEEP_EVERY_S": "0"}


@dataclass
class Instance:
    hub: HubProcess
    down_until: float | None = None  # killed; started again at this time
    restart_at: float | None = None  # its writer was killed: the whole instance restarts at this time
    next_kill: float = 0.0


@dataclass
class SoakFloor:
    procs: Processes
    instances: list[Instance]
    proxy: ChaosProxy
    token: str
    devices: list[Device]
    pg: str  # the PostgreSQL server's admin URL
    db_url: str
    work: Path
    orders: list[str] = field(default_factory=list)  # store orders given to devices
    events: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # edge rounds or hub instances that ended as they must not
    refusals: list[str] = field(default_factory=list)  # the first floor actions a device refused
    backup: Path | None = None
    restored: bool = False

    def admin(self, method: str, path: str, body: dict | None = None) -> httpx.Response | None:
        """An admin request to one running instance (the other if it fails); None if none answered."""
        for instance in random.sample(self.instances, len(self.instances)):
            if instance.hub.proc is None or not instance.hub.proc.alive():
                continue
            try:
                response = httpx.request(method, instance.hub.url + path, json=body, timeout=10,
                                         headers={"Authorization": f"Bearer {self.token}"})
            except httpx.HTTPError:
                continue
            if response.status_code < 500:
                return response
        return None


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.devices < 3:
        parser.error("--devices: at least 3 (a supervisor, a picker and a terminal)")
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="backroom-real-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    db_name = f"backroom_soak_{seed}_{os.getpid()}"
    db_url = args.pg.rsplit("/", 1)[0] + f"/{db_name}"
    replay = f"python -m simulator.real_soak --minutes {args.minutes:g} --devices {args.devices} --seed {seed}"
    print(f"real soak: seed {seed} ({replay} replays its schedule), {args.minutes:g} min, {args.devices} devices, "
          f"{INSTANCES} hub instances on PostgreSQL database {db_name}, work folder {work}", flush=True)
    _admin_sql(args.pg, f"CREATE DATABASE {db_name}")
    procs = Processes(work / "logs")
    floor: SoakFloor | None = None
    started = time.monotonic()
    clean = False
    environ = dict(os.environ)  # the drain turns the hubs' jobs off through it: put it back after
    try:
        floor = _set_up(procs, args.pg, db_url, work, args.devices, seed)
        _run(floor, random.Random(seed), args.minutes * 60)
        _drain(floor)
        counts = count(db_url, floor.devices)
        _stop_hubs(floor)
        verdict = _verify(db_url)
        clean = (counts.clean and verdict.get("same") is True and not floor.failures
                 and not floor.events["devices_not_drained"] and not floor.events["last_pulls_failed"])
        _summary(floor, counts, verdict, time.monotonic() - started, seed)
        if not clean:
            print(f"\nVIOLATION, seed {seed}; replay: {replay} (the logs are in {work / 'logs'})")
    finally:
        os.environ.clear()
        os.environ.update(environ)
        procs.kill_all()
        if floor is not None:
            floor.proxy.stop()
            for device in floor.devices:
                device.replica.close()
        if args.keep:
            print(f"kept: database {db_name} ({db_url}), work folder {work}")
        else:
            _admin_sql(args.pg, f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
            if clean and args.workdir is None:
                shutil.rmtree(work, ignore_errors=True)
    return 0 if clean else 1


# -- setting up ----------------------------------------------------------------------
def _roles(devices: int) -> list[tuple[str, str]]:
    """(location, role) per device: a fifth are dark-store terminals, one store supervisor, pickers."""
    terminals = max(1, round(devices / 5))
    store = [(DEMO_LOCATION, "supervisor")] + [(DEMO_LOCATION, "picker")] * (devices - terminals - 1)
    return store + [(DARK_STORE, "terminal")] * terminals


def _set_up(procs: Processes, pg: str, db_url: str, work: Path, n_devices: int, seed: int) -> SoakFloor:
    instances = [Instance(HubProcess(procs, db_url, free_port())) for _ in range(INSTANCES)]
    instances[0].hub.seed_demo()
    roles = _roles(n_devices)
    token, *codes = last_lines(procs, [("hub", "token", "--db", db_url, "--role", "admin")]
                               + [("hub", "enroll", "--db", db_url, "--location", loc, "--role", role) for loc, role in roles])
    _start_all(instances)
    proxy = ChaosProxy([i.hub.port for i in instances], seed=seed ^ 0x5EED).start()
    edges = [EdgeDevice(procs, work / f"device-{n}") for n in range(n_devices)]
    last_lines(procs, [("edge", "enroll", "--hub", proxy.url, "--code", code, "--data-dir", str(edge.data_dir),
                        "--name", f"soak-{n}") for n, (edge, code) in enumerate(zip(edges, codes))])
    devices = []
    for n, (edge, (_loc, role)) in enumerate(zip(edges, roles)):
        replica = Replica(edge.data_dir)
        ident = replica.identity()
        devices.append(Device(n, edge, replica, ident["device_id"], ident["location"], role=role))
    floor = SoakFloor(procs, instances, proxy, token, devices, pg, db_url, work)
    rng = random.Random(seed ^ 0x0DE5)
    for _ in range(2 * len(_store_devices(floor))):
        _post_store_order(floor, rng)
    sync_all(devices)  # every device starts with the orders
    return floor


def _start_all(instances: list[Instance]) -> None:
    """Start every instance, then wait for each to answer (side by side: each start-up takes seconds)."""
    for instance in instances:
        instance.hub.start(wait=False)
    for instance in instances:
        wait_for_http(f"{instance.hub.url}/healthz", instance.hub.proc, 60)  # type: ignore[arg-type]


def _store_devices(floor: SoakFloor) -> list[Device]:
    return [d for d in floor.devices if d.location == DEMO_LOCATION]


# -- the run -------------------------------------------------------------------------
def _run(floor: SoakFloor, rng: random.Random, seconds: float) -> None:
    now = started = time.monotonic()
    end = started + seconds
    for instance in floor.instances:
        instance.next_kill = now + rng.uniform(5, 30)
    backup_at = started + seconds * rng.uniform(0.2, 0.35)
    restore_at = started + seconds * rng.uniform(0.55, 0.7)
    next_mode, partitioned = now + rng.uniform(0.5, 2.0), False
    next_writer_kill = now + rng.uniform(15, 60)
    next_order, next_app_order, next_cancel = now + rng.uniform(2, 6), now + rng.uniform(3, 10), now + rng.uniform(20, 60)
    every = min(30.0, max(5.0, seconds / 12))
    next_report = now + every
    while (now := time.monotonic()) < end:
        for device in floor.devices:
            tend(floor, device, rng, now, rest=(0.5, 3.0), expected=WRITER_GONE)
        if rng.random() < 0.15:
            _work(floor, rng.choice(floor.devices), rng)
        if now >= next_mode:
            partitioned = switch_proxy(floor, rng, partitioned)
            next_mode = now + rng.uniform(0.3, 4.0)
        for instance in floor.instances:
            _tend_instance(floor, instance, rng, now)
        if now >= next_writer_kill:  # tried again shortly while no running instance has its writer up yet
            next_writer_kill = now + (rng.uniform(30, 120) if _kill_a_writer(floor, rng, now) else 2.0)
        if floor.backup is None and now >= backup_at:
            _back_up(floor)
        if floor.backup is not None and not floor.restored and now >= restore_at:
            _restore(floor, rng)
        if now >= next_order:
            _post_store_order(floor, rng)
            next_order = now + rng.uniform(3, 9)
        if now >= next_app_order:
            _post_app_order(floor, rng)
            next_app_order = now + rng.uniform(4, 12)
        if now >= next_cancel:
            _cancel_an_order(floor, rng)
            next_cancel = now + rng.uniform(30, 90)
        if now >= next_report:
            _progress(floor, now - started, seconds)
            next_report = now + every
        time.sleep(rng.uniform(0.01, 0.08))


def _work(floor: SoakFloor, device: Device, rng: random.Random) -> None:
    """One piece of floor work; the supervisor also receives the deliveries that keep the store stocked."""
    try:
        if device.role == "supervisor" and rng.random() < 0.35:
            receive(floor, device, rng)
        elif device.location != DEMO_LOCATION or device.orders:
            floor_work(floor, device, rng)
    except AssertionError as exc:  # the device refused an action (say, on a line another picker finished)
        floor.events["floor_actions_refused"] += 1
        if len(floor.refusals) < 3:
            floor.refusals.append(f"device {device.n}: {exc}")


def _tend_instance(floor: SoakFloor, instance: Instance, rng: random.Random, now: float) -> None:
    hub = instance.hub
    if instance.down_until is None and instance.restart_at is None and now >= instance.next_kill:
        hub.kill()
        floor.events["kills_hub"] += 1
        instance.down_until = now + rng.choice((0.0, rng.uniform(0.5, 6.0)))
    if instance.restart_at is not None and now >= instance.restart_at:
        hub.kill()  # the writer is gone: the instance is restarted whole, as a service manager would
        instance.restart_at, instance.down_until = None, now
    if instance.down_until is not None and now >= instance.down_until:
        hub.start(wait=False)  # the proxy sends requests to the other instance while this one starts
        instance.down_until, instance.next_kill = None, now + rng.uniform(10, 45)
    if instance.down_until is None and hub.proc is not None and not hub.proc.alive():
        floor.failures.append(f"hub instance on port {hub.port} exited by itself:\n{hub.proc.output()[-2000:]}")
        instance.down_until = now + 1.0


def _kill_a_writer(floor: SoakFloor, rng: random.Random, now: float) -> bool:
    running = [i for i in floor.instances if i.down_until is None and i.restart_at is None]
    if not running:
        return False
    instance = rng.choice(running)
    pid = _writer_pid(instance.hub)
    if pid is None:
        return False  # still starting
    os.kill(pid, signal.SIGKILL)
    floor.events["kills_writer"] += 1
    instance.restart_at = now + rng.uniform(1.0, 6.0)
    return True


def _writer_pid(hub: HubProcess) -> int | None:
    """The pid of the hub's writer process: the child holding the writer's Unix socket."""
    assert hub.proc is not None
    inodes = set()
    with open("/proc/net/unix") as table:
        for line in table:
            parts = line.split()
            if len(parts) >= 8 and "/backroom-writer-" in parts[7]:
                inodes.add(f"socket:[{parts[6]}]")
    for child in _children(hub.proc.pid):
        try:
            fds = [os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")]
        except OSError:
            continue
        if inodes.intersection(fds):
            return child
    return None


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found


def _back_up(floor: SoakFloor) -> None:
    """Last night's backup, taken from the live database while both instances serve."""
    floor.backup = floor.work / "hub-backup.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={floor.backup}",
                    _libpq(floor.db_url)], check=True, capture_output=True, timeout=300)
    floor.events["backup_taken"] += 1
    print(f"  backup taken ({floor.backup.stat().st_size:,} bytes)", file=sys.stderr, flush=True)


def _restore(floor: SoakFloor, rng: random.Random) -> None:
    """Every instance stopped, the database replaced from the backup, the instances started again."""
    assert floor.backup is not None
    for instance in floor.instances:
        if instance.hub.proc is not None and instance.hub.proc.alive():
            instance.hub.kill()
        instance.down_until = instance.restart_at = None
    name = floor.db_url.rsplit("/", 1)[1]
    _admin_sql(floor.pg, f"DROP DATABASE {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={_libpq(floor.db_url)}",
                    str(floor.backup)], check=True, capture_output=True, timeout=600)
    for instance in floor.instances:
        instance.hub.start(wait=False)
        instance.next_kill = time.monotonic() + rng.uniform(10, 45)
    floor.restored = True
    floor.events["hub_restored_from_backup"] += 1
    print("  hub restored from the backup", file=sys.stderr, flush=True)


def _post_store_order(floor: SoakFloor, rng: random.Random) -> None:
    """A web order for the store, given to one picker or two (two make over-picks)."""
    number = f"S-{floor.events['store_orders_posted'] + 1}"
    floor.events["store_orders_posted"] += 1
    lines = [{"sku": sku, "qty": rng.randint(1, 3)} for sku in rng.sample(_STORE_SKUS, rng.randint(1, 3))]
    body = {"number": number, "channel": "webshop", "fulfilment": "pickup", "customer_name": f"Customer {number}",
            "promised_by": (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat(), "location": DEMO_LOCATION,
            "lines": lines}
    response = floor.admin("POST", "/v1/orders", body)
    if response is None or response.status_code >= 300:
        floor.events["orders_not_taken"] += 1  # no instance answered: the intake would send it again later
        return
    order = response.json()
    floor.events[f"store_orders_{order['status']}"] += 1
    if order["status"] == "released":
        floor.orders.append(order["id"])
        pickers = _store_devices(floor)
        for device in rng.sample(pickers, 2 if rng.random() < 0.3 and len(pickers) > 1 else 1):
            device.orders.append(order["id"])


def _post_app_order(floor: SoakFloor, rng: random.Random) -> None:
    body = quick_app_order(f"APP-{floor.events['app_orders_posted'] + 1}", rng)
    floor.events["app_orders_posted"] += 1
    response = floor.admin("POST", "/v1/orders", body)
    if response is not None and response.status_code < 300:
        floor.events[f"app_orders_{response.json()['status']}"] += 1


def _cancel_an_order(floor: SoakFloor, rng: random.Random) -> None:
    if not floor.orders:
        return
    response = floor.admin("POST", f"/v1/orders/{rng.choice(floor.orders)}/cancel", {"reason": "customer called"})
    if response is not None and response.status_code == 200:
        floor.events["orders_cancelled"] += 1


def _progress(floor: SoakFloor, elapsed: float, seconds: float) -> None:
    e = floor.events
    ops = sum(n for k, n in e.items() if k.startswith("op_"))
    print(f"  {elapsed / 60:5.1f}/{seconds / 60:g} min: {ops} ops recorded, {_logged(floor)} in the hub's log, "
          f"{e['rounds_completed']} rounds "
          f"({e['rounds_unreachable']} unreachable), kills: hub {e['kills_hub']}, writer {e['kills_writer']}, "
          f"edge {e['edge_killed_at_random'] + e['edge_killed_mid_sync']}; backup {'taken' if floor.backup else 'not yet'}, "
          f"restore {'done' if floor.restored else 'not yet'}; {len(floor.failures)} failed rounds",
          file=sys.stderr, flush=True)


def _logged(floor: SoakFloor) -> str:
    """How many device ops the hub has logged (applied or refused), read straight from its database."""
    try:
        engine = create_engine(floor.db_url.replace("postgresql://", "postgresql+psycopg://", 1), connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SELECT COUNT(*) FROM op_log WHERE device_id <> 'hub'")).scalar())
        finally:
            engine.dispose()
    except Exception:  # noqa: BLE001 - being restored, say: the line says so and the run goes on
        return "?"


# -- the quiet period and the end ----------------------------------------------------------
def _drain(floor: SoakFloor) -> None:
    """Heal the network, restart both instances without their scheduled jobs (nothing may
    change the hub after the devices' last pull), push every outbox empty, pull once more."""
    floor.proxy.heal()
    for device in floor.devices:
        if device.run is not None:
            device.run.kill()
            device.run = None
    os.environ.update(_JOBS_OFF)
    for instance in floor.instances:
        if instance.hub.proc is not None and instance.hub.proc.alive():
            instance.hub.kill()
    _start_all(floor.instances)
    waiting = list(floor.devices)
    for _round in range(30):
        if not waiting:
            break
        waiting = [device for device, report in _rounds(waiting, 50) if report.get("outbox_depth") != 0]
    floor.events["devices_not_drained"] = len(waiting)
    # A device's last pull after every other device's last push.
    for device, report in _rounds(floor.devices, 200):
        floor.events["ops_pushed_after_the_drain"] += report.get("pushed", 0)
        floor.events["last_pulls_failed"] += "error" in report or "pushed" not in report
    for instance in floor.instances:
        wait_for_http(f"{instance.hub.url}/healthz", instance.hub.proc)  # type: ignore[arg-type]


def _rounds(devices: list[Device], batch_size: int) -> list[tuple[Device, dict]]:
    """One sync round on each device at once; each one's report ({} if it printed none)."""
    runs = [(device, device.edge.start_sync(batch_size)) for device in devices]
    reports = []
    for device, run in runs:
        run.wait(120)
        try:
            reports.append((device, EdgeDevice.report(run)))
        except AssertionError:
            reports.append((device, {}))
    return reports


def _stop_hubs(floor: SoakFloor) -> None:
    for instance in floor.instances:
        if instance.hub.proc is not None and instance.hub.proc.alive():
            instance.hub.kill()


def _verify(db_url: str) -> dict:
    """`backroom hub verify`: the log replays to the same state digest."""
    done = subprocess.run([BACKROOM, "hub", "verify", "--db", db_url, "--json"], capture_output=True, text=True,
                          timeout=1800, check=False)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"same": False, "error": done.stderr[-2000:]}


def _summary(floor: SoakFloor, counts: Counts, verdict: dict, elapsed: float, seed: int) -> None:
    e = floor.events
    edge_kills = e["edge_killed_at_random"] + e["edge_killed_mid_sync"]
    proxy = ", ".join(f"{k} {v}" for k, v in sorted(floor.proxy.fired.items()))
    modes = ", ".join(f"{k[6:]} {v}" for k, v in sorted(e.items()) if k.startswith("proxy_"))
    work = ", ".join(f"{k[3:]} {v}" for k, v in sorted(e.items()) if k.startswith("op_"))
    print(f"real soak, seed {seed}, done in {elapsed / 60:.1f} min ({len(floor.devices)} devices, "
          f"{INSTANCES} hub instances on PostgreSQL)")
    print(f"floor work recorded: {work}; floor actions the device refused {e['floor_actions_refused']}")
    print(f"orders: store {e['store_orders_posted']} posted ({e['store_orders_released']} released), "
          f"app {e['app_orders_posted']} posted, {e['orders_cancelled']} cancelled while picked")
    print(f"edge rounds: {e['rounds_completed']} completed, {e['rounds_unreachable']} found the hub unreachable, "
          f"{e['rounds_hub_error']} met a killed writer (503), {len(floor.failures)} ended otherwise")
    print(f"kills: hub instance {e['kills_hub']}, writer {e['kills_writer']}, edge {edge_kills} "
          f"({e['edge_killed_at_random']} at random, {e['edge_killed_mid_sync']} mid-sync); "
          f"backup taken {e['backup_taken']}, hub restored from backup {e['hub_restored_from_backup']}")
    print(f"proxy modes: {modes}")
    print(f"proxy: {proxy}")
    print(f"drain: devices not drained {e['devices_not_drained']}, ops pushed by the last pull {e['ops_pushed_after_the_drain']}, "
          f"last pulls failed {e['last_pulls_failed']}")
    print(f"ops: {counts.ops} recorded by devices, {counts.applied} applied, {counts.refused} refused; "
          f"after the restore {counts.devices_resending} devices sent {counts.resent} ops again that the hub had forgotten")
    print("refused by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.refusals.items())))
    print(f"orders a terminal confirmed offline from its allotment that the hub refused: {len(counts.promises_broken)}, "
          f"{counts.promises_broken_unexcused} of them on their only sending {counts.promises_broken[:10]}")
    print(f"hub verify: {'same state' if verdict.get('same') else 'DIFFERENT STATE'} "
          f"({verdict.get('ops', '?')} logged ops replayed)")
    for refusal in floor.refusals:
        print(f"  refused on the floor: {refusal[:300]}")
    for detail in counts.details[:20]:
        print(f"  {detail}")
    for failure in floor.failures[:3]:
        print(f"  {failure[:3000]}")
    print(f"lost {counts.lost}, doubled {counts.doubled}, oversold {counts.oversold}, diverged {counts.diverged}")


# -- PostgreSQL ------------------------------------------------------------------------
def _libpq(url: str) -> str:
    return url.split("+", 1)[0] if "+" in url.split("://", 1)[0] else url


def _admin_sql(server: str, *statements: str) -> None:
    engine = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator.real_soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="How long the faults go on (the drain comes after).")
    parser.add_argument("--devices", type=int, default=10, help="Edge devices (at least 3).")
    parser.add_argument("--seed", type=int, default=None, help="The schedule's seed (default: a random one, printed).")
    parser.add_argument("--workdir", default=None, help="Where replicas, logs and the backup go (default: a temporary folder).")
    parser.add_argument("--pg", default=PG_SERVER, help="An admin URL of the PostgreSQL server the run's database is "
                        "created on (env BACKROOM_SOAK_PG; default %(default)s).")
    parser.add_argument("--keep", action="store_true", help="Keep the database and the work folder.")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
