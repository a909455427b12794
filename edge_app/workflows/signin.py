"""Signing in on a shared device: a badge scan (`BADGE:<operator_id>`) or an
operator id and PIN checked against the salted hash the hub sent. Which work
queues a role sees, with counts. An idle timer that signs a person out.

Plain Python; the sign-in screen and the home screen only show what this says."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from devices.codes import parse_own_code
from devices.errors import ScanError
from devices.scan import Badge
from edge_app.errors import Refused
from edge_app.local.replica import Replica

__all__ = [
    "ROLES",
    "ROLE_QUEUES",
    "QUEUE_WORDS",
    "DEFAULT_IDLE_SECONDS",
    "Operator",
    "Queue",
    "SignInRefused",
    "operators_known",
    "sign_in_badge",
    "sign_in_pin",
    "verify_pin",
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
}
# What each role may do, most frequent first.
ROLE_QUEUES: dict[str, tuple[str, ...]] = {
    "picker": ("pick", "tasks"),
    "packer": ("pack", "pick", "tasks"),
    "associate": ("pickups", "returns", "pick", "tasks"),
    "supervisor": ("pick", "pack", "pickups", "returns", "tasks"),
}


class SignInRefused(Refused):
    """The badge or the id and PIN did not match an operator of this location."""


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


def verify_pin(pin: str, pin_hash: str, salt: str) -> bool:
    """Whether `pin` hashes to `pin_hash` (`scrypt$N$r$p$hex`) with `salt`; constant-time compare."""
    try:
        algorithm, n, r, p, expected = pin_hash.split("$")
        if algorithm != "scrypt":
            return False
        digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


def _operator(replica: Replica, operator_id: str):
    return replica.query_one(
        "SELECT operator_id, name, role, pin_hash, salt FROM operators WHERE operator_id = ? COLLATE NOCASE",
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
    return Operator(row["operator_id"], row["name"], row["role"])


def sign_in_pin(replica: Replica, operator_id: str, pin: str) -> Operator:
    """The operator with this id and PIN. Raises SignInRefused (the same sentence
    for an unknown id and a wrong PIN, so the screen does not confirm which ids exist)."""
    row = _operator(replica, operator_id) if operator_id.strip() else None
    if row is None or not verify_pin(pin.strip(), row["pin_hash"], row["salt"]):
        raise SignInRefused("ID or PIN does not match. Type them again, or scan your badge.")
    return Operator(row["operator_id"], row["name"], row["role"])


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
    keys = ROLE_QUEUES.get(role, ())
    if replica.get_meta("role") == "terminal":  # a dark-store terminal takes orders, whoever signs in
        keys = ("quick", *keys)
    return [Queue(key, QUEUE_WORDS[key], counters[key]()) for key in keys]


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
