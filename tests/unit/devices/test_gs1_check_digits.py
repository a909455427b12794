"""Every GS1 AI that carries a check digit (or check-character pair) has it verified."""

import pytest

from devices import parse_scan
from devices.errors import CheckDigitError
from devices.scan import GS1Data

GS = "\x1d"


def mod10(body: str) -> str:
    """GS1 check digit (weights 3, 1, 3 ... from the right), written out independently."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def keyed(body: str, before: str = "", after: str = "") -> tuple[str, str]:
    """(valid value, same value with the check digit off by one)."""
    check = mod10(body)
    wrong = str((int(check) + 1) % 10)
    return before + body + check + after, before + body + wrong + after


# AI -> (digits the check covers without their check digit, text before them, text after)
CASES = {
    "00": ("03734003068099817", "", ""),
    "01": ("0950110153000", "", ""),
    "02": ("0950110153000", "", ""),
    "03": ("0950110153000", "", ""),
    "253": ("590123412345", "", "DOC-7"),  # GDTI with its serial
    "255": ("590123412345", "", "0042"),  # GCN with its serial
    "402": ("5901234000000123", "", ""),  # GSIN
    **{str(ai): ("590123412345", "", "") for ai in range(410, 418)},  # GLNs
    "8003": ("590123412345", "0", "PALLET9"),  # GRAI: a leading 0, then 13 digits, then a serial
    "8006": ("0950110153000", "", "0102"),  # ITIP: GTIN, then piece 01 of 02
    "8017": ("59012341234567890", "", ""),  # GSRN provider
    "8018": ("59012341234567890", "", ""),  # GSRN recipient
    "8026": ("0950110153000", "", "0102"),  # ITIP content
}


def element_string(ai: str, value: str) -> str:
    """The element string, with a GS after a variable-length value and a GTIN where one is required."""
    return f"]C1{ai}{value}"


@pytest.mark.parametrize("ai", sorted(CASES))
def test_a_right_check_digit_is_accepted(ai):
    body, before, after = CASES[ai]
    good, _ = keyed(body, before, after)
    scan = parse_scan(element_string(ai, good))
    assert isinstance(scan.meaning, GS1Data) and scan.meaning.get(ai).value == good


@pytest.mark.parametrize("ai", sorted(CASES))
def test_a_wrong_check_digit_is_refused_naming_the_ai(ai):
    body, before, after = CASES[ai]
    _, bad = keyed(body, before, after)
    with pytest.raises(CheckDigitError, match=rf"\({ai}\).*expected {mod10(body)}"):
        parse_scan(element_string(ai, bad))


def test_a_wrong_gln_inside_a_longer_element_string_is_found():
    good, bad = keyed("590123412345")
    with pytest.raises(CheckDigitError, match=r"\(410\)"):
        parse_scan(f"]C10109501101530003410{bad}{GS}10AB")
    assert parse_scan(f"]C10109501101530003410{good}{GS}10AB").meaning.batch == "AB"


@pytest.mark.parametrize("form", ["(414){}", "]C1414{}"])
def test_gln_check_digits_are_verified_in_the_bracketed_and_the_barcode_form(form):
    _, bad = keyed("590123412345")
    with pytest.raises(CheckDigitError):
        parse_scan(form.format(bad))


@pytest.mark.parametrize("ai", ["8013", "8014"])
def test_a_model_number_check_character_pair_is_verified(ai):
    good = "1987654Ad4X4bL5ttr2310c2K"  # the GS1 General Specifications example
    assert parse_scan(f"]C1{ai}{good}").meaning.get(ai).value == good
    with pytest.raises(CheckDigitError, match="2K"):
        parse_scan(f"]C1{ai}{good[:-1]}L")
