"""Random codes as a camera sees them: what to print, how to draw it, where on the frame.

``random_sample`` draws a code of a kind a floor sees (EAN-13, UPC-A, EAN-8, UPC-E, our
Code128 labels, GS1-128, QR with our codes or a GS1 Digital Link, GS1 DataMatrix) with
what a reader must return; ``render_code`` draws it (python-barcode, segno, zxing-cpp's
writer for UPC-E and DataMatrix); ``placed`` puts it on a paper-grey 1280x720 frame with
some print around it. ``devices.corpus`` builds the test corpus from these.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from devices.distortions import Box
from devices.gs1 import GS, make_sscc
from devices.scan import Symbology

__all__ = ["FNC1", "FRAME", "Sample", "place_in_frame", "placed", "random_sample", "render_code", "shaken"]

FRAME = (720, 1280)  # rows, columns
FNC1 = "\xf1"  # python-barcode's FNC1; GS (0x1D) in its data breaks label drawing

_KINDS = (  # (symbology, weight): retail codes most, as on a floor
    (Symbology.EAN13, 24), (Symbology.UPCA, 12), (Symbology.EAN8, 6), (Symbology.UPCE, 6),
    (Symbology.CODE128, 16), (Symbology.GS1_128, 10), (Symbology.QR, 14), (Symbology.GS1_DATAMATRIX, 12),
)


@dataclasses.dataclass(frozen=True)
class Sample:
    """One code: its symbology, the data given to the generator, what a reader must return."""

    symbology: Symbology
    data: str
    expected: str


def random_sample(rng: Any) -> Sample:
    """A random code of a random kind (weights as on a floor)."""
    kinds, weights = zip(*_KINDS)
    total = sum(weights)
    symbology = kinds[int(rng.choice(len(kinds), p=[w / total for w in weights]))]
    return _SAMPLERS[symbology](rng)


def _digits(rng: Any, count: int, first: str = "") -> str:
    return first + "".join(str(int(d)) for d in rng.integers(0, 10, count - len(first)))


def _check(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def _ident(rng: Any, low: int, high: int) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    body = "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), int(rng.integers(low, high + 1))))
    return body


def _ean13(rng: Any) -> Sample:
    body = _digits(rng, 12, str(int(rng.integers(1, 10))))
    return Sample(Symbology.EAN13, body, body + _check(body))


def _upca(rng: Any) -> Sample:
    body = _digits(rng, 11)
    return Sample(Symbology.UPCA, body, body + _check(body))


def _ean8(rng: Any) -> Sample:
    body = _digits(rng, 7, str(int(rng.integers(1, 10))))
    return Sample(Symbology.EAN8, body, "]E4" + body + _check(body))


def _upce(rng: Any) -> Sample:
    from biip.upc import Upc

    while True:  # zero suppression forbids some bodies (a 0 before a final 4 ...)
        body = "0" + _digits(rng, 6)
        last, d3, d4, d5 = body[6], body[3], body[4], body[5]
        if not ((last == "3" and d3 in "012") or (last == "4" and d4 == "0") or (last >= "5" and d5 == "0")):
            break
    code = body + Upc.parse(body).as_gtin_14()[-1]
    return Sample(Symbology.UPCE, code, "]E0" + code)


def _code128(rng: Any) -> Sample:
    prefix = ("BIN:", "TOTE:", "ORD:")[int(rng.integers(0, 3))]
    value = f"{_ident(rng, 1, 2)}-{_digits(rng, 2)}-{int(rng.integers(1, 10))}" if prefix == "BIN:" else _ident(rng, 3, 9)
    return Sample(Symbology.CODE128, prefix + value, prefix + value)


def _gs1_fields(rng: Any) -> tuple[str, str, str, str]:
    gtin = _digits(rng, 13, "0")
    expiry = f"{int(rng.integers(25, 35)):02d}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    return gtin + _check(gtin), expiry, _ident(rng, 2, 8), _ident(rng, 3, 10)


def _gs1_128(rng: Any) -> Sample:
    gtin, expiry, lot, serial = _gs1_fields(rng)
    if rng.random() < 0.3:
        sscc = make_sscc(int(rng.integers(0, 10)), "5901234", int(rng.integers(0, 10**9)))
        return Sample(Symbology.GS1_128, "00" + sscc, "]C100" + sscc)
    head = f"01{gtin}17{expiry}10{lot}"
    return Sample(Symbology.GS1_128, f"{head}{FNC1}21{serial}", f"]C1{head}{GS}21{serial}")


def _qr(rng: Any) -> Sample:
    gtin, expiry, lot, serial = _gs1_fields(rng)
    choices = (
        f"PICKUP:SO-{_digits(rng, 6)}:{_ident(rng, 6, 6)}",
        f"TOTE:{_ident(rng, 3, 8)}",
        f"https://id.gs1.org/01/{gtin}/10/{lot}/21/{serial}?17={expiry}",
        f"https://brand.example.com/p/01/{gtin}/10/{lot}?17={expiry}",
    )
    data = choices[int(rng.integers(0, len(choices)))]
    return Sample(Symbology.QR, data, data)


def _datamatrix(rng: Any) -> Sample:
    gtin, expiry, lot, serial = _gs1_fields(rng)
    return Sample(Symbology.GS1_DATAMATRIX, f"(01){gtin}(17){expiry}(10){lot}(21){serial}",
                  f"]d201{gtin}17{expiry}10{lot}{GS}21{serial}")


_SAMPLERS: dict[Symbology, Callable[[Any], Sample]] = {
    Symbology.EAN13: _ean13, Symbology.UPCA: _upca, Symbology.EAN8: _ean8, Symbology.UPCE: _upce,
    Symbology.CODE128: _code128, Symbology.GS1_128: _gs1_128, Symbology.QR: _qr,
    Symbology.GS1_DATAMATRIX: _datamatrix,
}


def render_code(symbology: Symbology, data: str, *, module_px: int = 3) -> Any:
    """A grayscale numpy image of one code with its quiet zone."""
    if symbology in (Symbology.QR, Symbology.GS1_QR):
        return _render_qr(data, module_px * 3)
    if symbology in (Symbology.UPCE, Symbology.GS1_DATAMATRIX, Symbology.DATAMATRIX):
        return _render_zxing(symbology, data, module_px * (3 if symbology != Symbology.UPCE else 1))
    return _render_linear(symbology, data, module_px)


def _render_qr(data: str, module_px: int) -> Any:
    import numpy as np
    import segno

    matrix = np.array(segno.make_qr(data, error="m").matrix, dtype=np.uint8)
    matrix = np.pad(matrix, 4)  # quiet zone of four modules
    return np.kron(1 - matrix, np.ones((module_px, module_px), dtype=np.uint8)) * 255


def _render_zxing(symbology: Symbology, data: str, module_px: int) -> Any:
    import cv2
    import numpy as np
    import zxingcpp

    fmt = zxingcpp.BarcodeFormat.UPCE if symbology == Symbology.UPCE else zxingcpp.BarcodeFormat.DataMatrix
    options = {"gs1": True} if symbology == Symbology.GS1_DATAMATRIX else {}
    image = np.array(zxingcpp.create_barcode(data, fmt, **options).to_image(scale=module_px, add_quiet_zones=True))
    if symbology == Symbology.UPCE:  # as printed: bars about a third as tall as the code is wide
        image = cv2.resize(image, (image.shape[1], max(image.shape[0], image.shape[1] // 2)),
                           interpolation=cv2.INTER_NEAREST)
    return image


def _render_linear(symbology: Symbology, data: str, module_px: int) -> Any:
    import barcode  # type: ignore[import-untyped]
    import numpy as np
    from barcode.writer import ImageWriter  # type: ignore[import-untyped]

    name = {Symbology.EAN13: "ean13", Symbology.UPCA: "upca", Symbology.EAN8: "ean8",
            Symbology.CODE128: "code128", Symbology.GS1_128: "gs1_128"}[symbology]
    dpi = 300
    options = {"module_width": module_px * 25.4 / dpi, "module_height": 20.0, "quiet_zone": 4.0,
               "write_text": False, "dpi": dpi}
    image = barcode.get_barcode_class(name)(data, writer=ImageWriter()).render(options)
    return np.array(image.convert("L"))


def place_in_frame(code: Any, scale: float = 1.0) -> Any:
    """``code`` (grayscale image) centred on a 1280x720 paper-grey frame, scaled by ``scale``."""
    frame, _ = _place(code, scale, None)
    return frame


def _place(code: Any, scale: float, rng: Any, *, background: int = 235) -> tuple[Any, Box]:
    import cv2
    import numpy as np

    if scale != 1.0:
        code = cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full(FRAME, background, dtype=np.uint8)
    h, w = min(code.shape[0], FRAME[0]), min(code.shape[1], FRAME[1])
    if rng is None:
        top, left = (FRAME[0] - h) // 2, (FRAME[1] - w) // 2
    else:
        top, left = int(rng.integers(0, FRAME[0] - h + 1)), int(rng.integers(0, FRAME[1] - w + 1))
    patch = code[:h, :w].astype(np.float32) * (background / 255.0)  # the label is as bright as the paper
    frame[top:top + h, left:left + w] = patch.astype(np.uint8)
    return frame, (left, top, w, h)


def placed(sample: Sample, distortion: str, rng: Any) -> tuple[Any, Box]:
    """The code at a random place and size on a paper-grey frame with some print around it."""
    import numpy as np

    code = render_code(sample.symbology, sample.data, module_px=int(rng.integers(2, 5)))
    h, w = code.shape
    if distortion in ("rotation", "perspective"):
        scale = min(1.0, 660.0 / float(np.hypot(h, w)))  # room to turn or tilt within the frame
    else:
        scale = min(1.0, 1150.0 / w, 620.0 / h)
    if distortion == "small":
        scale *= float(rng.uniform(0.4, 0.6))
    frame, box = _place(code, scale, rng, background=int(rng.integers(200, 246)))
    _clutter(frame, box, rng)
    return frame, box


def shaken(frame: Any, rng: Any) -> Any:
    """The next camera frame of the same view: up to a pixel of hand shake and some grain."""
    import cv2
    import numpy as np

    shift = np.array([[1, 0, rng.uniform(-1, 1)], [0, 1, rng.uniform(-1, 1)]], np.float32)
    moved = cv2.warpAffine(frame, shift, frame.shape[::-1], borderMode=cv2.BORDER_REPLICATE)
    return np.clip(moved + rng.normal(0, 2.0, frame.shape), 0, 255).astype(np.uint8)


def _clutter(frame: Any, box: Box, rng: Any) -> None:
    """Print-like text around the code (a lot number, a price) that a decoder must ignore."""
    import cv2

    left, top, width, height = box
    for _ in range(int(rng.integers(2, 6))):
        x, y = int(rng.integers(0, FRAME[1] - 200)), int(rng.integers(30, FRAME[0]))
        if left - 200 < x < left + width and top - 10 < y < top + height + 30:
            continue
        text = f"{_ident(rng, 2, 4)} {_digits(rng, int(rng.integers(3, 9)))}"
        cv2.putText(frame, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, float(rng.uniform(0.5, 1.2)), 40, 2)


