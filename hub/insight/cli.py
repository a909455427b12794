"""`backroom hub insight inventory|ship|analytics`: inventory risk with the transfers that
would help, shipping one of them (the logged `transfer.shipped` command), and fulfilment
figures per location and day as a table or CSV. The CLI acts as a network admin."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import click

__all__ = ["add_insight_commands"]


def add_insight_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable) -> None:
    """Register `hub insight …` (hands in the CLI's helpers: no import circle)."""

    @hub.group()
    def insight() -> None:
        """Inventory risk and fulfilment analytics."""

    @insight.command()
    @db_option
    @click.option("--location", default=None, help="Only this location's covers (and transfers into it).")
    @click.option("--level", type=click.Choice(["out", "critical", "low", "ok", "surplus"]), default=None)
    @click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
    def inventory(db_url: str, location: str | None, level: str | None, limit: int) -> None:
        """Days of cover per location and SKU, worst first, then the suggested transfers."""
        from hub.access import network_admin
        from hub.insight.inventory import covers_page, inventory_risk

        with open_db(db_url).read() as conn:
            risk = hub_call(inventory_risk, conn, network_admin("admin:cli"), datetime.now(timezone.utc), None,
                            location)
        covers, _next = covers_page(risk.covers, None, level, None, limit)
        for c in covers:
            click.echo(f"{c.level:<9} {c.reason}")
        hints = risk.suggestions
        click.echo(f"{len(hints)} transfer(s) suggested" + (":" if hints else "."))
        for s in hints:
            click.echo(f"  {s.qty} {s.sku} {s.from_location} -> {s.to_location}")

    @insight.command()
    @db_option
    @click.argument("sku")
    @click.argument("from_location")
    @click.argument("to_location")
    @click.option("--qty", type=click.IntRange(1, 1_000_000), default=None, help="At most the suggested units [all].")
    def ship(db_url: str, sku: str, from_location: str, to_location: str, qty: int | None) -> None:
        """Ship a suggested transfer of SKU from FROM_LOCATION to TO_LOCATION."""
        from hub.access import network_admin
        from hub.insight.inventory import ship_suggested

        with open_db(db_url).write() as conn:
            made = hub_call(ship_suggested, conn, network_admin("admin:cli"), datetime.now(timezone.utc), sku,
                            from_location, to_location, qty)
        click.echo(f"transfer {made['transfer_id']}: {made['qty']} {sku} in transit to {to_location}")

    @insight.command()
    @db_option
    @click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day [13 days ago].")
    @click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day [today].")
    @click.option("--location", default=None)
    @click.option("--csv", "as_csv", is_flag=True, help="The same table as CSV.")
    def analytics(db_url: str, first: datetime | None, last: datetime | None, location: str | None,
                  as_csv: bool) -> None:
        """Fulfilment per location and day: stage times, on time, pick rate, short rate, refusals."""
        from hub.access import network_admin
        from hub.insight.analytics import analytics_csv, date_range, read_analytics

        days = hub_call(date_range, first.date() if first else None, last.date() if last else None,
                        datetime.now(timezone.utc).date())
        with open_db(db_url).read() as conn:
            rows = hub_call(read_analytics, conn, network_admin("admin:cli"), *days, location)
        if as_csv:
            click.echo(analytics_csv(rows), nl=False)
            return
        click.echo(f"{'location':<12} {'day':<10} {'done':>5} {'on time':>7} {'cycle':>7} {'units/h':>8} "
                   f"{'short':>6} {'refused':>7}")
        for r in rows:
            click.echo(f"{r['location']:<12} {r['day']:<10} {r['orders_finished']:>5} {_pct(r['on_time_rate']):>7} "
                       f"{_num(r['cycle_min']):>7} {_num(r['units_per_hour']):>8} {_pct(r['short_rate']):>6} "
                       f"{r['refusals']:>7}")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
