"""`backroom edge …`: enroll a device, run a sync round headless, show status, serve the app."""

from __future__ import annotations

import asyncio
import json
import os

import click

from edge_app.errors import EdgeError

data_dir_option = click.option("--data-dir", required=True, type=click.Path(file_okay=False),
                               envvar="BACKROOM_DATA_DIR", help="The device's data folder (holds replica.db).")


__all__ = ["edge"]


@click.group()
def edge() -> None:
    """The device side: the local replica, its outbox, and the floor app."""


@edge.command()
@click.option("--hub", "hub_url", required=True, help="Hub base URL, e.g. https://hub.store.example:8700")
@click.option("--code", required=True, help="One-time code from `backroom hub enroll`.")
@data_dir_option
@click.option("--name", default="", help="A name to tell this device by on the hub.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The certificate (or its authority) to trust for an https hub with its own certificate.")
@click.option("--insecure", is_flag=True, help="Allow plain http to another machine: tokens cross the network in clear.")
def enroll(hub_url: str, code: str, data_dir: str, name: str, ca_file: str | None, insecure: bool) -> None:
    """Enroll this data folder as a device of the hub (https, or http to this machine)."""
    from edge_app.enroll import enroll as do_enroll
    from edge_app.local.replica import Replica

    replica = Replica(data_dir)
    try:
        enrollment = asyncio.run(do_enroll(replica, hub_url, code, name, insecure=insecure,
                                           ca_file=os.path.abspath(ca_file) if ca_file else None))
    except EdgeError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        replica.close()
    click.echo(f"enrolled device {enrollment.device_id} at {enrollment.location} as {enrollment.role}")


@edge.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--batch-size", default=200, show_default=True, help="Ops per push request.")
def sync(data_dir: str, as_json: bool, batch_size: int) -> None:
    """Run one sync round: push the outbox, pull hub changes. Exits 1 if the hub is unreachable."""
    from edge_app.agent import SyncAgent, hub_client
    from edge_app.local.replica import Replica
    from edge_app.process import settle_after_start

    replica = Replica(data_dir)
    settle_after_start()

    async def round_():
        async with hub_client(replica) as client:
            return await SyncAgent(replica, client, batch_size=batch_size).sync_once()

    try:
        report = asyncio.run(round_())
    except EdgeError as exc:
        if as_json:
            click.echo(json.dumps({"error": str(exc)}))
            raise SystemExit(1)
        raise click.ClickException(str(exc)) from exc
    finally:
        replica.close()
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    click.echo(f"pushed {report.pushed} ops: {report.applied} applied, {report.duplicates} duplicate, {len(report.rejected)} rejected")
    for r in report.rejected:
        click.echo(f"  rejected op #{r['device_seq']}: {r['reason_code']}: {r['message']}")
    click.echo(f"pulled {report.pulled} changes; cursor {report.cursor}; {report.outbox_depth} ops still in the outbox")


@edge.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def status(data_dir: str, as_json: bool) -> None:
    """Show the device identity, the outbox and the replica's contents."""
    from edge_app.local.replica import Replica

    replica = Replica(data_dir)
    try:
        ident = replica.identity()
        info = {
            "device_id": ident["device_id"],
            "location": ident["location"],
            "role": ident["role"],
            "hub_url": ident["hub_url"],
            "cursor": replica.cursor,
            "outbox": {r["state"]: r["n"] for r in replica.query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")},
            "rows": {t: replica.db[t].count for t in ("items", "bins", "orders", "order_lines", "stock")},
        }
    except EdgeError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        replica.close()
    click.echo(json.dumps(info, indent=None if as_json else 2))


@edge.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8550, show_default=True)
@click.option("--sync-interval", default=5.0, show_default=True, help="Seconds between sync rounds when idle.")
def serve(data_dir: str, host: str, port: int, sync_interval: float) -> None:
    """Serve the floor app as a web app (Flet, no CDN)."""
    from edge_app.ui.app import serve as serve_app

    serve_app(data_dir, host=host, port=port, sync_interval=sync_interval)
