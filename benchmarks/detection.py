"""`python -m benchmarks.detection [--seed N] [--scenarios N] [--stores N]`: the scored
detection benchmark. Generates networks with injected faults and normal noise
(benchmarks.detection_floor), runs the hub's anomaly detectors (hub.insight.detectors)
and prints, per class, recall and the false-alarm rate against the goals (recall ≥ 0.9,
false alarms ≤ 5 %); then scores SLA risk (hub.insight.risk.assess) on simulated store
days (benchmarks.detection_sla): late orders flagged ≥ 30 min before their promise
(goal ≥ 90 %) and on-time orders flagged (goal ≤ 10 %). Seeded and deterministic: the
same seed prints the same table.

Recall = faulty units flagged / faulty units; false-alarm rate = healthy units flagged /
healthy units, a unit being what the fault is about (a bin's SKU, a SKU, a handheld, an
order). Kinds no fault was injected for are listed with their false alarms only."""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from benchmarks.detection_floor import Network, generate
from benchmarks.detection_sla import SlaScore, simulate_day
from hub.insight.detectors import Finding, detect, stuck_orders

__all__ = ["Score", "score", "unit_of", "main"]

RECALL_GOAL, FALSE_ALARM_GOAL = 0.9, 0.05
SLA_FLAGGED_GOAL, SLA_ON_TIME_GOAL = 0.9, 0.10
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)


@dataclass
class Score:
    faulty: int = 0
    caught: int = 0
    healthy: int = 0
    false_alarms: int = 0

    @property
    def recall(self) -> float | None:
        return self.caught / self.faulty if self.faulty else None

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.healthy if self.healthy else 0.0

    def add(self, other: "Score") -> None:
        self.faulty += other.faulty
        self.caught += other.caught
        self.healthy += other.healthy
        self.false_alarms += other.false_alarms


def score(units: set[str], faulty: set[str], flagged: set[str]) -> Score:
    """Recall over the faulty units and false alarms over the healthy ones; a flag on
    something that is no unit of the class counts as a false alarm too."""
    strays = flagged - units
    return Score(faulty=len(faulty), caught=len(faulty & flagged), healthy=len(units - faulty),
                 false_alarms=len((flagged & units) - faulty) + len(strays))


def unit_of(f: Finding) -> str:
    """The unit a finding is about, as the generator names units."""
    if f.kind in ("bin_accuracy", "books_wrong"):
        return f"{f.location}/{f.numbers['bin']}/{f.numbers['sku']}"
    if f.kind == "short_spike":
        return f.subject if f.location is None else f"location:{f.location}"
    return f.subject.split("/", 1)[1]  # order/… and device/…


# (class printed, finding kind, injected fault, which units of the network)
CLASSES = [
    ("bin miscounted", "bin_accuracy", "bins", "bins"),
    ("SKU shorts spike", "short_spike", "skus", "skus"),
    ("store handhelds offline", "device_queue", "devices", "devices"),
    ("slow picker (orders stuck)", "stuck_order", "orders", "order_ids"),
    ("books wrong (no fault injected)", "books_wrong", None, "bins"),
    ("device refusals (none injected)", "device_refusals", None, "devices"),
    ("device clock (none injected)", "device_clock", None, "devices"),
]


def run_network(net: Network) -> dict[str, Score]:
    findings = detect(net.window, NOW)
    for at, orders in net.orders.items():  # the relay's refreshes through the shift
        findings += stuck_orders(orders, datetime.fromisoformat(at))
    scores = {}
    for name, kind, fault, units_name in CLASSES:
        units: set[str] = getattr(net, units_name)
        flagged = {unit_of(f) for f in findings if f.kind == kind and (kind != "short_spike" or f.location is None)}
        scores[name] = score(units, getattr(net.faults, fault) if fault else set(), flagged)
    return scores


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def print_table(scores: dict[str, Score]) -> bool:
    print(f"{'class':34} {'faulty':>7} {'caught':>7} {'recall':>8} {'healthy':>8} {'false':>6} {'false %':>8}  goals")
    ok = True
    for name, s in scores.items():
        met = (s.recall is None or s.recall >= RECALL_GOAL) and s.false_alarm_rate <= FALSE_ALARM_GOAL
        ok &= met
        print(f"{name:34} {s.faulty:7} {s.caught:7} {_pct(s.recall):>8} {s.healthy:8} {s.false_alarms:6} "
              f"{_pct(s.false_alarm_rate):>8}  {'met' if met else 'MISSED'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description="Scored anomaly detection and SLA risk on generated networks.")
    parser.add_argument("--seed", type=int, default=2126)
    parser.add_argument("--scenarios", type=int, default=10, help="Networks generated, each with its own faults.")
    parser.add_argument("--stores", type=int, default=40, help="Store days simulated for SLA risk.")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"seed {args.seed}, {args.scenarios} networks, {args.stores} store days for SLA risk")
    totals: dict[str, Score] = {name: Score() for name, *_ in CLASSES}
    for n in range(args.scenarios):
        for name, s in run_network(generate(random.Random(rng.getrandbits(64)), NOW, f"N{n}-")).items():
            totals[name].add(s)
    ok = print_table(totals)
    sla = SlaScore()
    for n in range(args.stores):
        sla.add(simulate_day(random.Random(rng.getrandbits(64)), NOW - timedelta(hours=12), f"D{n}"))
    flagged = sla.late_flagged_early / sla.late if sla.late else 1.0
    on_time = sla.on_time_flagged / sla.on_time if sla.on_time else 0.0
    print(f"SLA risk: {sla.late} orders ended late, {sla.late_flagged_early} flagged ≥ 30 min before their promise "
          f"({_pct(flagged)}, goal ≥ {SLA_FLAGGED_GOAL:.0%}); {sla.on_time} on time, {sla.on_time_flagged} of them "
          f"flagged ({_pct(on_time)}, goal ≤ {SLA_ON_TIME_GOAL:.0%})")
    ok &= flagged >= SLA_FLAGGED_GOAL and on_time <= SLA_ON_TIME_GOAL
    print("every goal met" if ok else "SOME GOAL MISSED")


if __name__ == "__main__":
    main()
