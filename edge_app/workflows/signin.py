"""Signing in on a shared device: a badge scan (`BADGE:<operator_id>`) or an
operator id and PIN. Which work queues a role sees, with counts. An idle timer
that signs a person out.

The device holds, per operator, the salt and an 8-bit PIN check (sync.proofs): a
typed PIN is checked against it, and a right one opens a session whose key signs
the ops recorded until sign-out (edge_app.local.sessions), so the hub can tell who
did them. A badge alone signs in a picker, packer or associate without a session
(their ops stand, unvouched); a supervisor always types the PIN. Failed PINs back
off and then lock, per operator id on this device; an unknown id costs the same
scrypt as a known one, so timing tells nothing.

Plain Python; the sign-in screen and the home screen only show what this says."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from devices.codes import parse_own_code
from devices.errors import ScanError
from devices.scan import Badge
from edge_app.errors import Refused
from edge_app.local.replica import Replica
from edge_app.local.sessions import close_session, open_session
from sync.authority import PRIVILEGED_ROLES, device_may
from sync.proofs import KDF, operator_key, pin_check

__all__ = [
    "ROLES",
    "ROLE_QUEUES",
    "QUEUE_WORDS",
    "DEFAULT_IDLE_SECONDS",
    "Operator",
    "Queue",
    "SignInRefused",
    "PinNeeded",
    "LockedOut",
    "operators_known",
    "sign_in_badge",
    "sign_in_pin",
    "sign_out",
    "verify_pin",
    "BACKOFF_AFTER",
    "LOCK_AFTER",
    "LOCK_SECONDS",
    "queue_counts",
    "IdleTimer",
]

ROLES = ("picker", "packer", "associate", "supervisor")
DEFAULT_IDLE_SECONDS = 300.0

QUEUE_WORDS = {
    "pick": "To pick",
    "pack": "To pack",
    "pickups": "Pickups ready",
    "returns": "Returns",
    "tasks": "Counts and tasks",
    "quick": "Quick orders",
    "receive": "Receive goods",  # receiving
}
# What each role may do, most frequent first.
ROLE_QUEUES: dict[str, tuple[str, ...]] = {
    "picker": ("pick", "tasks"),
    "packer": ("pack", "pick", "tasks"),
    "associate": ("pickups", "returns", "pick", "tasks", "receive"),
    "supervisor": ("pick", "pack", "pickups", "returns", "tasks", "receive"),
}


# Failed PINs per operator id: from the 3rd on, a wait of 2, 4, 8 … s (at most 60)
# before the next try; at LOCK_AFTER (fewer for a supervisor) a lock of LOCK_SECONDS.
BACKOFF_AFTER = 3
LOCK_AFTER = {"supervisor": 5, "": 10}
LOCK_SECONDS = 15 * 60
_DUMMY_SALT = "00" * 16


class SignInRefused(Refused):
    """The badge or the id and PIN did not match an operator of this location."""


class PinNeeded(SignInRefused):
    """A supervisor's badge: the PIN is needed too."""


class LockedOut(SignInRefused):
    """Too many wrong PINs for this operator on this device: wait, or ask a supervisor."""


@dataclass(frozen=True)
class Operator:
    operator_id: str
    name: str
    role: str


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    count: int


def operators_known(replica: Replica) -> bool:
    """True once the hub has sent this location's operators: sign-in is required from then on."""
    return replica.query_one("SELECT 1 FROM operators LIMIT 1") is not None


def verify_pin(pin: str, check: str | None, salt: str, kdf: str | None = None) -> bytes | None:
    """The operator key when `pin` matches the PIN check, else None. Costs one scrypt
    either way."""
    try:
        key = operator_key(pin, salt, kdf or KDF)
    except ValueError:
        return None
    return key if check and hmac.compare_digest(pin_check(key), check) else None


def _operator(replica: Replica, operator_id: str):
    return replica.query_one(
        "SELECT operator_id, name, role, salt, kdf, pin_check FROM operators WHERE operator_id = ? COLLATE NOCASE",
        (operator_id.strip(),),
    )


def sign_in_badge(replica: Replica, raw: str) -> Operator:
    """The operator whose badge was scanned. Raises SignInRefused with what to do."""
    try:
        meaning = parse_own_code(raw.strip())
    except ScanError:
        meaning = None
    if not isinstance(meaning, Badge):
        raise SignInRefused("That is not a badge. Scan the barcode on your badge, or type your ID and PIN.")
    row = _operator(replica, meaning.operator_id)
    if row is None:
        raise SignInRefused(f"Badge {meaning.operator_id} is not known here. Ask your supervisor to add you on the hub.")
    if row["role"] in PRIVILEGED_ROLES:
        raise PinNeeded(f"{row['name']}: a supervisor signs in with their PIN too. Type it below.")
    return Operator(row["operator_id"], row["name"], row["role"])


