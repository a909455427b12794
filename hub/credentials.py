"""Devices and credentials: one-time enrollment codes, device tokens and API
tokens. Codes and tokens are stored only as hashes.

Every credential can be taken back: a device is revoked (its token answers 401),
an API token is revoked, rotated (a new one; the old one lives on for a grace
period) or expires. An intake token belongs to one sales channel. Each change is
written to the audit trail in the same transaction."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from typing import Any

from hub.audit import record_audit
from hub.errors import DeviceRevoked, Forbidden, Invalid, NotFound, Unauthorized
from hub.store.tx import Tx

__all__ = [
    "ROLES",
    "API_ROLES",
    "Device",
    "ApiClient",
    "create_enrollment_code",
    "enroll_device",
    "create_api_token",
    "authenticate",
    "require_location",
    "revoke_device",
    "list_api_tokens",
    "revoke_api_token",
    "rotate_api_token",
    "API_TOKEN_TTL",
]

ROLES = ("picker", "packer", "associate", "supervisor", "terminal")
API_ROLES = ("admin", "intake")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand
_CODE_TTL = timedelta(hours=24)
# How long an API token lives unless told otherwise: nothing is valid for ever.
API_TOKEN_TTL = {"admin": timedelta(days=30), "intake": timedelta(days=365)}


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    location: str
    role: str


@dataclass(frozen=True)
class ApiClient:
    role: str
    name: str
    channel: str | None = None  # an intake token's sales channel
    token_id: str = ""


def _hash(token: str) -> str:
    # Tokens are long and random, so a fast unsalted hash is enough to store them.
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_code(code: str) -> str:
    """Codes are typed by people: ignore case, spaces and the dash."""
    return _hash("code:" + code.upper().replace("-", "").replace(" ", ""))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def create_enrollment_code(conn: Tx, location: str, role: str, by: str = "cli") -> str:
    """A one-time code that enrolls one device at `location` with `role`.

    Raises Invalid for an unknown location or role."""
    if role not in ROLES:
        raise Invalid(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": location}).first() is None:
        raise Invalid(f"location: unknown location {location!r}")
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    code = f"{raw[:4]}-{raw[4:]}"
    conn.execute(
        "INSERT INTO enrollment_codes (code_hash, location, role, expires_at) VALUES (:h, :l, :r, :e)",
        {"h": _hash_code(code), "l": location, "r": role, "e": (_now() + _CODE_TTL).isoformat()},
    )
    record_audit(conn, by, "enrollment_code.issued", f"{role}@{location}", "ok", "")
    return code


def enroll_device(conn: Tx, code: str, name: str, client: str = "") -> tuple[Device, str]:
    """Spend a one-time code; returns the new device and its token (shown once).

    Raises Unauthorized for an unknown, used or expired code."""
    row = conn.execute(
        "SELECT location, role, expires_at, used_by FROM enrollment_codes WHERE code_hash = :h",
        {"h": _hash_code(code)},
    ).first()
    if row is None or row.used_by is not None:
        raise Unauthorized("enrollment code is unknown or already used")
    if datetime.fromisoformat(row.expires_at) < _now():
        raise Unauthorized("enrollment code has expired; ask for a new one")
    device = Device(id=str(uuid.uuid4()), name=name or "device", location=row.location, role=row.role)
    token = "dev_" + secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO devices (id, name, location, role, token_hash, enrolled_at, last_seq, cursor) "
        "VALUES (:id, :n, :l, :r, :h, :t, 0, 0)",
        {"id": device.id, "n": device.name, "l": device.location, "r": device.role, "h": _hash(token), "t": _now().isoformat()},
    )
    conn.execute("UPDATE enrollment_codes SET used_by = :d WHERE code_hash = :h", {"d": device.id, "h": _hash_code(code)})
    record_audit(conn, f"device:{device.id}", "device.enrolled", f"{device.role}@{device.location}", "ok", client,
                 {"name": device.name})
    return device, token


def create_api_token(conn: Tx, role: str, name: str, channel: str | None = None, expires_in: timedelta | None = None,
                     by: str = "cli") -> str:
    """A token for an admin, or for one sales channel's intake; shown once. It expires
    after `expires_in` (API_TOKEN_TTL by role). Raises Invalid for a role without its
    channel rule (intake needs a channel, admin has none)."""
    if role not in API_ROLES:
        raise Invalid(f"role: {role!r} is not one of {', '.join(API_ROLES)}")
    if (role == "intake") != bool(channel):
        raise Invalid("channel: an intake token belongs to one sales channel; an admin token to none")
    token_id = secrets.token_hex(6)
    token = f"{role}_{token_id}_" + secrets.token_urlsafe(32)
    expires = _now() + (expires_in if expires_in is not None else API_TOKEN_TTL[role])
    conn.execute(
        "INSERT INTO api_tokens (token_hash, token_id, role, name, channel, created_at, expires_at) "
        "VALUES (:h, :i, :r, :n, :c, :t, :e)",
        {"h": _hash(token), "i": token_id, "r": role, "n": name, "c": channel, "t": _now().isoformat(),
         "e": expires.isoformat()},
    )
    record_audit(conn, by, "token.issued", token_id, "ok", "", {"role": role, "name": name, "channel": channel,
                                                                  "expires_at": expires.isoformat()})
    return token


def authenticate(conn: Tx, token: str | None) -> Device | ApiClient:
    """Who holds this bearer token; raises Unauthorized for none, an unknown one, a
    revoked device's, and a revoked or expired API token."""
    if not token:
        raise Unauthorized("missing bearer token")
    h = _hash(token)
    row = conn.execute("SELECT id, name, location, role, revoked_at, handed_over_to FROM devices WHERE token_hash = :h",
                       {"h": h}).first()
    if row is not None:
        if row.revoked_at and row.handed_over_to:  # sync: a swapped handheld (hub.hand_over)
            raise DeviceRevoked(f"this device was revoked on the hub and its unfinished work handed over to device "
                                f"{row.handed_over_to}; the ops it has not sent are not applied (they stay on it). "
                                "Enroll it again with a new code")
        if row.revoked_at:
            raise DeviceRevoked("this device was revoked on the hub; enroll it again with a new code")
        return Device(id=row.id, name=row.name, location=row.location, role=row.role)
    api = conn.execute("SELECT token_id, role, name, channel, expires_at, revoked_at FROM api_tokens WHERE token_hash = :h",
                       {"h": h}).first()
    if api is not None:
        if api.revoked_at or (api.expires_at and datetime.fromisoformat(api.expires_at) <= _now()):
            raise Unauthorized("this token was revoked or has expired")
        return ApiClient(role=api.role, name=api.name, channel=api.channel, token_id=api.token_id or "")
    raise Unauthorized("unknown token")


