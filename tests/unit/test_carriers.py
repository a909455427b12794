"""sync.carriers and hub.carrier_csv: zones, the service chosen for a carton and why
each other lost, tracking numbers and their check digit, and reading a rate table
from CSV with every bad row named by file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hub.carrier_csv import read_table
from hub.carrier_demo import DEMO_RATES
from sync.carriers import (
    Destination,
    RateTable,
    Zone,
    choose,
    destination,
    is_tracking_number,
    tracking_check_digit,
    tracking_number,
    zone_for,
)

MONDAY = date(2026, 12, 7)
SSCC = "106141411234567897"


def demo() -> RateTable:
    table, problems = read_table(DEMO_RATES)
    assert table is not None, problems.bad
    return table


ZONES = [Zone(zone="DOMESTIC", country="DE"), Zone(zone="BERLIN", country="DE", postal_prefix="10"),
         Zone(zone="MITTE", country="DE", postal_prefix="101"), Zone(zone="NEAR", country="DE", min_km=0, max_km=25),
         Zone(zone="FAR", country="DE", postal_prefix="10", min_km=25)]


@pytest.mark.parametrize("dest, zone", [
    (Destination("DE", "80802"), "DOMESTIC"),  # only the whole country matches
    (Destination("DE", "10245"), "BERLIN"),  # a prefix beats the whole country
    (Destination("DE", "10119"), "MITTE"),  # the longer prefix wins
    (Destination("DE", "10 115"), "MITTE"),  # spaces in the postal code do not count
    (Destination("DE", "80802", km=12.0), "NEAR"),  # a band that holds the distance beats the bare country
    (Destination("DE", "80802", km=25.0), "DOMESTIC"),  # bands are [min, max)
    (Destination("DE", "10245", km=40.0), "FAR"),  # same prefix: the banded row wins
    (Destination("FR", "75001"), None),  # no row for the country
])
def test_the_most_specific_zone_row_holds_the_destination(dest, zone):
    found, why = zone_for(ZONES, dest)
    assert (found.zone if found else None) == zone
    assert (zone in why) if zone else ("no zone covers FR 75001" == why)
    table = RateTable(services=[{"carrier": "P", "service": "s", "name": "P s", "tracking_prefix": "PS"}], zones=ZONES,
                      rates=[{"carrier": "P", "service": "s", "zone": "DOMESTIC", "max_weight_g": 1, "price_cents": 1,
                              "transit_days": 1}])
    assert zone_for(table, dest) == (found, why)  # the table's index by (country, prefix) finds the same row


def test_distance_is_measured_from_the_shipping_location_only_when_both_ends_have_coordinates():
    berlin, potsdam = (52.52, 13.405), {"lines": ["x"], "postal_code": "14467", "country": "DE", "lat": 52.39, "lon": 13.06}
    assert 25 < destination(potsdam, berlin).km < 30
    assert destination(potsdam, None).km is None
    assert destination({**potsdam, "lat": None, "lon": None}, berlin).km is None


def test_the_cheapest_service_that_keeps_the_promise_is_chosen_and_the_others_say_why_they_lost():
    choice = choose(demo(), 1800, Destination("DE", "80802"), MONDAY, date(2026, 12, 10))
    assert (choice.chosen.carrier, choice.chosen.service, choice.rule) == ("PARCEL", "standard", "cheapest_on_time")
    assert choice.chosen.price_cents == 499 and choice.chosen.arrives == date(2026, 12, 10)
    said = dict(zip(["zone", "standard", "express", "sameday"], choice.explain()))
    assert said["zone"] == "DE 80802 is in zone DOMESTIC (the whole country)."
    assert said["express"] == "PARCEL express: costs 10.99, more than PARCEL standard's 4.99."
    assert said["sameday"] == "COURIER sameday: does not serve zone DOMESTIC."


def test_a_tight_promise_takes_a_dearer_faster_service():
    choice = choose(demo(), 1800, Destination("DE", "80802"), MONDAY, date(2026, 12, 8))
    assert (choice.chosen.service, choice.rule) == ("express", "cheapest_on_time")
    assert "arrives 2026-12-10, after the promised 2026-12-08" in choice.options[0].reasons[0]


def test_same_day_in_berlin_goes_by_courier():
    choice = choose(demo(), 1200, Destination("DE", "10119"), MONDAY, MONDAY)
    assert (choice.chosen.carrier, choice.chosen.service, choice.zone) == ("COURIER", "sameday", "LOCAL")


def test_when_no_service_keeps_the_promise_the_fastest_goes_and_says_so():
    choice = choose(demo(), 1800, Destination("DE", "80802"), MONDAY, MONDAY)
    assert (choice.chosen.service, choice.rule) == ("express", "fastest_late")
    assert choice.chosen.reasons[0].startswith("chosen: no service keeps the promise, this one is the fastest (1 day")
    assert "slower (3 days against 1)" in choice.options[0].reasons


@pytest.mark.parametrize("weight_g, service, price", [(2000, "standard", 499), (2001, "standard", 749),
                                                      (31500, "standard", 1399)])
def test_a_carton_pays_the_lightest_weight_band_it_fits_in(weight_g, service, price):
    choice = choose(demo(), weight_g, Destination("DE", "80802"), MONDAY, None)
    assert (choice.chosen.service, choice.chosen.price_cents) == (service, price)


def test_a_carton_over_every_limit_has_no_service_and_each_says_its_limit():
    choice = choose(demo(), 40_000, Destination("DE", "10119"), MONDAY, None)
    assert choice.chosen is None and choice.rule == "none"
    assert "COURIER sameday: takes at most 15 kg to zone LOCAL; the carton weighs 40 kg." in choice.explain()


def test_an_address_in_no_zone_has_no_service():
    choice = choose(demo(), 500, Destination("US", "10001"), MONDAY, None)
    assert choice.chosen is None and choice.zone is None and all(o.reasons == ["no zone for the address"] for o in choice.options)


def test_a_tracking_number_is_the_carrier_prefix_the_sscc_without_its_check_digit_and_a_mod_11_check():
    number = tracking_number("PS", SSCC)
    assert number == "PS" + SSCC[:17] + tracking_check_digit(SSCC[:17]) and len(number) == 20
    assert is_tracking_number(number)
    # UPU S10's worked example: 47312482 → 8·4+6·7+4·3+2·1+3·2+5·4+9·8+7·2 = 200, 11 − 200 mod 11 = 9
    assert tracking_check_digit("47312482") == "9"


@pytest.mark.parametrize("digits, check", [("00000000", "5"), ("00000001", "4"), ("10000000", "3")])
def test_the_check_digit_maps_ten_to_zero_and_eleven_to_five(digits, check):
    assert tracking_check_digit(digits) == check


def test_every_single_wrong_digit_of_a_tracking_number_is_caught():
    number = tracking_number("CC", SSCC)
    for i in range(2, 20):
        for d in "0123456789":
            if d != number[i]:
                assert not is_tracking_number(number[:i] + d + number[i + 1:])


def test_different_cartons_get_different_tracking_numbers_and_bad_input_is_refused():
    assert tracking_number("PS", SSCC) != tracking_number("PS", "106141411234567880")
    for prefix, sscc in (("P", SSCC), ("ps", SSCC), ("PS", "12345"), ("PS", "10614141123456789X")):
        with pytest.raises(ValueError):
            tracking_number(prefix, sscc)


def test_the_demo_rate_table_is_the_example_files():
    folder = Path(__file__).resolve().parents[2] / "examples" / "carriers"
    assert {part: (folder / f"{part}.csv").read_text() for part in DEMO_RATES} == DEMO_RATES


def test_every_bad_row_is_reported_with_its_file_and_line_and_nothing_is_read():
    texts = {**DEMO_RATES,
             "services": DEMO_RATES["services"] + "PARCEL,eco,Parcel Eco,XX\nPOST,std,Post,PS\nPOST,std,Post again,PO\n",
             "zones": DEMO_RATES["zones"] + "MOON,de,,,\nBAND,DE,,30,10\n",
             "rates": "carrier,service,zone,max_weight_g,price,transit_days\n"
                      "PARCEL,standard,LOCAL,2000,4.49,2\n"
                      "PARCEL,standard,MARS,2000,4.49,2\n"
                      "GHOST,fast,LOCAL,2000,4.49,2\n"
                      "PARCEL,standard,LOCAL,2000,5.00,2\n"
                      "PARCEL,standard,LOCAL,x,5.00,2\n"
                      "PARCEL,standard,LOCAL,5000,1.999,2\n"
                      "PARCEL,standard,LOCAL,6000,-1,2\n"
                      "PARCEL,standard,LOCAL,7000,1,2,extra\n"}
    table, problems = read_table(texts)
    assert table is None
    assert [(e["file"], e["line"]) for e in problems.as_list()] == [
        ("services", 5), ("services", 6), ("services", 7), ("services", 7), ("zones", 10), ("zones", 11),
        ("rates", 3), ("rates", 4), ("rates", 5), ("rates", 6), ("rates", 7), ("rates", 8), ("rates", 9)]
    said = {(e["file"], e["line"]): e["error"] for e in problems.as_list()}
    assert said[("services", 5)] == "carrier PARCEL has tracking prefix PS on an earlier line"
    assert said[("services", 6)] == "tracking prefix PS is PARCEL's already"
    assert said[("rates", 3)] == "no zone MARS in the zones file"
    assert said[("rates", 5)] == "the same band as line 2 (PARCEL standard, LOCAL, up to 2000 g)"
    assert said[("zones", 11)] == "min_km 30 is not below max_km 10"
    assert said[("rates", 7)] == "price: '1.999' has more than two decimals"


@pytest.mark.parametrize("part, text, error", [
    ("rates", "carrier,service,zone,weight\n", "header: missing column max_weight_g, price, transit_days; unknown column weight"),
    ("zones", "", "header: the file is empty"),
    ("services", "carrier,service,name,tracking_prefix\n", "no services: the file has a header but no rows"),
])
def test_a_file_with_a_wrong_header_or_no_rows_is_named_at_line_one(part, text, error):
    _table, problems = read_table({**DEMO_RATES, part: text})
    assert problems.as_list()[0]["line"] == 1 and problems.as_list()[0]["error"].startswith(error)


def test_the_rate_table_carrier_is_a_carrier_adapter_that_quotes_books_and_lists_its_manifest():
    from hub.carrier_adapter import CarrierAdapter, Parcel, RateTableCarrier
    from hub.errors import Invalid

    asked = []
    parcel = Parcel(SSCC, 1800, "DEMO-1", {"lines": ["x"], "postal_code": "80802", "country": "DE"}, MONDAY, date(2026, 12, 10))
    parcels = RateTableCarrier("PARCEL", demo(), {}, lambda *args: asked.append(args) or [{"sscc": SSCC}])
    assert isinstance(parcels, CarrierAdapter)
    assert [(q.service, q.price_cents, q.on_time) for q in parcels.quote(parcel)] == [("standard", 499, True), ("express", 1099, True)]
    booking = parcels.create_shipment(parcel, "express")
    assert (booking.tracking, booking.label_heading) == (tracking_number("PS", SSCC), "PARCEL EXPRESS")
    assert parcels.manifest("DEMO-1", MONDAY) == [{"sscc": SSCC}] and asked == [("DEMO-1", "2026-12-07", "PARCEL")]
    courier = RateTableCarrier("COURIER", demo(), {}, lambda *args: [])
    with pytest.raises(Invalid, match="does not serve zone DOMESTIC"):
        courier.create_shipment(parcel, "sameday")
    with pytest.raises(Invalid, match="no service in the rate table"):
        RateTableCarrier("GHOST", demo(), {}, lambda *args: [])
