"""Allotment evidence: what the hub said it had granted a terminal of one SKU, signed
by the hub, so that a hub restored from a backup taken before the grant can tell a
genuine grant it forgot from one a device made up. Pure: stdlib and pydantic, no I/O.

The hub signs, with HMAC-SHA256 under its key `key_id` (first 16 bytes, lowercase hex),
the JSON array `["ALT1", key_id, device_id, location, sku, granted, expires_at]`:
`granted` is the allotment's running total of units ever granted to the device (it only
grows, so it also numbers the grants), `expires_at` the lease's end. A device carries the
latest evidence it pulled for each SKU in the orders it confirms from its allotment; it
holds no key, so it cannot make or alter one."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AllotmentEvidence", "sign_evidence", "evidence_signed"]

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
_Id = Annotated[str, Field(min_length=1, max_length=64, pattern=_PRINTABLE)]
_MAC_BYTES = 16


class AllotmentEvidence(BaseModel):
    """One signed statement: `device_id` had been granted `granted` units of `sku` at
    `location` in all, its lease running until `expires_at`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: Annotated[str, Field(min_length=1, max_length=16, pattern=_PRINTABLE)]
    device_id: _Id
    location: _Id
    sku: _Id
    granted: int = Field(ge=0, le=10**12)
    expires_at: Annotated[str, Field(min_length=1, max_length=40, pattern=_PRINTABLE)]
    mac: str = Field(pattern=r"^[0-9a-f]{32}$")


def _body(key_id: str, device_id: str, location: str, sku: str, granted: int, expires_at: str) -> bytes:
    return json.dumps(["ALT1", key_id, device_id, location, sku, granted, expires_at], separators=(",", ":")).encode()


def _mac(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES].hex()


def sign_evidence(key_id: str, key: bytes, device_id: str, location: str, sku: str, granted: int,
                  expires_at: str) -> AllotmentEvidence:
    """The hub's signed statement of what it has granted `device_id` of `sku` in all."""
    mac = _mac(key, _body(key_id, device_id, location, sku, granted, expires_at))
    return AllotmentEvidence(key_id=key_id, device_id=device_id, location=location, sku=sku, granted=granted,
                             expires_at=expires_at, mac=mac)


def evidence_signed(key: bytes, evidence: AllotmentEvidence) -> bool:
    """Whether `evidence` was signed with `key`, every field as it reads (constant time)."""
    e = evidence
    return hmac.compare_digest(_mac(key, _body(e.key_id, e.device_id, e.location, e.sku, e.granted, e.expires_at)), e.mac)
