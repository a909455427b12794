"""All-digit codes: UPC-E vs EAN-8 decided by identifier, configuration or catalogue; EAN add-ons."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import parse_scan
from devices.errors import AmbiguousScan, CheckDigitError, ScanError
from devices.parse import ScanOptions, resolve
from devices.scan import AmbiguousCode, GS1Data, Item, ShippingContainer, Symbology

UPCE_GTIN = "00076543000074"  # 07654374 read as the UPC-E it is
EAN8_GTIN = "00000007654374"  # the same digits read as an EAN-8


def mod10(body: str) -> str:
    """GS1 check digit, written out here so the tests do not lean on the code under test."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def upce_to_upca(upce: str) -> str:
    """UPC-E (number system, six digits, check) expanded to UPC-A, per the GS1 table."""
    ns, d, check = upce[0], upce[1:7], upce[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


def test_eight_digits_valid_both_as_ean_8_and_upc_e_come_back_as_both_candidates():
    scan = parse_scan("07654374")
    assert isinstance(scan.meaning, AmbiguousCode)
    assert scan.meaning.forms == ("EAN-8", "UPC-E")
    assert scan.candidate_gtins == (EAN8_GTIN, UPCE_GTIN)
    assert scan.gtin is None  # no silent guess


@pytest.mark.parametrize(("known", "gtin"), [({UPCE_GTIN}, UPCE_GTIN), ({EAN8_GTIN}, EAN8_GTIN)])
def test_the_catalogue_settles_an_ambiguous_code_when_it_knows_exactly_one_candidate(known, gtin):
    assert resolve(parse_scan("07654374"), known_gtin=known.__contains__).gtin == gtin


@pytest.mark.parametrize("known", [set(), {UPCE_GTIN, EAN8_GTIN}])
def test_an_ambiguous_code_the_catalogue_cannot_settle_is_refused_naming_both_readings(known):
    with pytest.raises(AmbiguousScan, match=f"EAN-8 {EAN8_GTIN} or UPC-E {UPCE_GTIN}"):
        resolve(parse_scan("07654374"), known_gtin=known.__contains__)


@pytest.mark.parametrize(("policy", "gtin"), [("upce", UPCE_GTIN), ("ean8", EAN8_GTIN)])
def test_a_site_that_configured_its_eight_digit_codes_gets_that_reading(policy, gtin):
    assert parse_scan("07654374", options=ScanOptions(eight_digits=policy)).gtin == gtin


def test_a_configured_reading_still_checks_its_check_digit():
    with pytest.raises(CheckDigitError):
        parse_scan("04252614", options=ScanOptions(eight_digits="ean8"))  # a valid UPC-E, no EAN-8


@pytest.mark.parametrize(
    ("raw", "gtin"),
    [
        ("]E007654374", UPCE_GTIN),  # ]E0 with 8 digits is UPC-E
        ("]E407654374", EAN8_GTIN),  # ]E4 is EAN-8
        ("]E00076543000074", UPCE_GTIN),  # UPC-E expanded by the scanner
    ],
)
def test_a_symbology_identifier_decides_between_ean_8_and_upc_e(raw, gtin):
    assert parse_scan(raw).gtin == gtin


def test_a_camera_upc_e_in_its_expanded_form_is_the_upc_e_gtin():
    assert parse_scan("0076543000074", symbology=Symbology.UPCE).gtin == UPCE_GTIN


@given(st.sampled_from("01"), st.integers(0, 999_999))
@settings(max_examples=300, deadline=None)
def test_no_valid_upc_e_is_ever_read_as_another_item(number_system, body):
    upca = upce_to_upca(f"{number_system}{body:06d}0")
    check = mod10(upca[:-1])
    upce = f"{number_system}{body:06d}{check}"
    scan = parse_scan(upce)
    right = "00" + upca[:-1] + check
    assert right in scan.candidate_gtins  # offered ...
    assert scan.gtin in (right, None)  # ... and never replaced by a different single GTIN


def test_an_e3_code_is_the_item_with_its_add_on():
    scan = parse_scan("]E3978030640615751299")
    assert scan.meaning == Item(gtin="09780306406157", code="9780306406157", add_on="51299")


def test_an_e3_upc_a_with_a_two_digit_add_on_is_read_too():
    assert parse_scan("]E303600029145207").meaning == Item("00036000291452", "036000291452", "07")


def test_an_isbn_with_a_price_add_on_is_never_read_as_a_carton_alone():
    scan = parse_scan("978030640615751299")  # both the book and an SSCC pass their check digits
    assert isinstance(scan.meaning, AmbiguousCode)
    assert Item("09780306406157", "9780306406157", "51299") in scan.meaning.candidates
    book = resolve(scan, known_gtin={"09780306406157"}.__contains__)
    assert book.meaning.add_on == "51299"


def test_an_isbn_with_an_add_on_that_is_no_sscc_is_the_book():
    raw = "978030640615790000"  # SSCC check digit wrong, the ISBN right
    with pytest.raises(CheckDigitError):
        parse_scan(raw, options=ScanOptions(add_ons="never"))
    assert parse_scan(raw).meaning == Item("09780306406157", "9780306406157", "90000")


def test_an_sscc_outside_the_book_prefixes_stays_an_sscc():
    assert parse_scan("373400306809981733").meaning == ShippingContainer("373400306809981733")


def test_a_periodical_with_a_two_digit_issue_add_on_is_read():
    code = "977123456700" + mod10("977123456700")
    assert parse_scan(code + "15").meaning == Item("0" + code, code, "15")


def test_an_add_on_alone_names_no_item():
    with pytest.raises(ScanError, match="add-on alone"):
        parse_scan("]E251299")


@pytest.mark.parametrize("substitutes", [("<GS>",), ["<GS>", ">"], ("[FNC1]",)])
def test_a_text_substitute_for_gs_can_be_configured(substitutes):
    sep = substitutes[0]
    scan = parse_scan(f"010950110153000310AB12{sep}21SER9", options=ScanOptions(gs_substitutes=tuple(substitutes)))
    assert isinstance(scan.meaning, GS1Data)
    assert (scan.meaning.batch, scan.meaning.serial) == ("AB12", "SER9")


def test_single_character_substitutes_given_as_a_string_still_work():
    assert parse_scan("010950110153000310AB12~21SER9", gs_substitutes="~|").meaning.serial == "SER9"
