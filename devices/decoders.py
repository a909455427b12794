"""Image decoders behind one interface: zxing-cpp (default) or pyzbar.

``make_decoder(DecoderConfig(...))`` returns an object with ``decode(frame)``,
where ``frame`` is a numpy image (grayscale or BGR, as OpenCV gives it) or a PIL
image. Restricting ``formats`` to what the site prints is what makes decoding
fast (about 1 ms instead of 45 ms per 1280x720 frame with zxing-cpp).
The decoder libraries are imported when a decoder is made, not at import time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from devices.errors import DecoderError, DecoderUnavailable
from devices.parse import parse_scan
from devices.scan import Scan, ScanSource, Symbology

__all__ = [
    "BACKENDS",
    "SITE_FORMATS",
    "CenterZoom",
    "Decoded",
    "Decoder",
    "DecoderConfig",
    "make_decoder",
]

BACKENDS = ("zxing", "pyzbar")
SITE_FORMATS = frozenset({Symbology.EAN13, Symbology.UPCA, Symbology.CODE128, Symbology.QR})
_AIM = {"]C1": Symbology.GS1_128, "]Q3": Symbology.GS1_QR, "]d2": Symbology.GS1_DATAMATRIX}


@dataclass(frozen=True)
class DecoderConfig:
    """Which decoder reads camera frames, and for which symbologies.

    ``formats`` lists symbologies (GS1-128 is read as Code128, GS1 QR as QR).
    ``try_rotate``/``try_invert`` cost time; turn them on only where labels are
    read sideways or printed light-on-dark (zxing-cpp only). ``center_zoom``: when
    a frame gives nothing, look again at its central half enlarged twice, for
    codes held far from the camera (costs one more decode on empty frames).
    """

    backend: str = "zxing"
    formats: frozenset[Symbology] = SITE_FORMATS
    try_rotate: bool = False
    try_invert: bool = False
    try_downscale: bool = True
    center_zoom: bool = False


@dataclass(frozen=True)
class Decoded:
    """One code found in an image."""

    text: str
    symbology: Symbology | None
    corners: tuple[tuple[int, int], ...] = ()

    def to_scan(self, scanned_at: dt.datetime | None = None) -> Scan:
        """Parse as a camera scan. Raises a ``ScanError`` subclass."""
        return parse_scan(self.text, source=ScanSource.CAMERA, symbology=self.symbology, scanned_at=scanned_at)


class Decoder(Protocol):
    """Anything that finds codes in an image."""

    name: str

    def decode(self, image: Any) -> list[Decoded]:
        """All codes found in ``image`` (numpy array or PIL image), possibly none."""
        ...


def make_decoder(config: DecoderConfig | None = None) -> Decoder:
    """The decoder ``config`` asks for.

    Raises ``DecoderError`` for an unknown backend or format and
    ``DecoderUnavailable`` when the backend's library cannot be loaded.
    """
    config = config or DecoderConfig()
    if not config.formats:
        raise DecoderError("a decoder needs at least one format")
    if config.backend == "zxing":
        decoder: Decoder = ZxingDecoder(config)
    elif config.backend == "pyzbar":
        decoder = PyzbarDecoder(config)
    else:
        raise DecoderError(f"unknown decoder {config.backend!r}; choose one of {', '.join(BACKENDS)}")
    return CenterZoom(decoder) if config.center_zoom else decoder


class CenterZoom:
    """Wraps a decoder: when a frame gives nothing, retry on its central half enlarged 2x."""

    def __init__(self, inner: Decoder) -> None:
        self.inner = inner
        self.name = inner.name

    def decode(self, image: Any) -> list[Decoded]:
        """The inner decoder's codes, from the whole frame or else from its enlarged centre."""
        found = self.inner.decode(image)
        if found:
            return found
        import cv2

        gray = _gray(image)
        h, w = gray.shape
        centre = gray[h // 4: h - h // 4, w // 4: w - w // 4]
        zoomed = cv2.resize(centre, (centre.shape[1] * 2, centre.shape[0] * 2), interpolation=cv2.INTER_LINEAR)
        found = self.inner.decode(zoomed)
        return [Decoded(d.text, d.symbology, self._to_frame(d.corners, w // 4, h // 4)) for d in found]

    @staticmethod
    def _to_frame(corners: tuple[tuple[int, int], ...], dx: int, dy: int) -> tuple[tuple[int, int], ...]:
        return tuple((x // 2 + dx, y // 2 + dy) for x, y in corners)


def _gray(image: Any) -> Any:
    """A grayscale numpy array: both libraries are fastest on one channel."""
    import numpy as np

    array = np.asarray(image)
    if array.ndim == 3:
        import cv2

        code = cv2.COLOR_BGRA2GRAY if array.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        array = cv2.cvtColor(array, code)
    return np.ascontiguousarray(array, dtype=np.uint8)


class ZxingDecoder:
    """zxing-cpp: no system library, GS1-aware (reports ``]C1``/``]Q3``)."""

    name = "zxing"

    def __init__(self, config: DecoderConfig) -> None:
        try:
            import zxingcpp
        except ImportError as exc:
            raise DecoderUnavailable(f"zxing-cpp is not installed: {exc}") from exc
        self._zx = zxingcpp
        self._config = config
        self._formats = tuple(sorted({self._format(s) for s in config.formats}, key=int))

    def _format(self, symbology: Symbology) -> Any:
        f = self._zx.BarcodeFormat
        table = {
            Symbology.EAN8: f.EAN8, Symbology.EAN13: f.EAN13, Symbology.UPCA: f.UPCA,
            Symbology.UPCE: f.UPCE, Symbology.CODE128: f.Code128, Symbology.GS1_128: f.Code128,
            Symbology.QR: f.QRCode, Symbology.GS1_QR: f.QRCode, Symbology.DATAMATRIX: f.DataMatrix,
            Symbology.GS1_DATAMATRIX: f.DataMatrix, Symbology.ITF14: f.ITF, Symbology.DATABAR: f.DataBar,
        }
        return table[symbology]

    def decode(self, image: Any) -> list[Decoded]:
        """Codes in ``image``; raises ``DecoderError`` if zxing-cpp rejects the image."""
        c = self._config
        try:
            results = self._zx.read_barcodes(
                _gray(image), formats=self._formats, try_rotate=c.try_rotate, try_invert=c.try_invert,
                try_downscale=c.try_downscale, text_mode=self._zx.TextMode.Plain,
            )
        except (ValueError, TypeError, RuntimeError) as exc:
            raise DecoderError(f"zxing-cpp could not read the image: {exc}") from exc
        return [Decoded(r.text, self._symbology(r), self._corners(r.position)) for r in results]

    def _symbology(self, result: Any) -> Symbology | None:
        if result.symbology_identifier in _AIM:
            return _AIM[result.symbology_identifier]
        by_name = {
            "EAN-8": Symbology.EAN8, "EAN-13": Symbology.EAN13, "UPC-A": Symbology.UPCA,
            "UPC-E": Symbology.UPCE, "Code 128": Symbology.CODE128, "QR Code": Symbology.QR,
            "DataMatrix": Symbology.DATAMATRIX, "Data Matrix": Symbology.DATAMATRIX, "ITF": Symbology.ITF14,
        }
        return by_name.get(str(result.format))

    @staticmethod
    def _corners(position: Any) -> tuple[tuple[int, int], ...]:
        points = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
        return tuple((p.x, p.y) for p in points)


class PyzbarDecoder:
    """pyzbar over the system zbar library (Debian: ``apt-get install libzbar0``)."""

    name = "pyzbar"

    def __init__(self, config: DecoderConfig) -> None:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as exc:
            raise DecoderUnavailable(f"pyzbar needs the zbar library (apt-get install libzbar0): {exc}") from exc
        self._zbar = pyzbar
        self._symbols = sorted({self._symbol(s) for s in config.formats})

    def _symbol(self, symbology: Symbology) -> Any:
        z = self._zbar.ZBarSymbol
        table = {
            Symbology.EAN8: z.EAN8, Symbology.EAN13: z.EAN13, Symbology.UPCA: z.UPCA,
            Symbology.UPCE: z.UPCE, Symbology.CODE128: z.CODE128, Symbology.GS1_128: z.CODE128,
            Symbology.QR: z.QRCODE, Symbology.GS1_QR: z.QRCODE, Symbology.ITF14: z.I25,
            Symbology.DATABAR: z.DATABAR,
        }
        if symbology not in table:
            raise DecoderError(f"pyzbar cannot read {symbology.value}")
        return table[symbology]

    def decode(self, image: Any) -> list[Decoded]:
        """Codes in ``image``; raises ``DecoderError`` if zbar rejects the image."""
        try:
            results = self._zbar.decode(_gray(image), symbols=self._symbols)
        except (ValueError, TypeError) as exc:
            raise DecoderError(f"pyzbar could not read the image: {exc}") from exc
        return [self._decoded(r) for r in results]

    def _decoded(self, result: Any) -> Decoded:
        text = result.data.decode("utf-8", errors="replace")
        # zbar does not say whether a Code128 carried FNC1 (GS1-128): leave it to parse_scan.
        by_type = {"EAN8": Symbology.EAN8, "EAN13": Symbology.EAN13, "UPCA": Symbology.UPCA,
                   "UPCE": Symbology.UPCE, "QRCODE": Symbology.QR, "I25": Symbology.ITF14}
        corners = tuple((p.x, p.y) for p in result.polygon)
        return Decoded(text, by_type.get(result.type), corners)