def revoke_device(conn: Tx, device_id: str, by: str, client: str = "") -> Device:
    """Refuse the device's token from now on; raises NotFound."""
    row = conn.execute("SELECT id, name, location, role, revoked_at FROM devices WHERE id = :d", {"d": device_id}).first()
    if row is None:
        raise NotFound(f"no device {device_id!r}")
    if not row.revoked_at:
        conn.execute("UPDATE devices SET revoked_at = :t WHERE id = :d", {"t": _now().isoformat(), "d": device_id})
    record_audit(conn, by, "device.revoked", device_id, "ok", client, {"location": row.location, "role": row.role})
    return Device(id=row.id, name=row.name, location=row.location, role=row.role)


def list_api_tokens(conn: Tx) -> list[dict[str, Any]]:
    """Every API token but its secret: id, role, name, channel, when it was issued, expires, was revoked."""
    rows = conn.execute("SELECT token_id, role, name, channel, created_at, expires_at, revoked_at FROM api_tokens "
                        "ORDER BY created_at").mappings()
    now = _now()
    return [{**r, "valid": not r["revoked_at"] and (not r["expires_at"] or datetime.fromisoformat(r["expires_at"]) > now)}
            for r in rows]


def revoke_api_token(conn: Tx, token_id: str, by: str, client: str = "") -> None:
    """Refuse the token from now on; raises NotFound."""
    if conn.execute("SELECT 1 FROM api_tokens WHERE token_id = :i", {"i": token_id}).first() is None:
        raise NotFound(f"no API token {token_id!r}")
    conn.execute("UPDATE api_tokens SET revoked_at = :t WHERE token_id = :i AND revoked_at IS NULL",
                 {"t": _now().isoformat(), "i": token_id})
    record_audit(conn, by, "token.revoked", token_id, "ok", client)


def rotate_api_token(conn: Tx, token_id: str, by: str, grace: timedelta = timedelta(hours=1), client: str = "") -> str:
    """A new token with the old one's role, name and channel; the old one expires after
    `grace`, so its holder can switch without a gap. Raises NotFound."""
    old = conn.execute("SELECT role, name, channel, expires_at, created_at FROM api_tokens WHERE token_id = :i "
                       "AND revoked_at IS NULL", {"i": token_id}).first()
    if old is None:
        raise NotFound(f"no valid API token {token_id!r}")
    token = create_api_token(conn, old.role, old.name, old.channel, API_TOKEN_TTL[old.role], by)
    ends = min(_now() + grace, datetime.fromisoformat(old.expires_at)) if old.expires_at else _now() + grace
    conn.execute("UPDATE api_tokens SET expires_at = :e WHERE token_id = :i", {"e": ends.isoformat(), "i": token_id})
    record_audit(conn, by, "token.rotated", token_id, "ok", client, {"old_expires_at": ends.isoformat()})
    return token


def require_location(who: Device | ApiClient, location: str | None) -> str | None:
    """The location a caller may read: a device only its own (another location's
    things are not found, as if they did not exist); admins any."""
    if isinstance(who, Device):
        if location not in (None, who.location):
            raise NotFound(f"no location {location!r}")
        return who.location
    if who.role != "admin":
        raise Forbidden("reading needs an admin token")
    return location
