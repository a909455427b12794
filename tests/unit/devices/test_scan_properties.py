"""Properties: whatever arrives, parsing raises only our errors and never passes off garbage as valid."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from devices import parse_scan
from devices.errors import CheckDigitError, ScanError
from devices.gs1 import make_sscc
from devices.scan import GS1Data, Item
from devices.wedge import WedgeReader

relaxed = settings(deadline=None)  # run time varies on a shared machine; the properties do not


@given(st.text(max_size=600))
@settings(max_examples=400, deadline=None)
def test_parse_scan_raises_nothing_but_scan_errors(raw):
    try:
        scan = parse_scan(raw)
    except ScanError:
        return
    assert scan.data and all(c.isprintable() or c == "\x1d" for c in scan.data)


@given(st.binary(max_size=200))
@relaxed
def test_arbitrary_bytes_decoded_leniently_raise_nothing_but_scan_errors(data):
    try:
        parse_scan(data.decode("latin-1"))
    except ScanError:
        pass


@given(st.text(alphabet=string.digits, min_size=12, max_size=12), st.integers(0, 9))
@relaxed
def test_an_ean_13_is_accepted_only_with_its_one_correct_check_digit(body, check):
    raw = body + str(check)
    correct = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    try:
        scan = parse_scan(raw)
    except CheckDigitError:
        assert check != correct
    else:
        assert check == correct and isinstance(scan.meaning, Item)


@given(st.integers(0, 9), st.integers(0, 10**9 - 1))
@relaxed
def test_a_made_sscc_always_parses_back_to_itself(extension, serial):
    sscc = make_sscc(extension, "0614141", serial)
    assert parse_scan("00" + sscc).sscc == sscc and parse_scan(sscc).sscc == sscc


@given(st.text(alphabet=string.digits + "\x1d", min_size=3, max_size=60))
@relaxed
def test_digit_strings_in_a_gs1_symbol_either_parse_fully_or_raise_a_scan_error(data):
    try:
        scan = parse_scan("]C1" + data)
    except ScanError:
        return
    assert isinstance(scan.meaning, GS1Data) and scan.meaning.elements


@given(st.lists(st.text(alphabet=string.ascii_uppercase + string.digits + "-:", min_size=3, max_size=30), min_size=1, max_size=30))
@relaxed
def test_the_wedge_returns_every_scan_in_order_for_any_codes(codes):
    reader = WedgeReader()
    bursts, t = [], 0.0
    for code in codes:
        for char in code + "\n":
            bursts += reader.feed(char, t)
            t += 0.002
        t += 0.01
    assert [b.text for b in bursts] == codes


@given(st.integers(0, 10**12 - 1), st.integers(0, 12), st.integers(1, 9))
@relaxed
def test_any_single_wrong_digit_in_an_ean_13_is_caught(serial, position, shift):
    body = f"{serial:012d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    good = body + str(check)
    bad = good[:position] + str((int(good[position]) + shift) % 10) + good[position + 1:]
    try:
        parse_scan(bad)
    except CheckDigitError:
        return
    raise AssertionError(f"{bad} (from {good}) was accepted")
