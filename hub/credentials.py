"""Devices and credentials: one-time enrollment codes, device tokens and API
tokens. Codes and tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hub.errors import Forbidden, Invalid, Unauthorized
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
]

ROLES = ("picker", "packer", "associate", "supervisor", "terminal")
API_ROLES = ("admin", "intake")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand
_CODE_TTL = timedelta(hours=24)


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


def _hash(token: str) -> str:
    # Tokens are long and random, so a fast unsalted hash is enough to store them.
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_code(code: str) -> str:
    """Codes are typed by people: ignore case, spaces and the dash."""
    return _hash("code:" + code.upper().replace("-", "").replace(" ", ""))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def create_enrollment_code(conn: Tx, location: str, role: str) -> str:
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
    return code


def enroll_device(conn: Tx, code: str, name: str) -> tuple[Device, str]:
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
    return device, token


def create_api_token(conn: Tx, role: str, name: str) -> str:
    """A token for an admin or a sales channel's intake; shown once."""
    if role not in API_ROLES:
        raise Invalid(f"role: {role!r} is not one of {', '.join(API_ROLES)}")
    token = f"{role}_" + secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO api_tokens (token_hash, role, name, created_at) VALUES (:h, :r, :n, :t)",
        {"h": _hash(token), "r": role, "n": name, "t": _now().isoformat()},
    )
    return token


def authenticate(conn: Tx, token: str | None) -> Device | ApiClient:
    """Who holds this bearer token; raises Unauthorized."""
    if not token:
        raise Unauthorized("missing bearer token")
    h = _hash(token)
    row = conn.execute("SELECT id, name, location, role FROM devices WHERE token_hash = :h", {"h": h}).first()
    if row is not None:
        return Device(id=row.id, name=row.name, location=row.location, role=row.role)
    api = conn.execute("SELECT role, name FROM api_tokens WHERE token_hash = :h", {"h": h}).first()
    if api is not None:
        return ApiClient(role=api.role, name=api.name)
    raise Unauthorized("unknown token")


def require_location(who: Device | ApiClient, location: str | None) -> str | None:
    """The location a caller may read: a device only its own; admins any."""
    if isinstance(who, Device):
        if location not in (None, who.location):
            raise Forbidden(f"this device may only read location {who.location}")
        return who.location
    if who.role != "admin":
        raise Forbidden("reading needs an admin token")
    return location
