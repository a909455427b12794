"""Operator proofs: evidence the hub can check that an operator signed in on the
device that sent an op, which that device cannot make for anyone who never did.

The operator key is scrypt(PIN, salt): the hub keeps it (as `pin_hash`), devices
never receive it. A device receives the salt and an 8-bit PIN check, enough to
tell a typo from the right PIN and far too little to find a PIN offline.
Signing in with the PIN gives the device, in memory only, a session key
HMAC(key, device id, session nonce); every op recorded in that session carries
`v1.<nonce>.<HMAC(session key, the op)>`. The hub derives the same session key
from the operator key and checks the op. Pure: stdlib only, no I/O."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

__all__ = ["KDF", "operator_key", "pin_check", "session_key", "op_proof", "proof_matches", "key_of_hash"]

# scrypt cost: ~50 ms on a handheld, 16 MiB; the parameters travel with the salt.
KDF = "scrypt$16384$8$1"
_CHECK_BYTES = 1  # 8 bits: a wrong PIN passes 1 time in 256 (its ops then fail the hub's check)


def operator_key(pin: str, salt: str, kdf: str = KDF) -> bytes:
    """scrypt(PIN, salt) with the parameters `kdf` names; raises ValueError for a bad kdf or salt."""
    algorithm, n, r, p = kdf.split("$")
    if algorithm != "scrypt":
        raise ValueError(f"unknown key derivation {algorithm!r}")
    return hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)


def key_of_hash(pin_hash: str) -> tuple[str, bytes]:
    """(kdf, key) of a stored `scrypt$N$r$p$hex` hash; raises ValueError."""
    kdf, _, hex_key = pin_hash.rpartition("$")
    return kdf, bytes.fromhex(hex_key)


def pin_check(key: bytes) -> str:
    """The few bits of the key a device keeps to tell a typo from the right PIN."""
    return hmac.new(key, b"backroom-pin-check", hashlib.sha256).hexdigest()[: 2 * _CHECK_BYTES]


def session_key(key: bytes, device_id: str, nonce: str) -> bytes:
    """The key of one sign-in on one device."""
    return hmac.new(key, f"backroom-session:{device_id}:{nonce}".encode(), hashlib.sha256).digest()


def _signed_text(op: dict[str, Any]) -> bytes:
    fields = {k: op[k] for k in ("op_id", "device_id", "device_seq", "kind", "payload", "actor", "hlc", "schema_version")}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def op_proof(session: bytes, nonce: str, op: dict[str, Any]) -> str:
    """The proof an op carries: `v1.<nonce>.<mac>`; `op` is the op's fields as JSON values."""
    return f"v1.{nonce}.{hmac.new(session, _signed_text(op), hashlib.sha256).hexdigest()}"


def proof_matches(key: bytes, proof: str | None, op: dict[str, Any]) -> bool:
    """Whether `proof` was made for this op in a session of the operator whose key this is."""
    if not proof:
        return False
    version, _, rest = proof.partition(".")
    nonce, _, mac = rest.partition(".")
    if version != "v1" or not nonce or not mac:
        return False
    expected = op_proof(session_key(key, str(op["device_id"]), nonce), nonce, op)
    return hmac.compare_digest(expected, proof)
