"""`backroom hub anomalies refresh|list|policy`: the anomalies the hub finds, from the
command line; a refresh and a policy are logged hub commands like any other change."""

from __future__ import annotations

import json
from typing import Any, Callable

import click

__all__ = ["add_anomaly_commands"]


def add_anomaly_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable) -> None:
    """Register the commands on `hub` (hands in the CLI's helpers: no import circle)."""

    @hub.group()
    def anomalies() -> None:
        """Anomalies found on the floor (bins, shorts, orders, devices) and the policy acting on them."""

    @anomalies.command("refresh")
    @db_option
    def refresh_cmd(db_url: str) -> None:
        """Run the detectors now (the relay does it every minute): raise new anomalies, clear gone ones."""
        from hub.insight.anomalies import refresh

        counts = hub_call(refresh, open_db(db_url), None, "cli")
        click.echo(f"anomalies: {counts['open']} found, {counts['raised']} raised, {counts['cleared']} cleared")

    @anomalies.command("list")
    @db_option
    @click.option("--all", "everything", is_flag=True, help="Cleared ones too.")
    @click.option("--kind", default=None, help="One kind only (bin_accuracy, short_spike, stuck_order, …).")
    @click.option("--location", default=None, help="One location only.")
    @click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
    def list_cmd(db_url: str, everything: bool, kind: str | None, location: str | None, limit: int) -> None:
        """Anomalies newest first: kind, where, status, evidence, and what the policy did."""
        from hub.insight.anomalies import anomaly_rows

        with open_db(db_url).read() as conn:
            rows, _next = anomaly_rows(conn, None, status=None if everything else "open", kind=kind,
                                       location=location, limit=limit)
        for r in rows:
            acted = f"  → {r['action']}" if r["action"] else ""
            click.echo(f"{r['status']:7} {r['kind']:15} {r['location'] or '*':10} {r['evidence']}{acted}")

    @anomalies.command("policy")
    @db_option
    @click.argument("policy_file", type=click.File("r"), required=False)
    @click.option("--note", default="", help="Why this version.")
    def policy_cmd(db_url: str, policy_file: Any, note: str) -> None:
        """Print the anomaly policy, or set a new version from a JSON file: a list of rules
        such as {"kind": "bin_accuracy", "below": 0.8, "action": "recount"} or
        {"kind": "short_spike", "action": "raise_safety_stock", "by": 2}."""
        from hub.insight.anomalies import policy_view, set_policy

        db = open_db(db_url)
        if policy_file is None:
            with db.read() as conn:
                click.echo(json.dumps(policy_view(conn), indent=2))
            return
        try:
            body = json.load(policy_file)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="POLICY_FILE") from exc
        rules = body.get("rules", body) if isinstance(body, dict) else body
        with db.write() as conn:
            view = hub_call(set_policy, conn, rules, note, "cli")
        click.echo(f"anomaly policy version {view['version']}")
