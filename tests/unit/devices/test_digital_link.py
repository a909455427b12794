"""GS1 Digital Link URIs read into the same Scan as the GS1-128 that carries the same data."""

import datetime as dt
from decimal import Decimal

import pytest

from devices import parse_scan
from devices.errors import CheckDigitError, GS1Error
from devices.scan import GS1Data, Symbology, Text

GS = "\x1d"
GS1_128 = "]C1010950600013435217261231" + "10ABC" + GS + "21S-77"


def facts(scan):
    meaning = scan.meaning
    assert isinstance(meaning, GS1Data), scan
    return meaning.gtin, meaning.batch, meaning.expiry, meaning.serial


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/09506000134352/10/ABC/21/S-77?17=261231",
        "https://brand.example.com/01/09506000134352/10/ABC/21/S-77?17=261231",
        "https://shop.example.co.uk/products/p/01/9506000134352/10/ABC/21/S-77?17=261231&utm_source=pack",
        "HTTPS://ID.GS1.ORG/01/09506000134352/10/ABC/21/S-77?17=261231",
        "https://example.com/gtin/9506000134352/lot/ABC/ser/S-77?exp=261231",  # Digital Link 1.0 short names
    ],
)
def test_a_digital_link_gives_the_same_gtin_batch_expiry_and_serial_as_the_gs1_128(uri):
    scan = parse_scan(uri, symbology=Symbology.QR)
    assert facts(scan) == facts(parse_scan(GS1_128)) == ("09506000134352", "ABC", dt.date(2026, 12, 31), "S-77")
    assert scan.gtin == "09506000134352" and scan.kind == "gs1"


def test_query_string_ais_are_read_and_unknown_parameters_ignored():
    scan = parse_scan("https://id.gs1.org/01/09506000134352?3103=000195&linkType=gs1:pip&15=270101")
    assert scan.meaning.net_weight_kg == Decimal("0.195")
    assert scan.meaning.get("15").date == dt.date(2027, 1, 1)


def test_an_sscc_digital_link_names_the_carton():
    assert parse_scan("https://id.gs1.org/00/106141412345678908?02=00614141123452&37=25").sscc == "106141412345678908"


def test_a_percent_encoded_slash_stays_inside_its_value():
    assert parse_scan("https://id.gs1.org/01/09506000134352/10/A%2FB").meaning.batch == "A/B"


def test_a_digital_link_with_a_wrong_gtin_check_digit_is_refused():
    with pytest.raises(CheckDigitError):
        parse_scan("https://id.gs1.org/01/09506000134353/10/ABC")


def test_a_digital_link_with_a_bad_expiry_is_refused():
    with pytest.raises(GS1Error):
        parse_scan("https://id.gs1.org/01/09506000134352?17=261399")


@pytest.mark.parametrize("url", ["https://example.com/", "https://blog.example.com/2024/01/15/post", "http://x.test/01/abc"])
def test_an_ordinary_web_address_stays_text(url):
    assert parse_scan(url).meaning == Text(url)
