"""parse_scan: one Scan model for every kind of code, and a specific error for every bad one."""

import datetime as dt
from decimal import Decimal

import pytest

from devices import ScanSource, Symbology, parse_scan
from devices.errors import (
    CheckDigitError,
    EmptyScan,
    InvalidGS1Value,
    MalformedLabel,
    NonPrintableInput,
    ScanError,
    ScanTooLong,
    TruncatedGS1,
    UnknownAI,
)
from devices.scan import (
    Badge,
    BinLabel,
    GS1Data,
    Item,
    OrderNumber,
    PickupCode,
    ShippingContainer,
    Text,
    ToteLabel,
)

GS = "\x1d"


@pytest.mark.parametrize(
    ("raw", "gtin"),
    [
        ("5901234123457", "05901234123457"),  # EAN-13
        ("96385074", "00000096385074"),  # EAN-8
        ("036000291452", "00036000291452"),  # UPC-A
        ("10012345678902", "10012345678902"),  # GTIN-14
    ],
)
def test_retail_codes_become_items_with_a_14_digit_gtin(raw, gtin):
    scan = parse_scan(raw)
    assert isinstance(scan.meaning, Item)
    assert scan.gtin == gtin and scan.meaning.code == raw and scan.kind == "item"


def test_upc_e_is_expanded_to_its_gtin_when_the_symbology_says_upc_e():
    assert parse_scan("04252614", symbology=Symbology.UPCE).gtin == "00042100005264"


def test_eight_digits_that_fail_as_ean_8_are_read_as_upc_e():
    assert parse_scan("04252614").gtin == "00042100005264"


@pytest.mark.parametrize("raw", ["5901234123458", "96385075", "036000291453", "10012345678903", "04252615"])
def test_a_wrong_check_digit_is_a_check_digit_error_naming_the_expected_digit(raw):
    with pytest.raises(CheckDigitError, match="Expected"):
        parse_scan(raw)


def test_a_bare_sscc_becomes_a_shipping_container():
    scan = parse_scan("373400306809981733")
    assert scan.meaning == ShippingContainer("373400306809981733") and scan.sscc == "373400306809981733"


def test_a_bare_sscc_with_a_wrong_check_digit_is_refused():
    with pytest.raises(CheckDigitError):
        parse_scan("373400306809981734")


def test_gs1_128_with_symbology_identifier_gives_every_element():
    scan = parse_scan("]C1010950110153000317261231" + GS + "10AB12" + GS + "21SER9")
    assert scan.symbology == Symbology.GS1_128 and scan.data.startswith("0109501101530003")
    meaning = scan.meaning
    assert isinstance(meaning, GS1Data)
    assert [e.ai for e in meaning.elements] == ["01", "17", "10", "21"]
    assert meaning.gtin == "09501101530003" and meaning.batch == "AB12" and meaning.serial == "SER9"
    assert meaning.expiry == dt.date(2026, 12, 31)


def test_the_listed_application_identifiers_are_all_understood():
    data = GS.join(
        [
            "00373400306809981733",
            "020950110153000315261130",
            "11260101",
            "3103001250",
            "3712",
            "30" + "5",
        ]
    )
    meaning = parse_scan(data).meaning
    assert [e.ai for e in meaning.elements] == ["00", "02", "15", "11", "3103", "37", "30"]
    assert meaning.sscc == "373400306809981733" and meaning.gtin == "09501101530003"
    assert meaning.net_weight_kg == Decimal("1.250") and meaning.count == 12
    assert meaning.expiry == dt.date(2026, 11, 30)


def test_the_parenthesised_human_readable_form_parses_the_same_as_the_barcode_form():
    hri = parse_scan("(01)09501101530003(17)261231(10)AB12").meaning
    raw = parse_scan("010950110153000317261231" + GS + "10AB12").meaning
    assert hri == raw


