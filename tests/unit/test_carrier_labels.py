"""On the device: a carton of an order with a ship-to address, closed offline with the
rate table the hub published, carries its carrier service and tracking number, and its
label (ZPL, PDF, PNG) shows the address, the contact's phone, the service and the
tracking number; an order without an address keeps today's label."""

from __future__ import annotations

import json

import pytest

from devices.gs1 import parse_sscc
from edge_app.workflows.pack_labels import (
    carton_label,
    carton_label_pdf,
    carton_label_png,
    carton_label_zpl,
    label_address,
)
from edge_app.workflows.packing import PackSession, find_order
from hub.carrier_csv import read_table
from hub.carrier_demo import DEMO_RATES
from sync.carriers import is_tracking_number
from tests.unit.floor_store import MILK, ops, order, put, store

SHIP_TO = {"lines": ["Torstrasse 101", "Hinterhaus", "3. OG", "links"], "postal_code": "10119", "country": "DE"}


@pytest.fixture
def replica(tmp_path):
    r = store(tmp_path / "device")
    table, _problems = read_table(DEMO_RATES)
    assert table is not None
    put(r, "carrier_rates", "current", {"version": 4, "digest": "v4", "table": table.model_dump(mode="json"), "origins": {}})
    order(r, "o1", "W-1", [("MILK-1L", 1)], status="picked", picked=True, tote="T1")
    order(r, "o2", "W-2", [("MILK-1L", 1)], status="picked", picked=True, tote="T2")
    with r.transaction() as conn:  # as the hub's order snapshot carries them (JSON text)
        conn.execute("UPDATE orders SET ship_to = ?, contact = ? WHERE id = 'o1'",
                     (json.dumps(SHIP_TO), json.dumps({"phone": "+49 30 7654321"})))
    return r


def closed(replica, tote: str) -> PackSession:
    s = PackSession(replica, find_order(replica, f"TOTE:{tote}"), "K1")
    s.scan(MILK), s.choose_carton("S")
    assert s.close_carton(weight_g=1300).ok
    return s


def test_a_carton_closed_offline_carries_the_service_and_a_tracking_number_of_its_sscc(replica):
    s = closed(replica, "T1")
    [(_kind, payload, _actor)] = ops(replica, "pack.carton_closed")
    # promised for a day gone by: no service keeps it, the fastest goes (same day in Berlin)
    assert (payload["carrier"], payload["service"], payload["rates_version"]) == ("COURIER", "sameday", 4)
    assert is_tracking_number(payload["tracking"]) and payload["tracking"][2:19] == payload["carton_id"][:17]
    assert parse_sscc(payload["carton_id"]).sscc == payload["carton_id"]
    assert s.carrier() == payload["carrier"]


def test_the_zpl_label_holds_the_address_phone_service_and_tracking(replica):
    s = closed(replica, "T1")
    carton = s.last_carton
    zpl = carton_label_zpl(replica, s.order, carton)
    for words in ("Customer W-1", "Torstrasse 101", "Hinterhaus", "3. OG, links", "10119 DE", "TEL +49 30 7654321",
                  f"{carton['carrier']} {carton['service']}".upper(), f"TRACKING {carton['tracking']}", "ORDER W-1"):
        assert words in zpl, words
    assert zpl.count("^BC") == 2  # the tracking number's Code128 and the SSCC's GS1-128
    assert carton_label_pdf(replica, s.order, carton)[:5] == b"%PDF-"
    assert carton_label_png(replica, s.order, carton)[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_order_without_an_address_keeps_the_name_only_label_and_the_carrier_the_packer_names(replica):
    s = closed(replica, "T2")
    assert "carrier" not in s.last_carton and s.carrier() is None
    zpl = carton_label_zpl(replica, s.order, s.last_carton, "Parcel carrier")
    assert "PARCEL CARRIER" in zpl and "TRACKING" not in zpl and "Customer W-2" in zpl
    assert s.hand_to_carrier().message.endswith("handed to Carrier.")


def test_four_address_lines_fit_the_label_with_postal_code_and_country_last():
    assert label_address("Chen Wei", SHIP_TO).lines == ("Torstrasse 101", "Hinterhaus", "3. OG, links", "10119 DE")
    assert label_address("Chen Wei", None).lines == ()


def test_the_label_with_tracking_still_fits_the_four_by_six_label(replica):
    s = closed(replica, "T1")
    label = carton_label(replica, s.order, s.last_carton)
    assert all(0 <= f.y < label.height for f in label.fields)


@pytest.mark.parametrize("backend", ["zxing", "pyzbar"])
def test_the_printed_label_scans_back_to_its_tracking_number_and_sscc(replica, backend):
    import io

    import numpy as np
    from PIL import Image

    from devices.decoders import DecoderConfig, make_decoder

    s = closed(replica, "T1")
    image = np.array(Image.open(io.BytesIO(carton_label_png(replica, s.order, s.last_carton))).convert("L"))
    read = {d.text for d in make_decoder(DecoderConfig(backend=backend)).decode(image)}
    assert read == {s.last_carton["tracking"], "00" + s.last_carton["carton_id"]}
