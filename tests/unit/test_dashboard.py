"""The sample Grafana dashboard (packaging/grafana) asks only for metrics the hub's
/metrics endpoint writes (hub.insight.metrics): a renamed metric would leave a panel
silently empty."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_panel_reads_a_metric_the_hub_writes():
    dashboard = json.loads((ROOT / "packaging/grafana/backroom-events.json").read_text())
    written = set(re.findall(r'metric\("(backroom_[a-z_]+)"', (ROOT / "hub/insight/metrics.py").read_text()))
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"backroom_[a-z_]+", target["expr"])}
    assert asked and not asked - written, f"panels read metrics nobody writes: {sorted(asked - written)}"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
