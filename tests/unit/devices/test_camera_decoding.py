"""Camera decoding: every format the floor sees, at any angle, restricted formats, debouncing."""

import datetime as dt

import pytest

from devices.camera import CameraScanner, Debouncer, OpenCVCamera
from devices.corpus import generate_corpus, judge, place_in_frame, render_code, write_corpus
from devices.decoders import BACKENDS, SITE_FORMATS, DecoderConfig, make_decoder
from devices.errors import CameraUnavailable, DecoderError, MalformedLabel
from devices.gs1 import GS
from devices.scan import BinLabel, GS1Data, Symbology, ToteLabel

FNC1 = "\xf1"
# (symbology, data for the generator, what a reader must return)
SAMPLES = (
    (Symbology.EAN13, "590123412345", "5901234123457"),
    (Symbology.UPCA, "03600029145", "036000291452"),
    (Symbology.EAN8, "9638507", "]E496385074"),
    (Symbology.UPCE, "07654374", "]E007654374"),
    (Symbology.CODE128, "BIN:A-01-1", "BIN:A-01-1"),
    (Symbology.GS1_128, "010950110153000317261231" + FNC1 + "10AB12", "]C1010950110153000317261231" + GS + "10AB12"),
    (Symbology.QR, "PICKUP:SO-100234:7Q4K9M", "PICKUP:SO-100234:7Q4K9M"),
    (Symbology.GS1_DATAMATRIX, "(01)09501101530003(17)261231(10)AB12(21)S9", "]d2010950110153000317261231" + "10AB12" + GS + "21S9"),
)
ZBAR_CANNOT = {Symbology.GS1_DATAMATRIX, Symbology.DATAMATRIX}


class Frame:
    """A corpus-like item for ``judge``."""

    def __init__(self, image, expected):
        self.image, self.expected = image, expected


def frame(symbology, data, *, scale=1.0, angle=0.0):
    import cv2

    image = place_in_frame(render_code(symbology, data), scale)
    if angle:
        turn = cv2.getRotationMatrix2D((640, 360), angle, 1.0)
        image = cv2.warpAffine(image, turn, (1280, 720), borderValue=235)
    return image


def read(decoder, image, expected):
    return judge(decoder.decode(image), Frame(image, expected))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("symbology", "data", "expected"), SAMPLES, ids=[s.value for s, _, _ in SAMPLES])
def test_every_kind_of_code_on_the_floor_is_read_exactly(backend, symbology, data, expected):
    if backend == "pyzbar" and symbology in ZBAR_CANNOT:
        pytest.skip("zbar reads no DataMatrix")
    decoder = make_decoder(DecoderConfig(backend=backend, formats=SITE_FORMATS - (ZBAR_CANNOT if backend == "pyzbar" else set())))
    assert read(decoder, frame(symbology, data), expected) == (True, 0)


@pytest.mark.parametrize("angle", range(0, 360, 20))
@pytest.mark.parametrize(("symbology", "data", "expected"), [SAMPLES[0], SAMPLES[4], SAMPLES[5], SAMPLES[7]],
                         ids=["EAN-13", "Code128", "GS1-128", "GS1-DataMatrix"])
def test_a_code_is_read_at_any_angle(angle, symbology, data, expected):
    scale = 0.6 if symbology == Symbology.GS1_128 else 1.0  # a long code must fit the frame when turned
    assert read(make_decoder(), frame(symbology, data, scale=scale, angle=angle), expected) == (True, 0)


def test_a_gs1_datamatrix_on_packaging_gives_gtin_batch_expiry_and_serial():
    symbology, data, _ = SAMPLES[7]
    (decoded,) = make_decoder().decode(frame(symbology, data, angle=35))
    scan = decoded.to_scan()
    assert decoded.symbology == Symbology.GS1_DATAMATRIX and isinstance(scan.meaning, GS1Data)
    assert (scan.gtin, scan.meaning.batch, scan.meaning.expiry, scan.meaning.serial) == (
        "09501101530003", "AB12", dt.date(2026, 12, 31), "S9")


def test_a_gs1_digital_link_qr_gives_the_same_facts_as_the_gs1_128():
    link = "https://id.gs1.org/01/09501101530003/10/AB12?17=261231"
    (decoded,) = make_decoder().decode(frame(Symbology.QR, link))
    (carton,) = make_decoder().decode(frame(*SAMPLES[5][:2]))
    a, b = decoded.to_scan().meaning, carton.to_scan().meaning
    assert (a.gtin, a.batch, a.expiry) == (b.gtin, b.batch, b.expiry) == ("09501101530003", "AB12", dt.date(2026, 12, 31))


