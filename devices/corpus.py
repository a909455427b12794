"""A generated barcode corpus: clean and degraded camera-like frames with known content.

Nothing is stored in the repository: ``generate_corpus()`` draws EAN-13, UPC-A,
Code128, GS1-128 and QR codes (python-barcode and segno), places each on a
1280x720 frame and applies one degradation (blur, noise, rotation, perspective,
low contrast, small in frame). ``decode_rates()`` tells, per decoder and per
degradation, how many decoded to the expected content. Deterministic for a seed.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable

from devices.decoders import Decoder
from devices.errors import ScanError
from devices.gs1 import make_sscc
from devices.parse import parse_scan
from devices.scan import Scan, Symbology

__all__ = [
    "DEGRADATIONS",
    "CorpusImage",
    "code_key",
    "decode_rates",
    "decoded_correctly",
    "generate_corpus",
    "place_in_frame",
    "render_code",
    "write_corpus",
]

FRAME = (720, 1280)  # rows, columns
DEGRADATIONS = ("clean", "blur", "noise", "rotation", "perspective", "low_contrast", "small")
FNC1 = "\xf1"  # python-barcode's FNC1; GS (0x1D) in its data breaks label drawing

# (symbology, data given to the generator, content a reader must return)
_SAMPLES: tuple[tuple[Symbology, str, str], ...] = (
    (Symbology.EAN13, "590123412345", "5901234123457"),
    (Symbology.EAN13, "400638133393", "4006381333931"),
    (Symbology.UPCA, "03600029145", "036000291452"),
    (Symbology.UPCA, "01234567890", "012345678905"),
    (Symbology.CODE128, "BIN:A-01-1", "BIN:A-01-1"),
    (Symbology.CODE128, "TOTE:T0042", "TOTE:T0042"),
    (Symbology.GS1_128, "010950110153000317261231" + FNC1 + "10AB12", "010950110153000317261231\x1d10AB12"),
    (Symbology.QR, "PICKUP:SO-100234:7Q4K9M", "PICKUP:SO-100234:7Q4K9M"),
    (Symbology.QR, "ORD:SO-100234", "ORD:SO-100234"),
)


@dataclasses.dataclass(frozen=True)
class CorpusImage:
    """One frame of the corpus and what is in it."""

    name: str
    symbology: Symbology
    degradation: str
    expected: str
    image: Any = dataclasses.field(repr=False)


def code_key(scan: Scan) -> str:
    """What two reads of the same code agree on (EAN-13 '0…' and UPC-A share a GTIN)."""
    return scan.gtin or scan.data


def render_code(symbology: Symbology, data: str, *, module_px: int = 3) -> Any:
    """A grayscale numpy image of one code with its quiet zone."""
    if symbology in (Symbology.QR, Symbology.GS1_QR):
        return _render_qr(data, module_px * 3)
    return _render_linear(symbology, data, module_px)


def _render_qr(data: str, module_px: int) -> Any:
    import numpy as np
    import segno

    matrix = np.array(segno.make_qr(data, error="m").matrix, dtype=np.uint8)
    matrix = np.pad(matrix, 4)  # quiet zone of four modules
    return np.kron(1 - matrix, np.ones((module_px, module_px), dtype=np.uint8)) * 255


def _render_linear(symbology: Symbology, data: str, module_px: int) -> Any:
    import barcode
    import numpy as np
    from barcode.writer import ImageWriter

    name = {Symbology.EAN13: "ean13", Symbology.UPCA: "upca", Symbology.CODE128: "code128",
            Symbology.GS1_128: "gs1_128"}[symbology]
    dpi = 300
    options = {"module_width": module_px * 25.4 / dpi, "module_height": 20.0, "quiet_zone": 4.0,
               "write_text": False, "dpi": dpi}
    image = barcode.get_barcode_class(name)(data, writer=ImageWriter()).render(options)
    return np.array(image.convert("L"))


def place_in_frame(code: Any, scale: float = 1.0) -> Any:
    """``code`` (grayscale image) centred on a 1280x720 paper-grey frame, scaled by ``scale``."""
    import cv2
    import numpy as np

    if scale != 1.0:
        code = cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full(FRAME, 235, dtype=np.uint8)  # paper-ish, not pure white
    h, w = min(code.shape[0], FRAME[0]), min(code.shape[1], FRAME[1])
    top, left = (FRAME[0] - h) // 2, (FRAME[1] - w) // 2
    frame[top:top + h, left:left + w] = code[:h, :w]
    return frame


def _degrade(code: Any, degradation: str, rng: Any) -> Any:
    import cv2
    import numpy as np

    if degradation == "small":
        return place_in_frame(code, 0.5)
    frame = place_in_frame(code)
    if degradation == "blur":
        return cv2.GaussianBlur(frame, (0, 0), 2.0)
    if degradation == "noise":
        noisy = frame.astype(np.int16) + rng.normal(0, 30, frame.shape).astype(np.int16)
        return np.clip(noisy, 0, 255).astype(np.uint8)
    if degradation == "rotation":
        matrix = cv2.getRotationMatrix2D((FRAME[1] / 2, FRAME[0] / 2), float(rng.uniform(8, 15)), 1.0)
        return cv2.warpAffine(frame, matrix, FRAME[::-1], borderValue=235)
    if degradation == "perspective":
        return _perspective(frame, rng)
    if degradation == "low_contrast":
        return (100 + frame.astype(np.float32) * (60 / 255)).astype(np.uint8)
    return frame


def _perspective(frame: Any, rng: Any) -> Any:
    import cv2
    import numpy as np

    h, w = FRAME
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    d = rng.uniform(0.04, 0.10, 4) * np.float32([w, w, w, w])
    dst = np.float32([[d[0], d[1] * 0.5], [w - d[2], 0], [w, h], [0, h - d[3] * 0.5]])
    return cv2.warpPerspective(frame, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=235)


def generate_corpus(degradations: Iterable[str] = DEGRADATIONS, *, seed: int = 0) -> list[CorpusImage]:
    """Every sample under every degradation. Raises ``ValueError`` for an unknown degradation."""
    import numpy as np

    degradations = tuple(degradations)
    unknown = set(degradations) - set(DEGRADATIONS)
    if unknown:
        raise ValueError(f"unknown degradations: {sorted(unknown)}")
    rng = np.random.default_rng(seed)
    images = []
    for index, (symbology, data, expected) in enumerate(_SAMPLES):
        code = render_code(symbology, data)
        for degradation in degradations:
            name = f"{index:02d}-{symbology.value}-{degradation}"
            images.append(CorpusImage(name, symbology, degradation, expected, _degrade(code, degradation, rng)))
    return images


def write_corpus(directory: Path, images: Iterable[CorpusImage]) -> list[Path]:
    """Save the images as PNG files in ``directory`` (created if needed)."""
    import cv2

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in images:
        path = directory / f"{item.name}.png"
        cv2.imwrite(str(path), item.image)
        paths.append(path)
    return paths


def decoded_correctly(decoder: Decoder, item: CorpusImage) -> bool:
    """True when ``decoder`` finds ``item.expected`` (compared as parsed scans) in the image."""
    want = code_key(parse_scan(item.expected, symbology=item.symbology))
    for decoded in decoder.decode(item.image):
        try:
            if code_key(decoded.to_scan()) == want:
                return True
        except ScanError:
            continue
    return False


def decode_rates(
    decoders: Iterable[Decoder],
    images: list[CorpusImage],
    *,
    check: Callable[[Decoder, CorpusImage], bool] = decoded_correctly,
) -> dict[tuple[str, str], tuple[int, int]]:
    """``{(decoder name, degradation): (decoded correctly, total)}``."""
    rates: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for decoder in decoders:
        for item in images:
            cell = rates[(decoder.name, item.degradation)]
            cell[0] += check(decoder, item)
            cell[1] += 1
    return {key: (ok, total) for key, (ok, total) in rates.items()}
