"""`backroom hub import|export|location|bin|stock|transfer …`: set up a store network from
the command line. Every change is a logged hub command with `cli` as its actor, under a
network admin's access (the CLI runs on the hub's own machine)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

__all__ = ["add_network_commands"]

KIND = click.Choice(["items", "bins", "stock"])


def add_network_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable[..., Any]) -> None:
    """Add the set-up commands to the `hub` group."""
    _file_commands(hub, db_option, open_db, hub_call)
    _location_commands(hub, db_option, open_db, hub_call)
    _stock_commands(hub, db_option, open_db, hub_call)


def _cli_access() -> Any:
    from hub.access import network_admin

    return network_admin("cli")


def _file_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable[..., Any]) -> None:
    @hub.command("import")
    @db_option
    @click.argument("kind", type=KIND)
    @click.argument("file", type=click.File("r", encoding="utf-8-sig"))
    @click.option("--dry-run", is_flag=True, help="Check every row and report the bad ones; change nothing.")
    def import_cmd(db_url: str, kind: str, file: Any, dry_run: bool) -> None:
        """Import items, bins or stock from a CSV FILE (columns: docs/setup.md). Every bad row
        is reported with its line and nothing is applied; a good file is applied in batches
        (each a logged hub command), with a progress bar."""
        from hub.imports import import_csv

        db = open_db(db_url)
        click.echo(f"checking {kind} in {file.name} …", err=True)
        with click.progressbar(length=0, label=f"importing {kind}", file=sys.stderr) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            report = hub_call(import_csv, db, _cli_access(), kind, file, dry_run, progress)
        for line, error in report.bad[:1000]:
            click.echo(f"line {line}: {error}")
        if len(report.bad) > 1000:
            click.echo(f"… and {len(report.bad) - 1000} more bad rows")
        if report.bad:
            raise click.ClickException(f"{len(report.bad)} bad rows of {report.rows}: nothing imported")
        said = "would import" if dry_run else "imported"
        click.echo(f"{said} {report.rows if dry_run else report.applied} {kind}"
                   + ("" if dry_run else f" in {report.batches} batches"))

    @hub.command("export")
    @db_option
    @click.argument("kind", type=KIND)
    @click.argument("file", type=click.File("w", encoding="utf-8"), default="-")
    def export_cmd(db_url: str, kind: str, file: Any) -> None:
        """Write every item, bin or stock figure as CSV to FILE (default: standard output),
        in the columns the import reads."""
        from hub.imports import export_csv

        count = hub_call(export_csv, open_db(db_url), _cli_access(), kind, file)
        click.echo(f"exported {count} {kind}", err=True)


def _location_options(fn: Callable) -> Callable:
    for option in reversed([
        click.option("--name", default=None, help="The name people know it by."),
        click.option("--kind", type=click.Choice(["store", "warehouse", "dark_store"]), default=None),
        click.option("--address", default=None, help="Its postal address, on one line."),
        click.option("--lat", type=float, default=None, help="Latitude (WGS 84)."),
        click.option("--lon", type=float, default=None, help="Longitude (WGS 84)."),
        click.option("--time-zone", default=None, help="IANA time zone, e.g. Europe/Paris."),
        click.option("--hours", default=None, help='Opening hours as JSON: {"mon": ["08:00-20:00"], …}.'),
        click.option("--capacity", "daily_capacity", type=int, default=None, help="Orders it can take a day."),
    ]):
        fn = option(fn)
    return fn


def _location_fields(**given: Any) -> dict[str, Any]:
    fields = {k: v for k, v in given.items() if v is not None}
    if "hours" in fields:
        try:
            fields["opening_hours"] = json.loads(fields.pop("hours"))
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--hours") from exc
    return fields


def _location_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable[..., Any]) -> None:
    @hub.group()
    def location() -> None:
        """Stores, warehouses and dark stores of the network."""

    @location.command("add")
    @db_option
    @click.argument("code")
    @_location_options
    def location_add(db_url: str, code: str, **given: Any) -> None:
        """Add location CODE (--name and --kind are required)."""
        from hub.network_actions import add_location

        fields = _location_fields(**given)
        with open_db(db_url).write() as conn:
            hub_call(add_location, conn, _cli_access(), {"code": code, **fields})
        click.echo(f"location {code} added")

    @location.command("update")
    @db_option
    @click.argument("code")
    @_location_options
    def location_update(db_url: str, code: str, **given: Any) -> None:
        """Change the fields given of location CODE."""
        from hub.network_actions import update_location

        with open_db(db_url).write() as conn:
            result = hub_call(update_location, conn, _cli_access(), code, _location_fields(**given))
        click.echo(result.message)

    @hub.group("bin")
    def bin_group() -> None:
        """Bins of a location, in pick-path order."""

    @bin_group.command("add")
    @db_option
    @click.option("--location", required=True)
    @click.option("--code", required=True)
    @click.option("--seq", type=int, required=True, help="Its place on the pick path (lower is walked first).")
    @click.option("--zone", default=None, help="The zone it lies in (aisle, chiller, cage …).")
    def bin_add(db_url: str, location: str, code: str, seq: int, zone: str | None) -> None:
        """Add a bin, or change its place on the pick path or its zone."""
        from hub.network_actions import add_bin

        with open_db(db_url).write() as conn:
            hub_call(add_bin, conn, _cli_access(), {"location": location, "code": code, "seq": seq, "zone": zone})
        click.echo(f"bin {location}/{code} at {seq}")


def _stock_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable[..., Any]) -> None:
    from hub.commands import ADJUST_REASONS

    @hub.group()
    def stock() -> None:
        """Stock outside the floor's own ops: adjustments with a reason."""

    @stock.command("adjust")
    @db_option
    @click.option("--location", required=True)
    @click.option("--bin", "bin_code", required=True)
    @click.option("--sku", required=True)
    @click.option("--qty", type=int, required=True, help="Units found (+) or gone (−).")
    @click.option("--reason", type=click.Choice(ADJUST_REASONS), required=True)
    @click.option("--note", default="")
    def stock_adjust(db_url: str, location: str, bin_code: str, sku: str, qty: int, reason: str, note: str) -> None:
        """Adjust a bin's stock by QTY units, with a reason the ledger keeps."""
        from hub.network_actions import adjust_stock

        with open_db(db_url).write() as conn:
            result = hub_call(adjust_stock, conn, _cli_access(), {"location": location, "bin": bin_code, "sku": sku,
                                                                   "qty": qty, "reason": reason, "note": note})
        click.echo(result.message)

    @hub.group()
    def transfer() -> None:
        """Stock sent between locations: shipped, in transit, received."""

    @transfer.command("ship")
    @db_option
    @click.option("--from", "from_location", required=True)
    @click.option("--to", "to_location", required=True)
    @click.option("--line", "lines", multiple=True, required=True, metavar="BIN:SKU:QTY", help="Repeat per line.")
    def transfer_ship(db_url: str, from_location: str, to_location: str, lines: tuple[str, ...]) -> None:
        """Ship units from bins of one location to another; prints the transfer's id."""
        from hub.network_actions import ship_transfer

        parsed = []
        for line in lines:
            parts = line.rsplit(":", 2)
            if len(parts) != 3 or not parts[2].isdigit():
                raise click.BadParameter(f"{line!r} is not BIN:SKU:QTY", param_hint="--line")
            parsed.append({"bin": parts[0], "sku": parts[1], "qty": int(parts[2])})
        with open_db(db_url).write() as conn:
            transfer_id = hub_call(ship_transfer, conn, _cli_access(), {"from_location": from_location,
                                                                        "to_location": to_location, "lines": parsed})
        click.echo(transfer_id)

    @transfer.command("receive")
    @db_option
    @click.argument("transfer_id")
    @click.option("--bin", "bin_code", required=True, help="The bin at the destination the units go into.")
    def transfer_receive(db_url: str, transfer_id: str, bin_code: str) -> None:
        """Receive a transfer in transit into a bin at its destination."""
        from hub.network_actions import receive_transfer

        with open_db(db_url).write() as conn:
            result = hub_call(receive_transfer, conn, _cli_access(), transfer_id, bin_code)
        click.echo(result.message)
