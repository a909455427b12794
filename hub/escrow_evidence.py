"""The hub's side of allotment evidence (sync.escrow_evidence): it signs what it has
granted a terminal of each SKU, which travels with the allotment to the device; and it
checks the evidence a `reservation.requested` carries before any handler runs, refusing
evidence it did not sign or that was signed for a write-in of it (another device,
location or SKU). Both are door refusals (hub.log.DOOR_CODES): the keys are credentials,
outside the fold `hub verify` replays, so the handler (hub.domain.escrow) takes evidence
that passed the door as the hub's own word."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from hub.outcome import Context
from hub.return_codes import signing_keys
from hub.store.tx import Tx
from sync.escrow_evidence import AllotmentEvidence, evidence_signed, sign_evidence

__all__ = ["evidence_for", "evidence_refusal"]


def _keys(conn: Tx) -> dict[str, bytes]:
    return signing_keys(conn, "escrow_keys")


def evidence_for(conn: Tx, device_id: str, location: str, sku: str, granted: int, expires_at: str) -> dict[str, Any] | None:
    """The allotment's evidence signed with the newest key, as the feed sends it; None
    when the hub has no key."""
    keys = _keys(conn)
    if not keys:
        return None
    key_id = list(keys)[-1]
    return sign_evidence(key_id, keys[key_id], device_id, location, sku, granted, expires_at).model_dump()


def evidence_refusal(conn: Tx, ctx: Context, payload: Any) -> tuple[str, str] | None:
    """(reason code, sentence) when the evidence a `reservation.requested` payload
    carries is not the hub's word for this device, its location and the order's SKUs;
    None when it is, or when there is none (or it is malformed: the handler's
    validation refuses that, naming the field)."""
    raw = payload.get("allotment_evidence") if isinstance(payload, dict) else None
    lines = payload.get("lines") if isinstance(payload, dict) else None
    if not isinstance(raw, list) or not isinstance(lines, list):
        return None
    try:
        said = [AllotmentEvidence.model_validate(e) for e in raw]
    except ValidationError:
        return None
    skus = {line.get("sku") for line in lines if isinstance(line, dict)}
    seen: set[str] = set()
    for i, e in enumerate(said):
        key = _keys(conn).get(e.key_id)
        if key is None:
            return "allotment_evidence_forged", (
                f"payload.allotment_evidence.{i}: the allotment evidence for {e.sku[:40]} names a key this hub does not "
                "have (made up, or the hub was restored from a backup older than its key); the order was not taken from it")
        if not evidence_signed(key, e):
            return "allotment_evidence_forged", (
                f"payload.allotment_evidence.{i}: the allotment evidence for {e.sku[:40]} was not signed by this hub "
                "(forged or altered); the order was not taken from it")
        if e.device_id != ctx.device_id or e.location != ctx.location:
            return "allotment_evidence_mismatch", (
                f"payload.allotment_evidence.{i}: the allotment evidence for {e.sku[:40]} was granted to another "
                "device or location, not this terminal")
        if e.sku not in skus or e.sku in seen:
            return "allotment_evidence_mismatch", (
                f"payload.allotment_evidence.{i}: the allotment evidence is for {e.sku[:40]}, "
                "which this order does not take, or names it twice")
        seen.add(e.sku)
    return None
