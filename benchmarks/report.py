"""The benchmark table: rows of figures, printed and written into docs/benchmarks.md
between two markers (the prose around them is kept)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

__all__ = ["Row", "percentile", "render", "write_doc", "START", "END"]

START = "<!-- bench:table:start -->"
END = "<!-- bench:table:end -->"


@dataclass
class Row:
    figure: str
    value: str
    p95: str = ""
    p99: str = ""
    goal: str = ""
    limit: str = ""
    fraction: str = ""


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; 0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def render(rows: list[Row], machine: dict[str, str]) -> str:
    head = ["figure", "median / value", "p95", "p99", "goal", "raw limit (same machine)", "of limit"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(f"| {r.figure} | {r.value} | {r.p95} | {r.p99} | {r.goal} | {r.limit} | {r.fraction} |")
    lines.append("")
    lines.append("Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    return "\n".join(lines)


def write_doc(path: Path, table: str) -> None:
    """Replace the table between the markers, or start the page with it."""
    block = f"{START}\n{table}\n{END}"
    if path.exists() and START in (old := path.read_text()) and END in old:
        before, rest = old.split(START, 1)
        after = rest.split(END, 1)[1]
        path.write_text(before + block + after)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Benchmarks\n\nMeasured by `make bench` (`python -m benchmarks.run`).\n\n{block}\n")
