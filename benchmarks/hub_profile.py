"""`python -m benchmarks.hub_profile sqlite|pg1|pg2 [SECONDS]`: where the hub's time
goes while 500 devices push back to back.

Runs `python -m benchmarks.run --only LABEL` and, as soon as its load generator
starts the saturation run, samples the hub for SECONDS (default 2: the run must
outlast the sampling, and on a fast day 44,690 ops take ~3 s) with py-spy
(`--subprocesses`: the HTTP process, its workers, the writer process) and reads
every process's scheduler counters meanwhile (/proc/*/task/*/schedstat). Prints, per
kind of process, the CPU it ran and the time it was runnable but had no core, the writer's
time by phase of a group, and its top functions; keeps py-spy's raw stacks in
/tmp for flame graphs. Measures, asserts nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# A writer-thread stack goes to the first phase whose function it passes through.
PHASES = [
    ("prepare: op-id look-up", "read_logged_ids"),
    ("prepare: devices' last seqs", "read_committed_seqs"),
    ("prepare: held orders", "hold_orders"),
    ("write-back: movements + stock", "_write_movements"),
    ("write-back: orders", "_write_orders"),
    ("feed", "feed.py"),
    ("op log + last_seq", "PushLog.write"),
    ("commit", "do_commit"),
    ("the handlers", "apply"),
]


def main(argv: list[str]) -> int:
    label = argv[0] if argv else "sqlite"
    seconds = float(argv[1]) if len(argv) > 1 else 2.0
    raw = Path(tempfile.gettempdir()) / f"backroom-hub-profile-{label}.txt"
    bench = subprocess.Popen([sys.executable, "-m", "benchmarks.run", "--only", label],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        hub = _wait_for_push(bench)
        before, machine_before = _cpu_by_role(), _machine_ticks()
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(hub), "--subprocesses",
                        "--rate", "200", "--duration", f"{seconds:.0f}", "--nonblocking", "--format", "raw",
                        "-o", str(raw)], check=True, capture_output=True)
        cpu = _cpu_delta(before, _cpu_by_role(), time.perf_counter() - started)
        busy = _busy_share(machine_before, _machine_ticks())
    finally:
        bench.wait()
    print(f"hub under push load ({label}, saturation run, {seconds:.0f} s)\n")
    print(f"CPU by process, % of one core (the machine has {os.cpu_count()}): ran / runnable but waiting for a core")
    for role, (ran, waited) in sorted(cpu.items(), key=lambda kv: -kv[1][0]):
        print(f"  {ran:6.1f} % / {waited:6.1f} %  {role}")
    print(f"  the machine's cores were busy {busy:.0f} % of the time (/proc/stat; the rest idle or waiting for the disk)")
    _print_writer(raw)
    print(f"\nraw stacks: {raw}")
    return 0


def _wait_for_push(bench: subprocess.Popen) -> int:
    """The pid of `backroom hub serve` once the load generator's push has started."""
    while bench.poll() is None:
        running = _cmdlines()
        if any("benchmarks.loadgen push" in cmd for cmd in running.values()):
            hubs = [pid for pid, cmd in running.items() if "hub serve" in cmd]
            if hubs:
                return min(hubs)
        time.sleep(0.1)
    raise SystemExit(f"benchmarks.run ended before its push run:\n{bench.stderr.read()}")


def _cmdlines() -> dict[int, str]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                out[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
    return out


def _role(cmd: str) -> str:
    if "benchmarks.loadgen" in cmd:
        return "load generator"
    if "multiprocessing" in cmd and "spawn_main" in cmd:
        return "hub: writer process and HTTP workers (spawned)"
    if "hub serve" in cmd:
        return "hub: HTTP (serve)"
    if cmd.startswith("postgres"):
        return "PostgreSQL"
    return "other"


def _cpu_by_role() -> dict[int, tuple[str, int, int]]:
    """Per process: its role, ns on a CPU and ns runnable but waiting for one (all its threads)."""
    out = {}
    for pid, cmd in _cmdlines().items():
        ran = waited = 0
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                on_cpu, on_queue, _slices = (task / "schedstat").read_text().split()
                ran, waited = ran + int(on_cpu), waited + int(on_queue)
        except OSError:
            continue
        out[pid] = (_role(cmd or _comm(pid)), ran, waited)
    return out


def _machine_ticks() -> list[int]:
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def _busy_share(before: list[int], after: list[int]) -> float:
    spent = [b - a for a, b in zip(before, after)]
    idle = spent[3] + spent[4]  # idle, iowait
    return 100 * (1 - idle / max(sum(spent[:8]), 1))


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _cpu_delta(before: dict, after: dict, seconds: float) -> dict[str, tuple[float, float]]:
    """% of one core each role ran, and waited for a core while it could have run."""
    ran: Counter = Counter()
    waited: Counter = Counter()
    for pid, (role, on_cpu, on_queue) in after.items():
        _role0, cpu0, queue0 = before.get(pid, (role, 0, 0))
        ran[role] += (on_cpu - cpu0) / 1e9 / seconds * 100
        waited[role] += (on_queue - queue0) / 1e9 / seconds * 100
    return {role: (ran[role], waited[role]) for role in ran if ran[role] + waited[role] >= 0.5}


def _print_writer(raw: Path) -> None:
    phases: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "GroupCommit._write " not in stack:
            continue
        n = int(count)
        total += n
        phases[next((name for name, mark in PHASES if mark in stack), "other")] += n
        own[_short(stack.rsplit(";", 1)[-1])] += n
    if not total:
        print("\nno samples of the writer writing a group")
        return
    print(f"\nthe writer, writing groups ({total} samples at 200 Hz), by phase of a group:")
    for name, n in phases.most_common():
        print(f"  {100 * n / total:5.1f} %  {name}")
    print("its top functions (own time; C calls count in their caller):")
    for name, n in own.most_common(12):
        print(f"  {100 * n / total:5.1f} %  {name}")


def _short(frame: str) -> str:
    return re.sub(r" \((?:.*/)?([^/]+\.py):\d+\)$", r" (\1)", frame)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
