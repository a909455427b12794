"""`backroom hub relay` and `backroom hub events …`: the relay process, the event
schemas, webhook subscriptions and their dead letters."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["relay", "events", "nats_options"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "events"


def nats_options(fn):
    """--nats, --stream and --subject (else the environment, else the defaults)."""
    fn = click.option("--subject", default=None, help="Subject prefix [env BACKROOM_EVENTS_SUBJECT, backroom.events].")(fn)
    fn = click.option("--stream", default=None, help="JetStream stream [env BACKROOM_EVENTS_STREAM, BACKROOM_EVENTS].")(fn)
    return click.option("--nats", "nats_url", default=None,
                        help="NATS server URL [env BACKROOM_NATS_URL, nats://127.0.0.1:4222].")(fn)


def _db_option(fn):
    from hub.cli import DEFAULT_DB

    return click.option("--db", "db_url", default=DEFAULT_DB, show_default=True, envvar="BACKROOM_HUB_DB",
                        help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB")(fn)


@click.command()
@_db_option
@nats_options
@click.option("--batch", type=click.IntRange(1, 10_000), default=None, help="Events per page published [1000].")
@click.option("--no-webhooks", is_flag=True, help="Publish to JetStream only.")
@click.option("--no-jetstream", is_flag=True, help="Deliver to webhooks only.")
@click.option("--risk-every", type=click.FloatRange(0, 86400), default=None,
              help="Seconds between SLA risk refreshes (0: none) [60].")
def relay(db_url: str, nats_url: str | None, stream: str | None, subject: str | None, batch: int | None,
          no_webhooks: bool, no_jetstream: bool, risk_every: float | None) -> None:
    """Publish the hub's events to NATS JetStream and to webhooks, at least once, from
    durable cursors; stops on SIGTERM/SIGINT and starts again where it stopped."""
    from hub.cli import open_db
    from hub.events.relay import RelayConfig, relay_main

    config = RelayConfig.from_env(nats_url=nats_url, stream=stream, subject=subject, batch=batch,
                                  webhooks=not no_webhooks, jetstream=not no_jetstream, risk_every_s=risk_every)
    open_db(db_url).dispose()
    click.echo(f"relay: {config.nats_url} stream {config.stream} subjects {config.subject}.>", err=True)
    relay_main(db_url, config)


@click.group()
def events() -> None:
    """Events out: schemas, webhook subscriptions, dead letters."""


@events.command()
@click.option("--out", type=click.Path(file_okay=False), default=str(SCHEMA_DIR), show_default=True)
def schemas(out: str) -> None:
    """Write the JSON Schema of every event type (and of the envelope) to --out."""
    from hub.events.schemas import write_schemas

    written = write_schemas(Path(out))
    click.echo(f"wrote {len(written)} schemas to {out}")


@events.command("subscribe")
@_db_option
@click.option("--url", required=True, help="Where to POST events (http:// or https://).")
@click.option("--type", "types", multiple=True, help="Event type, or prefix ending in .* (repeat; none: all).")
@click.option("--location", "locations", multiple=True, help="Only events of this location (repeat; none: all).")
@click.option("--from-start", is_flag=True, help="Deliver every event kept, not only those from now on.")
def subscribe_cmd(db_url: str, url: str, types: tuple[str, ...], locations: tuple[str, ...], from_start: bool) -> None:
    """Add a webhook subscription; its signing secret is printed once, on the last line."""
    from hub.cli import open_db
    from hub.errors import HubError
    from hub.events.webhooks import subscribe

    try:
        with open_db(db_url).write() as conn:
            hook_id, secret = subscribe(conn, url, list(types), list(locations), "cli", from_start)
    except HubError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"webhook {hook_id} → {url}; its signing secret (shown once):", err=True)
    click.echo(secret)


@events.command("webhooks")
@_db_option
def webhooks_cmd(db_url: str) -> None:
    """List webhook subscriptions, how far behind each is, and its dead letters."""
    from hub.cli import open_db
    from hub.events.webhooks import webhook_rows

    with open_db(db_url).read() as conn:
        for row in webhook_rows(conn):
            click.echo(json.dumps(row))


@events.command("dead-letters")
@_db_option
@click.option("--webhook", default=None, help="One subscription's only.")
def dead_letters_cmd(db_url: str, webhook: str | None) -> None:
    """Events given up on after every retry, newest first."""
    from hub.cli import open_db
    from hub.events.webhooks import dead_letters

    with open_db(db_url).read() as conn:
        for row in dead_letters(conn, webhook):
            click.echo(json.dumps(row))


@events.command("risk")
@_db_option
def risk_cmd(db_url: str) -> None:
    """Refresh the SLA risk of every open order now (the relay does it every minute)
    and print the orders at risk, late first."""
    from hub.cli import open_db
    from hub.insight.devices import refresh_devices
    from hub.insight.risk import refresh, risk_rows

    db = open_db(db_url)
    refresh_devices(db, actor="cli")
    counts = refresh(db, actor="cli")
    click.echo(f"open orders: {counts['ok']} ok, {counts['at_risk']} at risk, {counts['late']} late "
               f"({counts['changed']} changed)", err=True)
    with db.read() as conn:
        for row in risk_rows(conn):
            click.echo(f"{row['level']:8} {row['number']:12} {row['location'] or '-':10} {row['reason']}")
