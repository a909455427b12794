"""`backroom hub routing show|set FILE|profile`, `backroom hub rebroker`, `backroom hub
release|reassign`: routing from the command line, each change a logged hub command."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable

import click

__all__ = ["add_routing_commands"]


def add_routing_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable) -> None:
    """Register the routing commands on `hub` (hands in the CLI's helpers: no import circle)."""

    @hub.group()
    def routing() -> None:
        """The routing policy and location profiles."""

    @routing.command("show")
    @db_option
    def show(db_url: str) -> None:
        """Print the routing policy in force (JSON) with its version."""
        from hub.routing_actions import policy_view

        with open_db(db_url).read() as conn:
            click.echo(json.dumps(policy_view(conn), indent=2))

    @routing.command("set")
    @db_option
    @click.argument("policy_file", type=click.File("r"))
    @click.option("--note", default="", help="Why this version.")
    def set_(db_url: str, policy_file: Any, note: str) -> None:
        """Set a new policy version from a JSON file (a policy, or `routing show` output)."""
        from hub.routing_actions import set_policy

        try:
            body = json.load(policy_file)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="POLICY_FILE") from exc
        policy = body.get("policy", body) if isinstance(body, dict) else body
        with open_db(db_url).write() as conn:
            view = hub_call(set_policy, conn, policy, note, "cli")
        click.echo(f"routing policy version {view['version']}")

    @routing.command("profile")
    @db_option
    @click.option("--location", "code", required=True)
    @click.option("--lat", type=float, default=None)
    @click.option("--lon", type=float, default=None)
    @click.option("--tz-offset-min", type=int, default=0, show_default=True)
    @click.option("--hours", default=None, help='JSON, e.g. {"mon": "08:00-20:00"}; omitted: always open.')
    @click.option("--daily-capacity", type=int, default=None)
    @click.option("--rank", type=int, default=0, show_default=True)
    def profile(db_url: str, code: str, lat: float | None, lon: float | None, tz_offset_min: int, hours: str | None,
                daily_capacity: int | None, rank: int) -> None:
        """Set where a location is, its opening hours, daily capacity and rank."""
        from hub.routing_actions import set_location_profile

        try:
            parsed = json.loads(hours) if hours else None
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--hours") from exc
        payload = {"code": code, "lat": lat, "lon": lon, "tz_offset_min": tz_offset_min, "hours": parsed,
                   "daily_capacity": daily_capacity, "rank": rank}
        with open_db(db_url).write() as conn:
            hub_call(set_location_profile, conn, payload, "cli")
        click.echo(f"profile of {code} set")

    @hub.command()
    @db_option
    @click.option("--limit", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True)
    def rebroker(db_url: str, limit: int) -> None:
        """Route parked (awaiting stock) orders again, highest priority and oldest first."""
        from hub.routing_actions import rebroker as run

        with open_db(db_url).write() as conn:
            click.echo(hub_call(run, conn, datetime.now(timezone.utc), "cli", limit))

    @hub.command("release")
    @db_option
    @click.argument("order_id")
    @click.option("--forget-rejections", is_flag=True, help="Let locations that rejected it take it again.")
    def release(db_url: str, order_id: str, forget_rejections: bool) -> None:
        """Send a parked order back through routing."""
        from hub.routing_actions import release_order

        with open_db(db_url).write() as conn:
            click.echo(hub_call(release_order, conn, order_id, datetime.now(timezone.utc), "cli", forget_rejections))

    @hub.command("reassign")
    @db_option
    @click.argument("order_id")
    @click.option("--location", required=True)
    def reassign(db_url: str, order_id: str, location: str) -> None:
        """Move an order nobody has picked from to LOCATION."""
        from hub.routing_actions import reassign_order

        with open_db(db_url).write() as conn:
            click.echo(hub_call(reassign_order, conn, order_id, location, datetime.now(timezone.utc), "cli"))

    @hub.command("what-if")
    @db_option
    @click.option("--policy", "policy_file", type=click.File("r"), required=True, help="A routing policy (JSON).")
    @click.option("--show", type=click.IntRange(0, 10_000), default=10, show_default=True,
                  help="Orders routed differently to print with both explanations.")
    @click.option("--since", default=None, help="The candidate takes over from then (7d, 36h, 90m or an ISO 8601 "
                                                "time) and the orders accepted since are compared; default: all.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
    def what_if_cmd(db_url: str, policy_file: Any, show: int, since: str | None, as_json: bool) -> None:
        """Replay the log under another routing policy in a scratch database and compare."""
        from dataclasses import asdict

        from pydantic import ValidationError

        from hub.domain.routing_policy import RoutingPolicy
        from hub.what_if import parse_since, what_if

        try:
            since_at = parse_since(since) if since else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from exc
        try:
            body = json.load(policy_file)
            policy = RoutingPolicy.model_validate(body.get("policy", body) if isinstance(body, dict) else body)
        except (json.JSONDecodeError, ValidationError) as exc:
            raise click.BadParameter(str(exc).splitlines()[0] if isinstance(exc, json.JSONDecodeError) else str(exc),
                                     param_hint="--policy") from exc
        comparison = what_if(open_db(db_url), policy, since=since_at)
        if as_json:
            click.echo(json.dumps(asdict(comparison), default=list))
        else:
            click.echo("\n".join(comparison.lines(show)))
