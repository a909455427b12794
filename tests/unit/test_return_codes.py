"""Return codes (sync.return_codes): the format documented in the module and in
docs/returns.md, signed by the hub's key only; and the rule that holds a return of
another location's order to what its customer got (sync.rules.settle_return_elsewhere)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.errors import BadReturnCode
from sync.return_codes import (
    MAX_CODE_CHARS,
    ReturnCode,
    ReturnCodeLine,
    is_return_code,
    make_return_code,
    read_return_code,
    return_code_signed,
)
from sync.rules import LineState, settle_return_elsewhere, units_out

KEY = bytes(range(32))
ORDER = ReturnCode("k1", "ord-7f3a", "W-1002", "WH-1", (ReturnCodeLine(1, "OLIVE-OIL", 1), ReturnCodeLine(2, "PASTA-FUS", 2)))


def test_a_code_reads_as_documented_and_back_to_what_was_signed():
    code = make_return_code(KEY, ORDER)
    assert code is not None
    body, _, mac = code.rpartition(":")
    assert body == "RET1:k1:ord-7f3a:W-1002:WH-1:1*OLIVE-OIL*1,2*PASTA-FUS*2"
    assert len(mac) == 32 and int(mac, 16) >= 0
    assert read_return_code(code) == ORDER
    assert return_code_signed(KEY, code) and is_return_code(code) and is_return_code(" ret1:x")


def test_separators_inside_values_are_percent_encoded_and_survive():
    odd = ReturnCode("k1", "id:with:colons", "N*1,2", "", (ReturnCodeLine(3, "SKU:*,%", 4),))
    code = make_return_code(KEY, odd)
    assert code is not None and code.count(":") == 6
    assert read_return_code(code) == odd


@given(number=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=30),
       sku=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=30),
       qty=st.integers(1, 10_000))
def test_any_printable_order_round_trips(number, sku, qty):
    said = ReturnCode("k1", "o-1", number, "DEMO-1", (ReturnCodeLine(1, sku, qty),))
    code = make_return_code(KEY, said)
    assert code is not None and read_return_code(code) == said and return_code_signed(KEY, code)


@pytest.mark.parametrize("change", [
    lambda c: c.replace("*1,", "*5,"),  # more units than the order had
    lambda c: c.replace("OLIVE-OIL", "CHAMPAGNE"),  # another item
    lambda c: c.replace("W-1002", "W-1003"),  # another order
    lambda c: c.replace(":WH-1:", ":DEMO-1:"),  # another sender
    lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"),  # a digit of the signature
])
def test_any_change_breaks_the_signature(change):
    code = make_return_code(KEY, ORDER)
    assert code is not None
    forged = change(code)
    assert forged != code and not return_code_signed(KEY, forged)


def test_another_key_does_not_sign_it():
    code = make_return_code(KEY, ORDER)
    assert code is not None and not return_code_signed(b"another key of thirty-two bytes!", code)


@pytest.mark.parametrize("text,why", [
    ("ORD:W-1002", "not a return code"),
    ("RET1:k1:o:W-1:1*A*1:" + "0" * 32, "a key id, order id, order number, location, lines"),
    ("RET1:k1:o:W-1:L:1*A*1:nothex", "a key id, order id"),
    ("RET1:k1::W-1:L:1*A*1:" + "0" * 32, "is empty"),
    ("RET1:k1:o:W-1:L:1*A:" + "0" * 32, "is not <line>*<sku>*<qty>"),
    ("RET1:k1:o:W-1:L:x*A*1:" + "0" * 32, "is not <line>*<sku>*<qty>"),
    ("RET1:k1:o:W-1:L:1*A*1,1*B*2:" + "0" * 32, "names a line twice"),
    ("RET1:" + "x" * MAX_CODE_CHARS, "longer than one can be"),
])
def test_what_does_not_read_says_why(text, why):
    with pytest.raises(BadReturnCode, match=why.replace("*", r"\*")):
        read_return_code(text)


def test_an_order_too_big_for_one_barcode_gets_no_code():
    big = ReturnCode("k1", "o-1", "W-1", "WH-1", tuple(ReturnCodeLine(n, f"SKU-{n:06d}-LONG-NAME", 1) for n in range(1, 200)))
    assert make_return_code(KEY, big) is None


@pytest.mark.parametrize("fulfilment,status,packed,handed_over,out", [
    ("ship", "shipped", 2, 0, 2),  # packed into cartons the carrier took
    ("ship", "packed", 2, 0, 0),  # still in the building
    ("ship", "picked", 0, 0, 0),
    ("pickup", "partly_handed_over", 0, 1, 1),
    ("pickup", "picked", 0, 0, 0),
])
def test_what_reached_the_customer_is_shipped_or_handed_over_never_just_picked(fulfilment, status, packed, handed_over, out):
    assert units_out(fulfilment, status, packed, handed_over) == out


@pytest.mark.parametrize("line,sold,qty,refusal,says", [
    (LineState(qty=2), 2, 2, None, ""),
    (LineState(qty=2), 1, 2, "more_than_sold", "only 1 × OLIVE-OIL reached the customer, not 2"),
    (LineState(qty=2), 0, 1, "more_than_sold", "no OLIVE-OIL of this order has reached its customer yet"),
    (LineState(qty=2, returned=2), 2, 1, "already_returned", "2 of 2 × OLIVE-OIL came back already; 0 more can, not 1"),
    (LineState(qty=2, returned=1), 2, 1, None, ""),
])
def test_a_return_of_another_locations_order_is_held_to_what_its_customer_got(line, sold, qty, refusal, says):
    decision = settle_return_elsewhere(line, sold, qty, "OLIVE-OIL")
    assert (decision.refusal, decision.message) == (refusal, says)
    assert decision.apply_qty == (0 if refusal else qty)
