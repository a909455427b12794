"""`backroom hub tokens|device|audit|admin …` and `operator disable|remove`: taking
credentials back, the console's administrators, and reading the audit trail from the
command line. Every act is in the audit trail with `cli` as its actor."""

from __future__ import annotations

import json
from typing import Any, Callable

import click

__all__ = ["add_admin_commands"]


def add_admin_commands(hub: click.Group, operator: click.Group, db_option: Callable, open_db: Callable,
                       hub_call: Callable[..., Any]) -> None:
    """Add the commands to the `hub` group (and its `operator` group)."""
    _token_commands(hub, db_option, open_db, hub_call)
    _device_commands(hub, db_option, open_db, hub_call)
    _operator_commands(operator, db_option, open_db, hub_call)
    _audit_command(hub, db_option, open_db)
    _console_admin_commands(hub, db_option, open_db, hub_call)


def _token_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable[..., Any]) -> None:
    @hub.group()
    def tokens() -> None:
        """API tokens: list them, rotate one, revoke one (issue with `hub token`)."""

    @tokens.command("list")
    @db_option
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
    def tokens_list(db_url: str, as_json: bool) -> None:
        """Every API token but its secret: id, role, name, channel, expiry, validity."""
        from hub.credentials import list_api_tokens

        with open_db(db_url).read() as conn:
            rows = list_api_tokens(conn)
        if as_json:
            click.echo(json.dumps(rows))
            return
        for r in rows:
            state = "valid" if r["valid"] else ("revoked" if r["revoked_at"] else "expired")
            click.echo(f"{r['token_id']}  {r['role']:<6} {r['name']:<20} {r['channel'] or '-':<14} "
                       f"expires {r['expires_at'] or 'never'}  {state}")

    @tokens.command("revoke")
    @db_option
    @click.argument("token_id")
    def tokens_revoke(db_url: str, token_id: str) -> None:
        """Refuse the token TOKEN_ID from now on (every hub worker within seconds)."""
        from hub.credentials import revoke_api_token

        with open_db(db_url).write() as conn:
            hub_call(revoke_api_token, conn, token_id, "cli")
        click.echo(f"token {token_id} revoked")

    @tokens.command("rotate")
    @db_option
    @click.argument("token_id")
    @click.option("--grace-minutes", type=click.IntRange(0, 7 * 24 * 60), default=60, show_default=True,
                  help="How long the old token keeps working.")
    def tokens_rotate(db_url: str, token_id: str, grace_minutes: int) -> None:
        """Issue a token like TOKEN_ID (printed on the last line); the old one expires after the grace period."""
        from datetime import timedelta

        from hub.credentials import rotate_api_token

        with open_db(db_url).write() as conn:
            click.echo(hub_call(rotate_api_token, conn, token_id, "cli", timedelta(minutes=grace_minutes)))


def _device_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable[..., Any]) -> None:
    @hub.group()
    def device() -> None:
        """Enrolled devices: list them, revoke a lost one, hand a swapped one's work over."""

    @device.command("list")
    @db_option
    def device_list(db_url: str) -> None:
        """Every device: id, name, location, role, last seen, revoked."""
        with open_db(db_url).read() as conn:
            rows = conn.execute("SELECT id, name, location, role, last_seen_at, revoked_at FROM devices "
                                "ORDER BY enrolled_at").mappings()
            for r in rows:
                click.echo(f"{r['id']}  {r['name']:<16} {r['location']:<10} {r['role']:<10} "
                           f"seen {r['last_seen_at'] or 'never'}" + (f"  REVOKED {r['revoked_at']}" if r["revoked_at"] else ""))

    @device.command("revoke")
    @db_option
    @click.argument("device_id")
    def device_revoke(db_url: str, device_id: str) -> None:
        """Refuse DEVICE_ID's token from now on and take back its escrow units. Ops it has
        not pushed are never applied: they stay on the device (`backroom edge status`)."""
        from hub.actions import revoke_device

        with open_db(db_url).write() as conn:
            hub_call(revoke_device, conn, device_id, "cli")
        click.echo(f"device {device_id} revoked")

    @device.command("hand-over")
    @db_option
    @click.option("--from", "from_device", required=True, help="The device being replaced (lost, broken, swapped).")
    @click.option("--to", "to_device", required=True, help="The device that carries on: same location, same role.")
    def device_hand_over(db_url: str, from_device: str, to_device: str) -> None:
        """Hand a replaced handheld's unfinished work (pick claims, allotments, open tasks
        given to it) to the device that replaces it, and revoke the old one. Ops the old
        one has not pushed are never applied: they stay on it (`backroom edge status`)."""
        from hub.hand_over import hand_over

        with open_db(db_url).write() as conn:
            moved = hub_call(hand_over, conn, from_device, to_device, "cli")
        click.echo(f"device {from_device} revoked; {moved['message']}")
        for what in ("claims", "allotments", "tasks"):
            if moved[what]:
                click.echo(f"  {what}: {json.dumps(moved[what])}")


