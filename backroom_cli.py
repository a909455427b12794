"""The `backroom` command: `backroom hub …`, `backroom edge …`, `backroom demo`."""

from __future__ import annotations

import click

from edge_app.cli import edge
from hub.cli import hub
from simulator.cli import simulate

__all__ = ["main", "cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Backroom: offline-first picking, packing, pickups and returns for store floors."""


cli.add_command(hub)
cli.add_command(edge)
cli.add_command(simulate)


@cli.command()
@click.option("--dir", "state_dir", default=".backroom", show_default=True, help="Where the demo keeps its files.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the hub and the app listen on.")
@click.option("--hub-port", default=8700, show_default=True)
@click.option("--app-port", default=8550, show_default=True)
@click.option("--reset", is_flag=True, help="Throw away the demo's data first and start from the seeded store.")
def demo(state_dir: str, host: str, hub_port: int, app_port: int, reset: bool) -> None:
    """Start a hub with the demo store, enroll a device, serve the floor app.

    Type h + Enter to stop or start the hub (the floor app keeps working offline);
    q + Enter or Ctrl-C stops everything."""
    from backroom_demo import run_demo

    run_demo(state_dir, host, hub_port, app_port, reset)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
