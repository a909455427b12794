"""Return codes: the barcode on a customer's receipt and packing slip that lets any
store take a return of the order offline, and lets the hub tell a genuine one from a
forged one when the return arrives. Pure: stdlib only, no I/O.

    RET1:<key id>:<order id>:<order number>:<location>:<lines>:<mac>

- `lines` is `<line_no>*<sku>*<qty>` per line, joined by `,`: the lines as ordered
  (the most that can come back; the hub holds each to what was really sold).
- `location` is the location the order was sent from (empty while it has none).
- The key id, order id, number, location and SKUs are percent-encoded (RFC 3986: only
  `A-Z a-z 0-9 - . _ ~` stay as they are), so `:`, `*` and `,` only ever separate.
- `mac` is HMAC-SHA256 under the hub's key `<key id>` of every character before the
  last `:`, its first 16 bytes in lowercase hex. Only the hub holds the keys: a device
  reads a code, it cannot make one.

Example: `RET1:k1:ord-7f3a:W-1002:WH-1:1*OLIVE-OIL*1,2*PASTA-FUS*2:3b9e…` (32 hex digits).
A code is at most MAX_CODE_CHARS long (a QR code holds it at level M); an order
too big for one gets none and its returns are looked up online."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from sync.errors import BadReturnCode

__all__ = ["PREFIX", "MAX_CODE_CHARS", "ReturnCodeLine", "ReturnCode", "is_return_code", "make_return_code",
           "read_return_code", "return_code_signed"]

PREFIX = "RET1:"
MAX_CODE_CHARS = 1800
_MAC_BYTES = 16
_MAC = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class ReturnCodeLine:
    line_no: int
    sku: str
    qty: int


@dataclass(frozen=True)
class ReturnCode:
    """What a return code says: the order and its lines, under which hub key."""

    key_id: str
    order_id: str
    number: str
    location: str  # "" while the order had none
    lines: tuple[ReturnCodeLine, ...]

    def line(self, line_no: int) -> ReturnCodeLine | None:
        return next((line for line in self.lines if line.line_no == line_no), None)


def is_return_code(text: str) -> bool:
    """Whether a scan looks like a return code (whether it reads or is genuine aside)."""
    return text.strip().upper().startswith(PREFIX)


def make_return_code(key: bytes, code: ReturnCode) -> str | None:
    """The signed text of `code`; None when it would not fit on a slip's barcode."""
    lines = ",".join(f"{line.line_no}*{_enc(line.sku)}*{line.qty}" for line in code.lines)
    heads = (code.key_id, code.order_id, code.number, code.location)
    body = PREFIX + ":".join(_enc(head) for head in heads) + f":{lines}"
    text = f"{body}:{_mac(key, body)}"
    return text if len(text) <= MAX_CODE_CHARS else None


def read_return_code(text: str) -> ReturnCode:
    """What the code says, unchecked (a device holds no key); raises BadReturnCode."""
    raw = text.strip()
    if not is_return_code(raw) or len(raw) > MAX_CODE_CHARS:
        raise BadReturnCode("not a return code (RET1:…) or longer than one can be")
    parts = raw[len(PREFIX):].split(":")
    if len(parts) != 6 or not _MAC.match(parts[5]):
        raise BadReturnCode("a return code has a key id, order id, order number, location, lines and a signature")
    key_id, order_id, number, location = (_dec(p) for p in parts[:4])
    if not key_id or not order_id or not number:
        raise BadReturnCode("the return code's key id, order id or order number is empty")
    return ReturnCode(key_id, order_id, number, location, _lines(parts[4]))


def return_code_signed(key: bytes, text: str) -> bool:
    """Whether `text` was signed with `key` (compared in constant time)."""
    body, _, mac = text.strip().rpartition(":")
    return bool(body) and hmac.compare_digest(_mac(key, body), mac)


def _lines(text: str) -> tuple[ReturnCodeLine, ...]:
    lines = []
    for part in text.split(","):
        fields = part.split("*")
        if len(fields) != 3 or not fields[0].isdigit() or not fields[2].isdigit() or not fields[1]:
            raise BadReturnCode(f"return code line {part[:40]!r} is not <line>*<sku>*<qty>")
        lines.append(ReturnCodeLine(int(fields[0]), _dec(fields[1]), int(fields[2])))
    if len({line.line_no for line in lines}) != len(lines):
        raise BadReturnCode("the return code names a line twice")
    return tuple(lines)


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).digest()[:_MAC_BYTES].hex()


_PLAIN = re.compile(r"^[A-Za-z0-9._~-]*$")


def _enc(value: str) -> str:
    # Most ids and SKUs need no escaping; quote() costs ten times the check (the feed signs every order it sends).
    return value if _PLAIN.match(value) else quote(value, safe="-._~")


def _dec(value: str) -> str:
    return unquote(value) if "%" in value else value