def test_a_scanner_substitute_for_gs_is_turned_back_into_gs():
    scan = parse_scan("010950110153000310AB12~21SER9", gs_substitutes="~")
    assert scan.meaning.batch == "AB12" and scan.meaning.serial == "SER9" and GS in scan.data


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("0109501101530003172612", TruncatedGS1),  # expiry cut short
        ("]C101095011015300", TruncatedGS1),  # GTIN cut short
        ("]C10109501101530003" + GS + "1", TruncatedGS1),  # ends inside an AI
        ("]C130", TruncatedGS1),  # variable count with no data
        ("]C12312345", UnknownAI),
        ("]C1010950110153000323XYZ", UnknownAI),
        ("]C10109501101530003172613" + "01", InvalidGS1Value),  # month 13
        ("]C110" + "A" * 25, InvalidGS1Value),  # lot longer than 20
        ("]C10109501101530004", CheckDigitError),
        ("00373400306809981734", CheckDigitError),
        ("(01)0950110153000", InvalidGS1Value),
    ],
)
def test_bad_gs1_gives_the_specific_error(raw, error):
    with pytest.raises(error, match=r"\S"):
        parse_scan(raw)


@pytest.mark.parametrize(
    ("raw", "meaning"),
    [
        ("BIN:A-01-1", BinLabel("A-01-1")),
        ("TOTE:T0042", ToteLabel("T0042")),
        ("BADGE:OP-17", Badge("OP-17")),
        ("PICKUP:SO-100234:7Q4K9M", PickupCode("SO-100234", "7Q4K9M")),
        ("ORD:SO-100234", OrderNumber("SO-100234")),
        ("bin:A-01-1", BinLabel("A-01-1")),  # caps lock or layout flipped the prefix
    ],
)
def test_our_own_label_codes_are_recognised(raw, meaning):
    assert parse_scan(raw).meaning == meaning


@pytest.mark.parametrize("raw", ["BIN:", "TOTE:has space", "BADGE:-x", "PICKUP:SO-1", "PICKUP:SO-1:ab", "ORD:" + "9" * 41])
def test_a_malformed_own_label_is_refused_not_taken_as_text(raw):
    with pytest.raises(MalformedLabel):
        parse_scan(raw)


@pytest.mark.parametrize("raw", ["A-01-1", "hello world", "12345", "SUPPLIER#77"])
def test_free_text_is_returned_as_text_for_the_caller_to_decide(raw):
    assert parse_scan(raw).meaning == Text(raw)


def test_code128_digits_that_look_like_gs1_stay_text_when_the_symbology_says_plain_code128():
    assert parse_scan("]C00109501101530003").meaning == Text("0109501101530003")


@pytest.mark.parametrize("raw", ["", "   ", "\r\n", GS, "]C1"])
def test_an_empty_scan_is_an_empty_scan_error(raw):
    with pytest.raises(EmptyScan):
        parse_scan(raw)


@pytest.mark.parametrize("raw", ["ABC\x07DEF", "59012\x0034123457", "BIN:A\x1b[2J", "x\u200by"])
def test_non_printable_characters_are_refused_with_their_position(raw):
    with pytest.raises(NonPrintableInput, match="position"):
        parse_scan(raw)


def test_a_ten_kilobyte_paste_is_refused_as_too_long():
    with pytest.raises(ScanTooLong, match="10240"):
        parse_scan("5901234123457\n" * 731 + "123456")


def test_a_retail_symbology_with_letters_is_refused():
    with pytest.raises(ScanError):
        parse_scan("59012341234A", symbology=Symbology.EAN13)


def test_every_scan_keeps_raw_data_source_and_time():
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    scan = parse_scan(" 5901234123457\r\n", source=ScanSource.CAMERA, scanned_at=at)
    assert (scan.raw, scan.data, scan.source, scan.scanned_at) == (" 5901234123457\r\n", "5901234123457", ScanSource.CAMERA, at)


def test_bytes_instead_of_text_are_refused_with_a_scan_error():
    with pytest.raises(ScanError, match="must be text"):
        parse_scan(b"5901234123457")
