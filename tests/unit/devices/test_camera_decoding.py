"""Camera decoding: both decoders read the clean corpus fully, restrict formats, and debounce."""

import pytest

from devices.camera import CameraScanner, Debouncer, OpenCVCamera
from devices.corpus import (
    DEGRADATIONS,
    decode_rates,
    decoded_correctly,
    generate_corpus,
    render_code,
    write_corpus,
)
from devices.decoders import BACKENDS, DecoderConfig, make_decoder
from devices.errors import CameraUnavailable, DecoderError, MalformedLabel
from devices.scan import BinLabel, Symbology, ToteLabel


@pytest.fixture(scope="module")
def clean_corpus():
    return generate_corpus(["clean"])


@pytest.fixture(scope="module")
def full_corpus():
    return generate_corpus()


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_clean_corpus_image_decodes_to_its_expected_content(backend, clean_corpus):
    decoder = make_decoder(DecoderConfig(backend=backend))
    failed = [item.name for item in clean_corpus if not decoded_correctly(decoder, item)]
    assert failed == []
    assert {item.symbology for item in clean_corpus} == {
        Symbology.EAN13, Symbology.UPCA, Symbology.CODE128, Symbology.GS1_128, Symbology.QR,
    }


def test_decode_rates_cover_every_decoder_and_degradation(full_corpus):
    decoders = [make_decoder(DecoderConfig(backend=b)) for b in BACKENDS]
    rates = decode_rates(decoders, full_corpus)
    assert set(rates) == {(b, d) for b in BACKENDS for d in DEGRADATIONS}
    assert all(total == 9 for _, total in rates.values())
    assert rates[("zxing", "clean")] == (9, 9) and rates[("pyzbar", "clean")] == (9, 9)


def test_the_corpus_is_the_same_for_the_same_seed_and_writes_png_files(tmp_path):
    first, second = generate_corpus(["noise"], seed=3), generate_corpus(["noise"], seed=3)
    assert all((a.image == b.image).all() for a, b in zip(first, second))
    paths = write_corpus(tmp_path, first)
    assert all(p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG" for p in paths)


def test_zxing_reports_gs1_128_so_the_parser_does_not_have_to_guess(clean_corpus):
    gs1 = next(i for i in clean_corpus if i.symbology == Symbology.GS1_128)
    (decoded,) = make_decoder().decode(gs1.image)
    assert decoded.symbology == Symbology.GS1_128 and decoded.to_scan().meaning.batch == "AB12"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_decoder_restricted_to_qr_ignores_a_linear_code(backend, clean_corpus):
    ean = next(i for i in clean_corpus if i.symbology == Symbology.EAN13)
    decoder = make_decoder(DecoderConfig(backend=backend, formats=frozenset({Symbology.QR})))
    assert decoder.decode(ean.image) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_centre_zoom_reads_every_code_held_far_from_the_camera(backend):
    decoder = make_decoder(DecoderConfig(backend=backend, center_zoom=True))
    small = generate_corpus(["small"])
    assert [item.name for item in small if not decoded_correctly(decoder, item)] == []


def test_centre_zoom_reports_corners_in_whole_frame_coordinates():
    small = next(i for i in generate_corpus(["small"]) if i.symbology == Symbology.QR)
    (decoded,) = make_decoder(DecoderConfig(center_zoom=True)).decode(small.image)
    xs, ys = [x for x, _ in decoded.corners], [y for _, y in decoded.corners]
    assert 500 < min(xs) < max(xs) < 780 and 250 < min(ys) < max(ys) < 470  # the code sits mid-frame


def test_an_unknown_backend_or_no_format_is_a_decoder_error():
    with pytest.raises(DecoderError, match="unknown decoder"):
        make_decoder(DecoderConfig(backend="magic"))
    with pytest.raises(DecoderError, match="at least one"):
        make_decoder(DecoderConfig(formats=frozenset()))


def test_pyzbar_refuses_a_format_it_cannot_read():
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
    from devices.corpus import place_in_frame

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
    frame = cv2.cvtColor(frame_with("TOTE:T5"), cv2.COLOR_GRAY2BGR)
    for _ in range(3):
        writer.write(frame)
    writer.release()
    with OpenCVCamera(path) as camera:
        scans = []
        scanner = CameraScanner(camera)
        while (result := scanner.step()) is not None:
            scans += result.scans
    assert [s.meaning for s in scans] == [ToteLabel("T5")]
