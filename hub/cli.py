"""`backroom hub …`: serve, migrate, seed, enroll devices, issue API tokens."""

from __future__ import annotations

import os
from contextlib import nullcontext

import click

from hub.errors import HubError
from hub.store.db import Database

__all__ = ["hub", "open_db", "DEFAULT_DB"]

DEFAULT_DB = "sqlite:///.backroom/hub.db"
db_option = click.option("--db", "db_url", default=DEFAULT_DB, show_default=True, envvar="BACKROOM_HUB_DB",
                         help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB")


def open_db(db_url: str) -> Database:
    """Open and migrate the hub database, creating the SQLite file's folder."""
    from hub.store.migrations import migrate

    if db_url.startswith("sqlite:///"):
        folder = os.path.dirname(db_url[len("sqlite:///"):])
        if folder:
            os.makedirs(folder, exist_ok=True)
    db = Database(db_url)
    migrate(db)
    return db


@click.group()
def hub() -> None:
    """The central hub: orders, stock, devices and sync."""


@hub.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, help="HTTP worker processes.")
@click.option("--writer", type=click.Choice(["process", "thread"]), default="process", show_default=True,
              help="Apply pushed ops in a writer process of their own, or in each HTTP worker.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True,
              help="info logs one JSON line per request (method, path, status, ms, caller) on stderr.")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="TLS certificate (PEM, the chain after it): serve https.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), default=None, help="The certificate's private key (PEM).")
@click.option("--relay", is_flag=True, help="Run the event relay (JetStream, webhooks) in a process beside the hub; "
              "configured by BACKROOM_NATS_URL, BACKROOM_EVENTS_STREAM, BACKROOM_EVENTS_SUBJECT.")
@click.option("--jobs/--no-jobs", default=True, show_default=True,
              help="Run the scheduled jobs (re-brokering parked orders, expiring uncollected pickups) in a process "
                   "beside the hub; intervals from BACKROOM_REBROKER_EVERY_S, BACKROOM_PICKUP_SWEEP_EVERY_S "
                   "(seconds, 0: off). See `backroom hub jobs`.")
def serve(db_url: str, host: str, port: int, workers: int, writer: str, log_level: str, cert: str | None,
          key: str | None, relay: bool, jobs: bool) -> None:
    """Run the hub's HTTP API (OpenAPI at /openapi.json, docs at /docs), over https
    with --cert and --key.

    Pushed ops are applied in a writer process beside the HTTP workers: in one
    process they would share one GIL with the HTTP work (see docs/benchmarks.md)."""
    import uvicorn

    if (cert is None) != (key is None):
        raise click.BadParameter("give both --cert and --key, or neither", param_hint="--cert/--key")
    if cert is None and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving plain http on {host}: device tokens would cross the network in clear; "
                   "devices refuse it without --insecure. Use --cert and --key (README, TLS).", err=True)

    from hub.api.asgi import DB_ENV, LOG_LEVEL_ENV
    from hub.api.writer import SOCKET_ENV, writer_process

    open_db(db_url).dispose()
    os.environ[DB_ENV] = db_url
    os.environ[LOG_LEVEL_ENV] = log_level
    from hub.events.relay import RelayConfig, relay_process
    from hub.jobs import intervals_from_env, jobs_process

    try:
        scheduled = jobs_process(db_url, intervals_from_env()) if jobs else nullcontext()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    with (writer_process(db_url) if writer == "process" else nullcontext()) as socket_path, \
            (relay_process(db_url, RelayConfig.from_env()) if relay else nullcontext()), scheduled:
        if socket_path:
            os.environ[SOCKET_ENV] = socket_path
        scheme = "https" if cert else "http"
        click.echo(f"hub listening on {scheme}://{host}:{port} ({db_url.split('://')[0]}, {workers} worker(s), "
                   f"log level {log_level})", err=True)
        uvicorn.run("hub.api.asgi:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False, ssl_certfile=cert, ssl_keyfile=key)


@hub.command("migrate")
@db_option
def migrate_cmd(db_url: str) -> None:
    """Bring the database schema up to date."""
    from hub.store.migrations import migrate

    db = open_db(db_url)
    click.echo(f"schema up to date ({', '.join(migrate(db)) or 'nothing to do'})")


@hub.command()
@db_option
@click.option("--demo", is_flag=True, required=True, help="Load the demo store (location DEMO-1).")
def seed(db_url: str, demo: bool) -> None:
    """Load demo data: catalogue, bins, stock and a few open orders."""
    from hub.seed import DEMO_LOCATION, seed_demo

    counts = seed_demo(open_db(db_url))
    if not any(counts.values()):
        click.echo(f"demo store {DEMO_LOCATION} is already loaded")
        return
    click.echo(f"seeded {DEMO_LOCATION}: {counts['items']} items, {counts['bins']} bins, {counts['orders']} orders")


@hub.command()
@db_option
@click.option("--location", required=True, help="Location code the device works at, e.g. DEMO-1.")
@click.option("--role", default="picker", show_default=True, help="picker, packer, associate, supervisor or terminal.")
def enroll(db_url: str, location: str, role: str) -> None:
    """Create a one-time enrollment code; it is printed alone on the last line."""
    from hub.credentials import create_enrollment_code

    with open_db(db_url).write() as conn:
        code = _hub_call(create_enrollment_code, conn, location, role)
    click.echo(f"one-time code for a {role} device at {location}, valid 24 h:", err=True)
    click.echo(code)


@hub.command()
@db_option
@click.option("--role", type=click.Choice(["admin", "intake"]), default="admin", show_default=True)
@click.option("--name", default="cli", show_default=True, help="Who the token is for.")
@click.option("--channel", default=None, help="An intake token's sales channel (required for intake).")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None,
              help="Days until it expires (default: admin 30, intake 365).")
