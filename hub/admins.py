"""Administrators of the console: accounts with a hashed password (scrypt, a salt each),
a role (hub.access) and, for a store manager, the locations they run; and their
sessions: a random token in a cookie (only its hash is stored), a CSRF token per
session, an idle timeout. Signing in, failing to and managing accounts is audited."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hub.access import ADMIN_ROLES, Access
from hub.audit import record_audit
from hub.errors import Conflict, Invalid, NotFound, Unauthorized
from hub.store.tx import Tx

__all__ = ["Admin", "Session", "IDLE_TIMEOUT", "create_admin", "list_admins", "set_admin", "sign_in", "session_of",
           "sign_out", "REFUSED_SIGN_IN", "hash_password", "check_password", "MIN_PASSWORD"]

IDLE_TIMEOUT = timedelta(minutes=30)  # a console left open on a shared desk signs itself out
MAX_AGE = timedelta(hours=12)
MIN_PASSWORD = 12
REFUSED_SIGN_IN = "login or password does not match, or the account is disabled"
_N, _R, _P = 2**14, 8, 1
# Compared against when the login is unknown, so a wrong login costs what a wrong password does.
_DUMMY = "scrypt$16384$8$1$00000000000000000000000000000000$" + "0" * 64


@dataclass(frozen=True)
class Admin:
    login: str
    name: str
    role: str
    locations: tuple[str, ...]

    def access(self) -> Access:
        return Access(self.role, f"console:{self.login}", frozenset(self.locations))


@dataclass(frozen=True)
class Session:
    admin: Admin
    csrf: str


def hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    _s, n, r, p, salt, digest = stored.split("$")
    mine = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(mine.hex(), digest)


def _checked(login: str, name: str, role: str, locations: tuple[str, ...]) -> None:
    if not (1 <= len(login) <= 64 and login.replace(".", "").replace("-", "").replace("_", "").replace("@", "").isalnum()):
        raise Invalid("login: 1-64 letters, digits and . - _ @")
    if not 1 <= len(name) <= 100:
        raise Invalid("name: 1 to 100 characters")
    if role not in ADMIN_ROLES:
        raise Invalid(f"role: {role!r} is not one of {', '.join(ADMIN_ROLES)}")
    if role == "store_manager" and not locations:
        raise Invalid("locations: a store manager runs at least one location")


def create_admin(conn: Tx, login: str, name: str, role: str, password: str, locations: tuple[str, ...] = (),
                 by: str = "cli", client: str = "") -> Admin:
    """Add an administrator. Raises Invalid (bad field, short password, unknown location) or Conflict."""
    _checked(login, name, role, locations)
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    for code in locations:
        if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": code}).first() is None:
            raise Invalid(f"locations: unknown location {code!r}")
    if conn.execute("SELECT 1 FROM admins WHERE login = :l", {"l": login}).first():
        raise Conflict(f"login: {login} exists already")
    conn.execute("INSERT INTO admins (login, name, role, locations, password_hash, created_at) "
                 "VALUES (:l, :n, :r, :loc, :h, :t)",
                 {"l": login, "n": name, "r": role, "loc": json.dumps(sorted(locations)), "h": hash_password(password),
                  "t": _now().isoformat()})
    record_audit(conn, by, "admin.created", login, "ok", client, {"role": role, "locations": sorted(locations)})
    return Admin(login, name, role, tuple(sorted(locations)))


def set_admin(conn: Tx, login: str, by: str, client: str = "", *, role: str | None = None,
              locations: tuple[str, ...] | None = None, password: str | None = None, disabled: bool | None = None) -> None:
    """Change an administrator; disabling one ends their sessions. Raises NotFound, Invalid."""
    row = conn.execute("SELECT * FROM admins WHERE login = :l", {"l": login}).first()
    if row is None:
        raise NotFound(f"no administrator {login!r}")
    new_role, new_locations = role or row.role, locations if locations is not None else tuple(json.loads(row.locations))
    _checked(login, row.name, new_role, new_locations)
    if password is not None and len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    conn.execute("UPDATE admins SET role = :r, locations = :loc, password_hash = COALESCE(:h, password_hash), "
                 "disabled_at = CASE WHEN :d IS NULL THEN disabled_at WHEN :d = 1 THEN :t ELSE NULL END WHERE login = :l",
                 {"r": new_role, "loc": json.dumps(sorted(new_locations)), "h": hash_password(password) if password else None,
                  "d": None if disabled is None else int(disabled), "t": _now().isoformat(), "l": login})
    if disabled or password is not None:
        conn.execute("DELETE FROM admin_sessions WHERE login = :l", {"l": login})
    record_audit(conn, by, "admin.changed", login, "ok", client,
                 {"role": new_role, "locations": sorted(new_locations), "disabled": disabled, "password": password is not None})


def list_admins(conn: Tx) -> list[dict[str, object]]:
    rows = conn.execute("SELECT login, name, role, locations, created_at, disabled_at FROM admins ORDER BY login").mappings()
    return [{**r, "locations": json.loads(r["locations"])} for r in rows]


def sign_in(conn: Tx, login: str, password: str, client: str) -> tuple[str, Session] | None:
    """Check the password; returns the new session's token (for the cookie) and the session,
    or None (the same for an unknown login as for a wrong password), the refusal written
    to the audit trail in this transaction: the caller commits it and says REFUSED_SIGN_IN."""
    row = conn.execute("SELECT * FROM admins WHERE login = :l", {"l": login}).first()
    good = check_password(password, row.password_hash if row else _DUMMY)
    if row is None or not good or row.disabled_at:
        record_audit(conn, f"console:{login[:64]}", "console.sign_in", login[:64], "refused", client)
        return None
    token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(24), _now().isoformat()
    conn.execute("INSERT INTO admin_sessions (token_hash, login, csrf, created_at, seen_at, client) "
                 "VALUES (:h, :l, :c, :t, :t, :cl)", {"h": _hash(token), "l": login, "c": csrf, "t": now, "cl": client})
    record_audit(conn, f"console:{login}", "console.sign_in", login, "ok", client)
    return token, Session(_admin(row), csrf)


def session_of(conn: Tx, token: str | None) -> Session:
    """The session a cookie holds, its idle time restarted. Raises Unauthorized when it is
    unknown, idle past IDLE_TIMEOUT, older than MAX_AGE, or its account is disabled."""
    if not token:
        raise Unauthorized("not signed in")  # hub.console.web.NOT_SIGNED_IN: the sign-in page says nothing
    row = conn.execute("SELECT s.csrf, s.created_at, s.seen_at, a.* FROM admin_sessions s JOIN admins a "
                       "ON a.login = s.login WHERE s.token_hash = :h", {"h": _hash(token)}).first()
    now = _now()
    if row is None or row.disabled_at or now - datetime.fromisoformat(row.seen_at) > IDLE_TIMEOUT \
            or now - datetime.fromisoformat(row.created_at) > MAX_AGE:
        conn.execute("DELETE FROM admin_sessions WHERE token_hash = :h", {"h": _hash(token)})
        raise Unauthorized("signed out: the session ended")
    conn.execute("UPDATE admin_sessions SET seen_at = :t WHERE token_hash = :h", {"t": now.isoformat(), "h": _hash(token)})
    return Session(_admin(row), row.csrf)


def sign_out(conn: Tx, token: str | None) -> None:
    if token:
        conn.execute("DELETE FROM admin_sessions WHERE token_hash = :h", {"h": _hash(token)})


def _admin(row: object) -> Admin:
    return Admin(row.login, row.name, row.role, tuple(json.loads(row.locations)))  # type: ignore[attr-defined]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)
