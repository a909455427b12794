"""`backroom hub carriers load|show|quote|manifest`: carrier rate tables and handover
manifests from the command line, each change a logged hub command."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any, Callable

import click

__all__ = ["add_carrier_commands"]


def add_carrier_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable) -> None:
    """Register the carrier commands on `hub` (hands in the CLI's helpers: no import circle)."""

    @hub.group()
    def carriers() -> None:
        """Carrier rate tables, quotes and handover manifests."""

    @carriers.command("load")
    @db_option
    @click.option("--services", "services", type=click.File("r"), required=True, help="carrier,service,name,tracking_prefix")
    @click.option("--zones", "zones", type=click.File("r"), required=True, help="zone,country,postal_prefix,min_km,max_km")
    @click.option("--rates", "rates", type=click.File("r"), required=True,
                  help="carrier,service,zone,max_weight_g,price,transit_days")
    @click.option("--note", default="", help="Why this version.")
    @click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
    def load(db_url: str, services: Any, zones: Any, rates: Any, note: str, dry_run: bool) -> None:
        """Load a rate table from three CSV files as the next version. Every bad row is
        printed with its file and line; if there is one, nothing is loaded (exit 1)."""
        from hub.carrier_actions import load_rates

        texts = {"services": services.read(), "zones": zones.read(), "rates": rates.read()}
        with open_db(db_url).write() as conn:
            report = hub_call(load_rates, conn, texts, note, "cli", dry_run)
        for error in report["errors"]:
            click.echo(f"{error['file']}.csv line {error['line']}: {error['error']}", err=True)
        rows = ", ".join(f"{n} {part}" for part, n in report["rows"].items())
        if not report["ok"]:
            click.echo(f"{report['bad_rows']} bad row(s) of {rows}: nothing loaded", err=True)
            sys.exit(1)
        click.echo(f"checked {rows}: all good (dry run, nothing loaded)" if dry_run
                   else f"carrier rate table version {report['version']}: {rows}")

    @carriers.command("show")
    @db_option
    def show(db_url: str) -> None:
        """Print the rate table in force (JSON) with its version."""
        from hub.carrier_actions import rates_view

        with open_db(db_url).read() as conn:
            click.echo(json.dumps(rates_view(conn), indent=2))

    @carriers.command("quote")
    @db_option
    @click.argument("order_id")
    @click.option("--weight-g", type=click.IntRange(1, 1_000_000), required=True)
    @click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Ship day (UTC); today if left out.")
    def quote_cmd(db_url: str, order_id: str, weight_g: int, day: datetime | None) -> None:
        """The service a carton of the order would go with, and why every other one lost."""
        from hub.carrier_actions import quote

        ship_day = day.date() if day else datetime.now(timezone.utc).date()
        with open_db(db_url).read() as conn:
            answer = hub_call(quote, conn, order_id, weight_g, ship_day)
        chosen = answer["chosen"]
        click.echo(f"{chosen['carrier']} {chosen['service']}" if chosen else "no service can take it")
        click.echo("\n".join(answer["explanation"]))

    @carriers.command("manifest")
    @db_option
    @click.option("--location", required=True)
    @click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Handover day (UTC); today if left out.")
    @click.option("--carrier", default=None, help="One carrier only.")
    @click.option("--csv", "as_csv", is_flag=True, help="Print CSV (one carton a row) instead of text.")
    def manifest_cmd(db_url: str, location: str, day: datetime | None, carrier: str | None, as_csv: bool) -> None:
        """The cartons LOCATION handed to carriers on a day: what the driver signs for."""
        from hub.carrier_actions import manifest, manifest_csv

        on = (day.date() if day else datetime.now(timezone.utc).date()).isoformat()
        with open_db(db_url).read() as conn:
            rows = hub_call(manifest, conn, location, on, carrier)
        if as_csv:
            click.echo(manifest_csv(rows), nl=False)
            return
        click.echo(f"{location} {on}: {len(rows)} carton(s)")
        for r in rows:
            click.echo(f"{r['carrier']:<10} {r['service'] or '-':<10} {r['tracking'] or '-':<21} {r['sscc']} "
                       f"{r['weight_g'] / 1000:6.2f} kg  {r['recipient']}, {r['postal_code'] or ''} {r['country'] or ''}")