def sign_in_pin(replica: Replica, operator_id: str, pin: str, now: float | None = None) -> Operator:
    """The operator with this id and PIN, signed in with a session on this device.
    Raises LockedOut while the id must wait, SignInRefused otherwise (the same
    sentence for an unknown id and a wrong PIN, after the same work)."""
    now = time.time() if now is None else now
    typed = operator_id.strip().upper()
    _check_not_locked(replica, typed, now)
    row = _operator(replica, typed) if typed else None
    key = verify_pin(pin.strip(), row["pin_check"], row["salt"], row["kdf"]) if row else verify_pin(pin, None, _DUMMY_SALT)
    if row is None or key is None:
        _failed(replica, typed, row["role"] if row else "", now)
        raise SignInRefused("ID or PIN does not match. Type them again, or scan your badge.")
    with replica.transaction() as conn:
        conn.execute("DELETE FROM sign_in_failures WHERE operator_id = ?", (typed,))
    open_session(replica.get_meta("device_id") or "", row["operator_id"], key)
    return Operator(row["operator_id"], row["name"], row["role"])


def sign_out(replica: Replica, operator_id: str) -> None:
    """End the operator's session on this device: their next ops need a new sign-in."""
    close_session(replica.get_meta("device_id") or "", operator_id)


def _check_not_locked(replica: Replica, typed: str, now: float) -> None:
    row = replica.query_one("SELECT failures, last_failed_at, locked_until FROM sign_in_failures WHERE operator_id = ?",
                            (typed,))
    if row is None:
        return
    if row["locked_until"] > now:
        minutes = int((row["locked_until"] - now) // 60) + 1
        raise LockedOut(f"Too many wrong PINs for {typed}. Try again in {minutes} min, or ask a supervisor.")
    if row["failures"] >= BACKOFF_AFTER:
        wait = min(60.0, 2.0 ** (row["failures"] - BACKOFF_AFTER + 1))
        if now - row["last_failed_at"] < wait:
            raise LockedOut(f"Wrong PIN for {typed}. Wait {int(wait - (now - row['last_failed_at'])) + 1} s and try again.")


def _failed(replica: Replica, typed: str, role: str, now: float) -> None:
    limit = LOCK_AFTER.get(role, LOCK_AFTER[""])
    with replica.transaction() as conn:
        conn.execute(
            "INSERT INTO sign_in_failures (operator_id, failures, last_failed_at) VALUES (?, 1, ?) "
            "ON CONFLICT (operator_id) DO UPDATE SET failures = failures + 1, last_failed_at = excluded.last_failed_at",
            (typed, now),
        )
        conn.execute("UPDATE sign_in_failures SET locked_until = ?, failures = 0 WHERE operator_id = ? AND failures >= ?",
                     (now + LOCK_SECONDS, typed, limit))


def queue_counts(replica: Replica, role: str) -> list[Queue]:
    """The work queues `role` may do, each with how many are waiting on this device's view."""
    from edge_app.workflows.packing import orders_to_pack
    from edge_app.workflows.pick_list import open_orders

    counters = {
        "pick": lambda: len(open_orders(replica)),
        "pack": lambda: len(orders_to_pack(replica)),
        "pickups": lambda: _count(replica, "SELECT COUNT(*) FROM orders WHERE fulfilment IN ('pickup', 'quick') "
                                           "AND status IN ('picked', 'short', 'partly_handed_over')"),
        "returns": lambda: _count(replica, "SELECT COUNT(*) FROM tasks WHERE status = 'open' AND kind LIKE '%refund%'"),
        "tasks": lambda: _count(replica, "SELECT COUNT(*) FROM tasks WHERE status = 'open' AND (for_role = ? OR ? = 'supervisor')",
                                (role, role)),
    }
    counters["quick"] = lambda: _count(replica, "SELECT COUNT(*) FROM outbox WHERE kind = 'reservation.requested' "
                                                "AND state = 'pending'")
    # receiving: receipts made here that wait to be sent
    counters["receive"] = lambda: _count(replica, "SELECT COUNT(*) FROM outbox WHERE kind = 'goods.received' "
                                                  "AND state = 'pending'")
    device_role = replica.get_meta("role") or ""
    keys = ROLE_QUEUES.get(role, ())
    if device_role == "terminal":  # a dark-store terminal takes orders, whoever signs in
        keys = ("quick", *keys)
    return [Queue(key, QUEUE_WORDS[key], counters[key]()) for key in keys
            if not device_role or device_may(_QUEUE_KINDS[key], device_role)]


# The op a queue's work sends: a queue this device's role may not send is not shown.
_QUEUE_KINDS = {"pick": "pick.confirmed", "pack": "pack.carton_closed", "pickups": "pickup.handed_over",
                "returns": "return.received", "tasks": "task.done", "quick": "reservation.requested",
                "receive": "goods.received"}  # receiving


def _count(replica: Replica, sql: str, params: tuple = ()) -> int:
    return int(replica.query_row(sql, params)[0])


class IdleTimer:
    """Signs a person out after `timeout` seconds without a touch or a scan."""

    def __init__(self, timeout: float = DEFAULT_IDLE_SECONDS, now: float = 0.0):
        self.timeout = timeout
        self.last = now

    def touch(self, now: float) -> None:
        self.last = now

    def expired(self, now: float) -> bool:
        return self.timeout > 0 and now - self.last >= self.timeout
