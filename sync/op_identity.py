"""What makes two ops the same op: the hash of its canonical form.

A re-send of an op carries the same id, sequence number and content; one that
carries the same id and sequence number with another content is not a re-send but a
different op, and the hub refuses it (`op_payload_mismatch`) instead of answering
`duplicate` with the first one's result."""

from __future__ import annotations

import hashlib
import json

from sync.models import Op

__all__ = ["op_hash"]

_FIELDS = ("device_id", "device_seq", "kind", "payload", "actor", "hlc", "schema_version", "proof")


def op_hash(op: Op, op_id: str | None = None) -> str:
    """SHA-256 (hex) of the op's canonical JSON (sorted keys, no spaces); `op_id` in
    place of the op's own when given (an op logged under another id keeps its hash)."""
    canonical = {name: getattr(op, name) for name in _FIELDS}
    canonical["op_id"] = op.op_id if op_id is None else op_id
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
