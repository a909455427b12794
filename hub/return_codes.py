"""The hub's side of return codes (sync.return_codes): it signs each order's code,
which travels with the order to its location's devices (printed on the packing slip)
and on the API's order; and it checks the code a return op carries before any
handler runs, refusing a code it did not sign (`return_code_forged`) or one that does
not cover the return (`return_code_mismatch`). Both are door refusals
(hub.log.DOOR_CODES): the keys are credentials, outside the fold `hub verify` replays."""

from __future__ import annotations

from typing import Any, Iterable

from hub.store.tx import Tx
from sync.errors import BadReturnCode
from sync.return_codes import ReturnCode, ReturnCodeLine, make_return_code, read_return_code, return_code_signed

__all__ = ["return_code_for", "return_code_refusal", "signing_keys", "KEY_TABLES"]


KEY_TABLES = ("return_code_keys", "escrow_keys")  # what the hub signs: return codes, allotment evidence


def signing_keys(conn: Tx, table: str) -> dict[str, bytes]:
    """One of the hub's signing-key tables (`KEY_TABLES`) by key id, oldest first; read
    once per transaction."""
    if table not in KEY_TABLES:
        raise ValueError(f"{table!r} is not a signing-key table")
    keys = conn.staged.get(table)
    if keys is None:
        rows = conn.execute(f"SELECT key_id, secret FROM {table} ORDER BY created_at, key_id").all()
        keys = {r.key_id: bytes.fromhex(r.secret) for r in rows}
        conn.staged[table] = keys
    return keys


def _keys(conn: Tx) -> dict[str, bytes]:
    return signing_keys(conn, "return_code_keys")


def return_code_for(conn: Tx, order_id: str, number: str, location: str | None,
                    lines: Iterable[tuple[int, str, int]]) -> str | None:
    """The order's signed return code from its (line_no, sku, qty) lines, with the newest
    key; None when the hub has no key or the order is too big for one code."""
    keys = _keys(conn)
    if not keys:
        return None
    key_id = list(keys)[-1]
    said = ReturnCode(key_id, order_id, number, location or "", tuple(ReturnCodeLine(n, sku, qty) for n, sku, qty in lines))
    return make_return_code(keys[key_id], said)


def return_code_refusal(conn: Tx, payload: Any) -> tuple[str, str] | None:
    """(reason code, sentence) when the return code a `return.received` payload carries
    is not one this hub signed for this order and these lines; None when it is, or
    when the payload carries none (then the handler holds the return to hub state)."""
    text = payload.get("return_code") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        return None
    try:
        said = read_return_code(text)
    except BadReturnCode as exc:
        return "return_code_forged", f"the return code does not read ({exc}): the receipt is forged or damaged"
    key = _keys(conn).get(said.key_id)
    if key is None or not return_code_signed(key, text):
        return "return_code_forged", (f"the return code for order {said.number[:40]} was not signed by this hub: "
                                      "the receipt is forged or altered; nothing was recorded for it")
    if payload.get("order_id") != said.order_id:
        return "return_code_mismatch", f"the return code is for order {said.number[:40]}, not the order this return names"
    lines = payload.get("lines")
    for i, line in enumerate(lines if isinstance(lines, list) else [None]):
        line_no = line.get("line_no") if isinstance(line, dict) else None
        on_code = said.line(line_no) if isinstance(line_no, int) else None
        if on_code is None or on_code.sku != line.get("sku"):
            return "return_code_mismatch", f"payload.lines.{i}: that line and item are not on the return code of order {said.number[:40]}"
    return None
