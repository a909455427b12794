"""Operator sessions on this device: the key of each operator signed in with a PIN,
held in this process's memory only (never in the replica: a lost device's files
hold no key), and the proof every op recorded in that session carries (sync.proofs).

A session ends at sign-out, at the idle timeout, and when the app stops; the ops
recorded in it keep their proofs in the outbox."""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

from sync.proofs import op_proof, session_key

__all__ = ["open_session", "close_session", "proof_for", "signed_in"]

_SESSIONS: dict[tuple[str, str], tuple[str, bytes]] = {}  # (device_id, operator_id) -> (nonce, session key)
_LOCK = threading.Lock()


def open_session(device_id: str, operator_id: str, operator_key: bytes) -> None:
    """Start a session for an operator who typed the right PIN; the operator key is not kept."""
    nonce = secrets.token_hex(8)
    with _LOCK:
        _SESSIONS[(device_id, operator_id)] = (nonce, session_key(operator_key, device_id, nonce))


def close_session(device_id: str, operator_id: str) -> None:
    with _LOCK:
        _SESSIONS.pop((device_id, operator_id), None)


def signed_in(device_id: str, operator_id: str) -> bool:
    with _LOCK:
        return (device_id, operator_id) in _SESSIONS


def proof_for(op: dict[str, Any]) -> str | None:
    """The proof for an op of a signed-in operator (its actor), None without a session."""
    with _LOCK:
        session = _SESSIONS.get((str(op["device_id"]), str(op["actor"])))
    if session is None:
        return None
    nonce, key = session
    as_sent = {**op, "payload": json.loads(json.dumps(op["payload"]))}  # the JSON values the hub will check
    return op_proof(key, nonce, as_sent)