def test_zxing_reports_gs1_128_so_the_parser_does_not_have_to_guess():
    (decoded,) = make_decoder().decode(frame(*SAMPLES[5][:2]))
    assert decoded.symbology == Symbology.GS1_128 and decoded.to_scan().meaning.batch == "AB12"


def test_the_corpus_is_the_same_for_the_same_seed_and_writes_png_files(tmp_path):
    first, second = generate_corpus(["noise"], seed=3, per_class=3), generate_corpus(["noise"], seed=3, per_class=3)
    assert all((a.image == b.image).all() and a.expected == b.expected for a, b in zip(first, second))
    paths = write_corpus(tmp_path, first)
    assert all(p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG" for p in paths)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_decoder_restricted_to_qr_ignores_a_linear_code(backend):
    decoder = make_decoder(DecoderConfig(backend=backend, formats=frozenset({Symbology.QR})))
    assert decoder.decode(frame(*SAMPLES[0][:2])) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_centre_zoom_reads_codes_held_far_from_the_camera(backend):
    decoder = make_decoder(DecoderConfig(backend=backend, center_zoom=True, formats=SITE_FORMATS - ZBAR_CANNOT))
    small = [(frame(s, d, scale=0.5), e) for s, d, e in SAMPLES if s not in ZBAR_CANNOT]
    assert [e for image, e in small if read(decoder, image, e) != (True, 0)] == []


def test_centre_zoom_reports_corners_in_whole_frame_coordinates():
    (decoded,) = make_decoder(DecoderConfig(center_zoom=True)).decode(frame(*SAMPLES[6][:2], scale=0.5))
    xs, ys = [x for x, _ in decoded.corners], [y for _, y in decoded.corners]
    assert 500 < min(xs) < max(xs) < 780 and 250 < min(ys) < max(ys) < 470  # the code sits mid-frame


def test_an_unknown_backend_or_no_format_is_a_decoder_error():
    with pytest.raises(DecoderError, match="unknown decoder"):
        make_decoder(DecoderConfig(backend="magic"))
    with pytest.raises(DecoderError, match="at least one"):
        make_decoder(DecoderConfig(formats=frozenset()))


def test_pyzbar_refuses_when_it_can_read_none_of_the_formats():
    with pytest.raises(DecoderError, match="cannot read"):
        make_decoder(DecoderConfig(backend="pyzbar", formats=frozenset({Symbology.DATAMATRIX})))


def test_debouncer_reports_a_code_once_while_it_stays_in_view_and_again_after_it_left():
    debouncer = Debouncer(release_frames=2)
    frames = [["A"], ["A"], ["A", "B"], [], ["A"], [], [], ["A"], ["B"]]
    assert [debouncer.update(f) for f in frames] == [["A"], [], ["B"], [], [], [], [], ["A"], ["B"]]


class ListCamera:
    """A frame source that plays a list of images, then ends."""

    def __init__(self, frames):
        self.frames, self.closed = list(frames), False

    def read(self):
        return self.frames.pop(0) if self.frames else None

    def close(self):
        self.closed = True


def frame_with(data):
    return place_in_frame(render_code(Symbology.CODE128, data))


def test_camera_scanner_turns_consecutive_frames_into_one_scan_per_code_shown():
    bin_frame, tote_frame = frame_with("BIN:A-01-1"), frame_with("TOTE:T0042")
    camera = ListCamera([bin_frame, bin_frame, bin_frame, tote_frame, tote_frame])
    scanner = CameraScanner(camera)
    meanings = []
    while (result := scanner.step()) is not None:
        meanings += [s.meaning for s in result.scans]
    scanner.close()
    assert meanings == [BinLabel("A-01-1"), ToteLabel("T0042")] and camera.closed


def test_camera_scanner_reports_a_decoded_but_malformed_label_as_rejected():
    result = CameraScanner(ListCamera([])).decode_frame(frame_with("BIN:has space"))
    assert result.scans == () and isinstance(result.rejected[0][1], MalformedLabel)


def test_opening_a_camera_that_does_not_exist_says_so():
    with pytest.raises(CameraUnavailable, match="no camera"):
        OpenCVCamera("/dev/no-such-camera-here").open()


def test_opencv_camera_reads_frames_from_a_video_file(tmp_path):
    import cv2

    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (1280, 720))
    picture = cv2.cvtColor(frame_with("TOTE:T5"), cv2.COLOR_GRAY2BGR)
    for _ in range(3):
        writer.write(picture)
    writer.release()
    with OpenCVCamera(path) as camera:
        scans = []
        scanner = CameraScanner(camera)
        while (result := scanner.step()) is not None:
            scans += result.scans
    assert [s.meaning for s in scans] == [ToteLabel("T5")]
