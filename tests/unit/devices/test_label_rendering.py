"""Labels: SSCC check digits, PNG/PDF a scanner can read back, and ZPL a Zebra printer understands."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from devices.codes import (
    badge_data,
    bin_label_data,
    order_data,
    pickup_data,
    tote_label_data,
)
from devices.decoders import BACKENDS, DecoderConfig, make_decoder
from devices.errors import LabelError
from devices.gs1 import make_sscc
from devices.labels import Address, bin_label, carton_label, shipping_label, tote_label
from devices.parse import parse_scan
from devices.render import to_image, to_pdf, to_png
from devices.zpl import code128_field_data, to_zpl

SSCC = make_sscc(3, "7340030", 68099817)


def decoded_meanings(label, backend):
    image = np.array(to_image(label))
    return [d.to_scan().meaning for d in make_decoder(DecoderConfig(backend=backend)).decode(image)]


def a_shipping_label(**overrides):
    args = dict(
        ship_from=Address("Backroom DC", ("1 Dock Rd", "Springfield")),
        ship_to=Address("Jane Doe", ("22 Elm St", "12345 Shelbyville")),
        order_number="SO-100234",
        carrier="PostNL",
        weight_kg=2.5,
    )
    return shipping_label(SSCC, **{**args, **overrides})


def test_make_sscc_computes_the_gs1_check_digit():
    assert make_sscc(3, "7340030", 68099817) == "373400300680998170"
    assert make_sscc(1, "0614141", 123456789) == "106141411234567897"  # the often-quoted GS1 example SSCC


def test_make_sscc_refuses_a_serial_that_does_not_fit():
    with pytest.raises(ValueError, match="serial reference"):
        make_sscc(0, "0614141", 10**9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_carton_label_png_scans_back_to_its_sscc_and_order(backend):
    meanings = decoded_meanings(carton_label(SSCC, "SO-100234", 2, 3), backend)
    assert {getattr(m, "sscc", None) for m in meanings} >= {SSCC}
    assert {getattr(m, "order_number", None) for m in meanings} >= {"SO-100234"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_shipping_label_scans_back_to_its_sscc_and_order(backend):
    meanings = decoded_meanings(a_shipping_label(), backend)
    assert sorted(m.kind for m in meanings) == ["gs1", "order"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bin_and_tote_labels_scan_back_to_our_codes(backend):
    assert [m.bin_code for m in decoded_meanings(bin_label("A-01-1", "DEMO-1"), backend)] == ["A-01-1"]
    assert {m.tote_id for m in decoded_meanings(tote_label("T0042"), backend)} == {"T0042"}


@pytest.mark.parametrize("code", ["A-01-1", "AISLE-12/BAY-07/LEVEL-3", "AISLE-12/BAY-07/LEVEL-3/POS-14.FRONT-ABC"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_bin_and_tote_labels_of_any_allowed_length_still_scan_back(code, backend):
    assert {m.bin_code for m in decoded_meanings(bin_label(code), backend)} == {code}
    assert {m.tote_id for m in decoded_meanings(tote_label(code), backend)} == {code}


@pytest.mark.parametrize("backend", BACKENDS)
def test_carton_and_shipping_labels_with_the_longest_order_number_still_scan_back(backend):
    order = "SO-" + "9" * 37
    for label in (carton_label(SSCC, order, 1, 1), a_shipping_label(order_number=order)):
        meanings = decoded_meanings(label, backend)
        assert {getattr(m, "order_number", None) for m in meanings} >= {order}
        assert {getattr(m, "sscc", None) for m in meanings} >= {SSCC}


def test_every_bar_of_a_rendered_code128_is_a_whole_number_of_modules():
    image = np.array(to_image(bin_label("A-01-1")))
    row = image[230] < 128
    edges = np.flatnonzero(np.diff(row.astype(int))) + 1
    widths = np.diff(edges)
    assert len(widths) > 20 and all(w % 3 == 0 for w in widths)


def test_a_label_with_a_wrong_sscc_check_digit_is_refused():
    with pytest.raises(LabelError, match="check digit"):
        carton_label(SSCC[:-1] + "9", "SO-1", 1, 1)


@pytest.mark.parametrize(
    "build",
    [
        lambda: carton_label(SSCC, "SO-1", 4, 3),
        lambda: carton_label(SSCC, "SO 1", 1, 1),
        lambda: bin_label("A 01"),
        lambda: tote_label(""),
        lambda: a_shipping_label(ship_to=Address("X", ("1", "2", "3", "4", "5"))),
    ],
)
def test_labels_with_impossible_data_raise_label_error(build):
    with pytest.raises(LabelError):
        build()


def test_png_is_the_label_size_at_its_resolution():
    image = Image.open(io.BytesIO(to_png(bin_label("A-01-1"))))
    assert image.size == (812, 406) and round(image.info["dpi"][0]) == 203


def test_pdf_has_one_page_per_label():
    pdf = to_pdf([carton_label(SSCC, "SO-1", 1, 2), bin_label("A-01-1")])
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2


def test_pdf_of_no_labels_is_an_error():
    with pytest.raises(LabelError):
        to_pdf([])


def decode_zpl_code128(field_data):
    """Undo our ^BC mode-N invocation codes: the symbol characters and FNC1 as GS."""
    out, i = [], 0
    while i < len(field_data):
        if field_data[i] == ">":
            code = field_data[i + 1]
            out.append({"8": "\x1d", "<": ">"}.get(code, ""))
            i += 2
        else:
            out.append(field_data[i])
            i += 1
    return "".join(out)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("00" + SSCC, ">;>800" + SSCC),
        ("010950110153000317261231\x1d10AB12\x1d21XYZ", ">;>801095011015300031726123110>6AB12>821XYZ"),
    ],
)
def test_gs1_128_zpl_starts_with_fnc1_and_packs_digits_in_subset_c(data, expected):
    assert code128_field_data(data, gs1=True) == expected


def test_gs1_128_zpl_puts_fnc1_after_variable_length_fields_only():
    encoded = code128_field_data("0109501101530003" "10AB12" "\x1d" "17261231", gs1=True)
    # the parser reads lot 'AB12' then needs a separator before (17)
    assert decode_zpl_code128(encoded) == "\x1d0109501101530003" "10AB12" "\x1d" "17261231"


def test_plain_code128_zpl_escapes_the_invocation_character():
    assert decode_zpl_code128(code128_field_data("a>b")) == "a>b"


def test_zpl_for_a_carton_label_has_one_format_with_size_and_sscc():
    zpl = to_zpl(carton_label(SSCC, "SO-100234", 1, 2), copies=2)
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ") and zpl.count("^XA") == 1
    assert "^PW812" in zpl and "^LL1218" in zpl and "^PQ2" in zpl
    assert f"^FD>;>800{SSCC}^FS" in zpl and "^FD>:ORD:SO->5100234^FS" in zpl


def test_zpl_text_cannot_inject_commands():
    zpl = to_zpl(a_shipping_label(ship_to=Address("Evil^XZ~JR_", ("Zoë",))))
    assert "Evil_5EXZ_7EJR_5F" in zpl and "Zo_C3_AB" in zpl and zpl.count("^XZ") == 1


def test_zpl_for_a_tote_label_carries_the_qr_code():
    assert "^BQN,2,7^FH^FDMA,TOTE:T0042^FS" in to_zpl(tote_label("T0042"))


def test_code128_refuses_characters_it_cannot_carry():
    with pytest.raises(LabelError):
        code128_field_data("Zoë")


def test_own_code_builders_produce_what_the_parser_reads_back():
    built = [bin_label_data("A-01-1"), tote_label_data("T1"), badge_data("OP-7"), order_data("SO-9"), pickup_data("SO-9", "AB12CD")]
    assert [parse_scan(b).kind for b in built] == ["bin", "tote", "badge", "order", "pickup"]
