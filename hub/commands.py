"""Hub commands: the ops only the hub itself issues (from the API, the CLI, the
console or its own sweeps), with their payload models. They go through the same
log and handlers as device ops; `device_id` is `hub`.

A device can never send one of these kinds (see sync.kinds: they are not in its
op table)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sync.models import OrderIn

__all__ = [
    "LOCATION_KINDS",
    "ItemUpserted",
    "LocationAdded",
    "BinAdded",
    "StockReceived",
    "OrderAccepted",
    "OrderCancelled",
    "PolicySet",
    "AllotmentGranted",
    "AllotmentReclaimed",
    "OperatorUpserted",
    "PickupExpired",
    "OPERATOR_ROLES",
    "hash_pin",
    "operator_payload",
]

LOCATION_KINDS = ("store", "warehouse", "dark_store")


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- the shape of the network ------------------------------------------------------
class ItemUpserted(_Command):
    """Add an item to the catalogue, or change its name, weight or barcodes."""

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    unit_weight_g: int | None = Field(default=None, ge=0)
    barcodes: list[str] = Field(default_factory=list)


class LocationAdded(_Command):
    """A store, warehouse or dark store joins the network."""

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern="^(store|warehouse|dark_store)$")


class BinAdded(_Command):
    """A bin at a location, with its place on the pick path."""

    location: str = Field(min_length=1)
    code: str = Field(min_length=1, max_length=64)
    seq: int


class StockReceived(_Command):
    """Units received into a bin."""

    location: str = Field(min_length=1)
    bin: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    qty: int = Field(gt=0)


# -- orders -------------------------------------------------------------------------
class OrderAccepted(_Command):
    """A channel's order, with the id and time the hub gave it."""

    id: str
    created_at: str
    order: OrderIn


class OrderCancelled(_Command):
    """A channel or an admin cancels an order."""

    order_id: str
    reason: str = Field(default="", max_length=200)


class PickupExpired(_Command):
    """A ready pickup order nobody collected by its pickup-by time."""

    order_id: str
    at: datetime


# -- stock policy and escrow ----------------------------------------------------------
class PolicySet(_Command):
    """Safety stock and the escrow floor of a (location, SKU)."""

    location: str
    sku: str
    safety_stock: int = Field(ge=0)
    escrow_floor: int = Field(ge=0)


class AllotmentGranted(_Command):
    """Units of a (location, SKU) leased to one terminal to promise offline."""

    device_id: str
    location: str
    sku: str
    qty: int = Field(ge=0)  # 0 renews the lease or changes the target only
    target: int = Field(ge=0)
    expires_at: str


class AllotmentReclaimed(_Command):
    """A lease expired past its grace period: its units go back to the pool."""

    device_id: str
    sku: str
    qty: int = Field(gt=0)


# -- people ---------------------------------------------------------------------------
class OperatorUpserted(_Command):
    """Add an operator, or change one's name, role or PIN (hashed, salted)."""

    operator_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(pattern="^(picker|packer|associate|supervisor)$")
    location: str = Field(min_length=1, max_length=64)
    pin_hash: str = Field(pattern=r"^scrypt\$\d+\$\d+\$\d+\$[0-9a-f]{64}$")
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")


OPERATOR_ROLES = ("picker", "packer", "associate", "supervisor")
# scrypt cost: ~50 ms on a handheld, 16 MiB; the parameters travel in the hash.
_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str, salt: str) -> str:
    """`scrypt$N$r$p$hex`: the PIN hashed with a per-operator salt (hex)."""
    digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${digest.hex()}"


def operator_payload(operator_id: str, name: str, role: str, location: str, pin: str) -> dict[str, str]:
    """The `operator.upserted` payload for a typed PIN: a fresh salt, the PIN hashed.
    Raises ValueError for a PIN that is not 4-8 digits."""
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits")
    salt = secrets.token_hex(16)
    return {"operator_id": operator_id, "name": name, "role": role, "location": location,
            "pin_hash": hash_pin(pin, salt), "salt": salt}