def token(db_url: str, role: str, name: str, channel: str | None, expires_in_days: int | None) -> None:
    """Issue an API token (admin: everything; intake: posts and cancels one channel's orders).
    Printed once, on the last line; its id (for `hub tokens`) is the part after the role."""
    from datetime import timedelta

    from hub.credentials import create_api_token

    expires = timedelta(days=expires_in_days) if expires_in_days else None
    with open_db(db_url).write() as conn:
        click.echo(_hub_call(create_api_token, conn, role, name, channel, expires, "cli"))


def _hub_call(fn, *args):
    try:
        return fn(*args)
    except HubError as exc:
        raise click.ClickException(str(exc)) from exc


@hub.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def verify(db_url: str, as_json: bool) -> None:
    """Replay the op log into an empty database and compare state digests. Exits 1 on a difference."""
    import json

    from hub.verify import replay

    verdict = replay(open_db(db_url))
    if as_json:
        click.echo(json.dumps({"ops": verdict.ops, "original": verdict.original, "replayed": verdict.replayed,
                               "same": verdict.same, "different_answers": verdict.different_answers, "rows": verdict.counts}))
    else:
        click.echo(f"replayed {verdict.ops} logged ops")
        click.echo(f"state digest  live: {verdict.original}")
        click.echo(f"state digest  replay: {verdict.replayed}")
        for line in verdict.different_answers[:20]:
            click.echo(f"  answer differs: {line}")
        click.echo("same state" if verdict.same else "DIFFERENT STATE")
    if not verdict.same:
        raise SystemExit(1)


@hub.command()
@db_option
@click.option("--now", "now_iso", default=None, help="The time to sweep at (ISO 8601); default: now.")
def sweep(db_url: str, now_iso: str | None) -> None:
    """Expire ready pickup orders nobody collected by their pickup-by time; their units get put-back tasks."""
    from datetime import datetime, timezone

    from hub.actions import sweep_pickups

    try:
        now = datetime.fromisoformat(now_iso) if now_iso else datetime.now(timezone.utc)
    except ValueError as exc:
        raise click.BadParameter(f"{now_iso!r} is not an ISO 8601 time", param_hint="--now") from exc
    with open_db(db_url).write() as conn:
        expired = _hub_call(sweep_pickups, conn, now)
    click.echo(f"expired {len(expired)} pickup order{'s' if len(expired) != 1 else ''}" + (f": {', '.join(expired)}" if expired else ""))


@hub.group()
def operator() -> None:
    """People who sign in on the floor devices of a location."""


@operator.command("add")
@db_option
@click.option("--location", required=True, help="Location code, e.g. DEMO-1.")
@click.option("--id", "operator_id", required=True, help="Operator id, printed on the badge as BADGE:<id>.")
@click.option("--name", required=True, help="The person's name as the devices show it.")
@click.option("--role", required=True, type=click.Choice(["picker", "packer", "associate", "supervisor"]))
@click.option("--pin", required=True, help="4-8 digits; stored hashed with a salt, never as typed.")
def operator_add(db_url: str, location: str, operator_id: str, name: str, role: str, pin: str) -> None:
    """Add an operator, or change one's name, role or PIN; devices get it on their next sync."""
    from hub.commands import operator_payload
    from hub.log import run_hub_command

    try:
        payload = operator_payload(operator_id, name, role, location, pin)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--pin") from exc
    with open_db(db_url).write() as conn:
        _hub_call(run_hub_command, conn, "operator.upserted", payload, "cli")
    click.echo(f"operator {operator_id} ({name}, {role}) at {location}")


def _register_admin_commands() -> None:
    from hub.admin_cli import add_admin_commands

    add_admin_commands(hub, operator, db_option, open_db, _hub_call)
    from hub.network_cli import add_network_commands  # set-up

    add_network_commands(hub, db_option, open_db, _hub_call)


_register_admin_commands()


def _register_event_commands() -> None:  # events out
    from hub.events.cli import events, relay

    hub.add_command(relay)
    hub.add_command(events)


_register_event_commands()


def _register_routing_commands() -> None:  # routing
    from hub.routing_cli import add_routing_commands

    add_routing_commands(hub, db_option, open_db, _hub_call)


_register_routing_commands()


def _register_jobs_commands() -> None:  # scheduled jobs
    from hub.jobs_cli import add_jobs_commands

    add_jobs_commands(hub, db_option, open_db, _hub_call)


_register_jobs_commands()


def _register_substitute_commands() -> None:  # substitution at pick
    from hub.substitutes_cli import add_substitute_commands

    add_substitute_commands(hub, db_option, open_db, _hub_call)


_register_substitute_commands()


def _register_anomaly_commands() -> None:  # anomalies
    from hub.anomaly_cli import add_anomaly_commands

    add_anomaly_commands(hub, db_option, open_db, _hub_call)


_register_anomaly_commands()


def _register_carrier_commands() -> None:  # carriers
    from hub.carrier_cli import add_carrier_commands

    add_carrier_commands(hub, db_option, open_db, _hub_call)


_register_carrier_commands()


def _register_insight_commands() -> None:  # inventory risk and fulfilment analytics
    from hub.insight.cli import add_insight_commands

    add_insight_commands(hub, db_option, open_db, _hub_call)


_register_insight_commands()