def _operator_commands(operator: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable[..., Any]) -> None:
    @operator.command("disable")
    @db_option
    @click.option("--id", "operator_id", required=True, help="The operator's id.")
    @click.option("--reason", default="", help="Why, for the audit trail.")
    def operator_disable(db_url: str, operator_id: str, reason: str) -> None:
        """Stop an operator signing in; devices forget them at their next sync. `operator add` lets them back."""
        from hub.log import run_hub_command

        with open_db(db_url).write() as conn:
            hub_call(run_hub_command, conn, "operator.disabled", {"operator_id": operator_id, "reason": reason}, "cli")
        click.echo(f"operator {operator_id} disabled")

    @operator.command("remove")
    @db_option
    @click.option("--id", "operator_id", required=True, help="The operator's id.")
    def operator_remove(db_url: str, operator_id: str) -> None:
        """Remove an operator from the hub and every device."""
        from hub.log import run_hub_command

        with open_db(db_url).write() as conn:
            hub_call(run_hub_command, conn, "operator.removed", {"operator_id": operator_id}, "cli")
        click.echo(f"operator {operator_id} removed")


def _audit_command(hub: click.Group, db_option: Callable, open_db: Callable) -> None:
    @hub.command()
    @db_option
    @click.option("--since", default=None, help="Only entries at or after this ISO 8601 time.")
    @click.option("--action", default=None, help="Only this action, e.g. auth.failed, device.revoked, op.refused.")
    @click.option("--limit", type=click.IntRange(1, 5000), default=100, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
    def audit(db_url: str, since: str | None, action: str | None, limit: int, as_json: bool) -> None:
        """The audit trail, newest first: admin acts, failed authentication, refused ops, incidents."""
        from hub.audit import audit_rows

        with open_db(db_url).read() as conn:
            rows = audit_rows(conn, since, action, limit)
        if as_json:
            click.echo(json.dumps(rows))
            return
        for r in rows:
            click.echo(f"{r['at']}  {r['action']:<22} {r['outcome']:<18} {r['actor']}  {r['target']}"
                       + (f"  from {r['client']}" if r["client"] else ""))


_PASSWORD = click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                         envvar="BACKROOM_ADMIN_PASSWORD", help="At least 12 characters (asked for when not given; "
                         "or set BACKROOM_ADMIN_PASSWORD).")


def _console_admin_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable[..., Any]) -> None:
    from hub.access import ADMIN_ROLES

    @hub.group()
    def admin() -> None:
        """Administrators of the web console (/console): add, list, disable, enable, set a password."""

    @admin.command("add")
    @db_option
    @click.option("--login", required=True, help="What they sign in with.")
    @click.option("--name", required=True, help="Their name as the console shows it.")
    @click.option("--role", type=click.Choice(ADMIN_ROLES), required=True,
                  help="network_admin: everything; store_manager: the --location(s) they run; viewer: reads only.")
    @click.option("--location", "locations", multiple=True, help="A location a store manager runs (repeat for more).")
    @_PASSWORD
    def admin_add(db_url: str, login: str, name: str, role: str, locations: tuple[str, ...], password: str) -> None:
        from hub.admins import create_admin

        with open_db(db_url).write() as conn:
            hub_call(create_admin, conn, login, name, role, password, locations, "cli")
        click.echo(f"administrator {login} ({role.replace('_', ' ')}) added: sign in at /console/")

    @admin.command("list")
    @db_option
    def admin_list(db_url: str) -> None:
        from hub.admins import list_admins

        with open_db(db_url).read() as conn:
            for a in list_admins(conn):
                state = f"disabled {str(a['disabled_at'])[:16]}" if a["disabled_at"] else "active"
                where = ", ".join(a["locations"]) or "every location"  # type: ignore[arg-type]
                click.echo(f"{a['login']:<20} {a['name']:<24} {a['role']:<14} {where:<24} {state}")

    def _set(db_url: str, login: str, **change: Any) -> None:
        from hub.admins import set_admin

        with open_db(db_url).write() as conn:
            hub_call(lambda: set_admin(conn, login, "cli", **change))

    @admin.command("disable")
    @db_option
    @click.argument("login")
    def admin_disable(db_url: str, login: str) -> None:
        """Refuse their sign-in and end their sessions now."""
        _set(db_url, login, disabled=True)
        click.echo(f"administrator {login} disabled; their sessions ended")

    @admin.command("enable")
    @db_option
    @click.argument("login")
    def admin_enable(db_url: str, login: str) -> None:
        _set(db_url, login, disabled=False)
        click.echo(f"administrator {login} enabled")

    @admin.command("password")
    @db_option
    @click.argument("login")
    @_PASSWORD
    def admin_password(db_url: str, login: str, password: str) -> None:
        """Set a new password; their sessions end."""
        _set(db_url, login, password=password)
        click.echo(f"password of {login} changed; their sessions ended")
