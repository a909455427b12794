"""A second, wrong EAN/UPC from one printed code is never reported as a scan."""

import pytest

from devices.camera import CameraScanner, Confirmer
from devices.corpus import place_in_frame, render_code
from devices.decoders import Decoded, DecoderConfig
from devices.misread_guard import guard_misreads
from devices.scan import Symbology
from devices.zxing_reader import ZxingDecoder

EAN = "5901234123457"
MISREAD = "0590123000007"  # a UPC-E (expanded) a slanted row can spell out of the EAN-13's middle


@pytest.fixture(scope="module")
def zxing():
    return ZxingDecoder(DecoderConfig())


@pytest.fixture(scope="module")
def turned_ean():
    """An EAN-13 at 40°, and where its middle is."""
    import cv2

    frame = place_in_frame(render_code(Symbology.EAN13, EAN[:12]))
    turn = cv2.getRotationMatrix2D((640, 360), 40, 1.0)
    return cv2.warpAffine(frame, turn, (1280, 720), borderValue=235)


def row_through_middle(text, symbology, half=70):
    """A result read along a horizontal row through the frame's centre (40° off the bars)."""
    return Decoded(text, symbology, ((640 - half, 360), (640 + half, 360), (640 + half, 362), (640 - half, 362)))


def test_a_short_code_read_at_a_slant_out_of_a_longer_one_is_dropped(zxing, turned_ean):
    assert guard_misreads(turned_ean, [row_through_middle(MISREAD, Symbology.UPCE)], zxing.read_linear) == []


def test_of_two_codes_at_one_place_the_one_an_upright_read_confirms_is_kept(zxing, turned_ean):
    right = row_through_middle(EAN, Symbology.EAN13, half=150)
    found = guard_misreads(turned_ean, [right, row_through_middle(MISREAD, Symbology.UPCE)], zxing.read_linear)
    assert found == [right]


def test_two_codes_at_one_place_that_nothing_confirms_are_both_dropped(zxing):
    blank = place_in_frame(render_code(Symbology.QR, "TOTE:T0042"))  # no EAN anywhere
    a, b = row_through_middle(EAN, Symbology.EAN13), row_through_middle("4006381333931", Symbology.EAN13)
    assert guard_misreads(blank, [a, b], zxing.read_linear) == []


def test_a_plain_upright_code_passes_the_guard_untouched(zxing):
    frame = place_in_frame(render_code(Symbology.EAN8, "9638507"))
    (found,) = zxing.decode(frame)
    assert found.text == "96385074" and guard_misreads(frame, [found], zxing.read_linear) == [found]


class Script:
    """A decoder that returns what each frame is scripted to hold."""

    name = "script"

    def __init__(self, frames):
        self.frames = list(frames)

    def decode(self, image):
        return self.frames.pop(0)


class Frames:
    def __init__(self, count):
        self.left = count

    def read(self):
        self.left -= 1
        return object() if self.left >= 0 else None

    def close(self):
        pass


def reported(script):
    scanner = CameraScanner(Frames(len(script)), Script(script))
    out = []
    while (result := scanner.step()) is not None:
        out.append([s.data for s in result.scans])
    return out


def ean(text, x=600):
    return Decoded(text, Symbology.EAN13, ((x, 300), (x + 200, 300), (x + 200, 400), (x, 400)))


def test_a_product_code_is_reported_once_two_frames_have_read_it():
    assert reported([[ean(EAN)], [ean(EAN)], [ean(EAN)]]) == [[], [EAN], []]


def test_a_misread_in_one_frame_is_never_reported_and_the_right_code_once():
    right, wrong = ean(EAN), ean("4006381333931")
    out = reported([[right], [wrong], [right], [right], [right], [right]])
    assert sum(out, []) == [EAN]


def test_two_codes_competing_for_one_place_are_held_until_one_stops():
    a, b = ean(EAN), ean("4006381333931", x=620)
    assert reported([[a, b], [a, b], [a], [a], [a]]) == [[], [], [], [], [EAN]]


def test_codes_at_different_places_are_confirmed_each_on_its_own():
    a, b = ean(EAN, x=100), ean("4006381333931", x=900)
    assert reported([[a, b], [a, b]]) == [[], [EAN, "4006381333931"]]


def test_our_own_labels_and_2d_codes_are_reported_at_once():
    label = Decoded("TOTE:T0042", Symbology.CODE128, ((0, 0), (10, 0), (10, 10), (0, 10)))
    assert reported([[label]]) == [["TOTE:T0042"]]


def test_a_scanner_that_trusts_every_frame_can_be_had_for_comparison():
    scanner = CameraScanner(Frames(1), Script([[ean(EAN)]]), confirmer=Confirmer(needed=1))
    assert [s.data for s in scanner.step().scans] == [EAN]


def test_a_misread_code128_over_the_same_bars_as_the_right_one_is_dropped(zxing):
    frame = place_in_frame(render_code(Symbology.CODE128, "BIN:CU-98-3"))
    (right,) = zxing.decode(frame)
    misread = Decoded("BI/:CUU98U3", Symbology.CODE128, tuple((x, y + 3) for x, y in right.corners))
    assert guard_misreads(frame, [right, misread], zxing.read_linear) == [right]


def test_an_ean_at_two_pixels_a_module_is_read_again_enlarged_and_the_closer_read_wins(zxing):
    frame = place_in_frame(render_code(Symbology.EAN13, EAN[:12], module_px=2))
    (right,) = zxing.decode(frame)
    wrong = Decoded("0864834052334", Symbology.EAN13, right.corners)  # a flipped-parity read of the same bars
    (kept,) = guard_misreads(frame, [wrong], zxing.read_linear)
    assert kept.text == EAN
