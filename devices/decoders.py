"""Image decoders behind one interface: zxing-cpp (default) or pyzbar.

``make_decoder(DecoderConfig(...))`` returns an object with ``decode(frame)``,
where ``frame`` is a numpy image (grayscale or BGR, as OpenCV gives it) or a PIL
image. Restricting ``formats`` to what the site prints is what makes decoding
fast (about 3 ms instead of 10-80 ms per 1280x720 frame with zxing-cpp's defaults).
The decoder libraries are imported when a decoder is made, not at import time.
The backends live in ``devices.zxing_reader`` and ``devices.pyzbar_reader``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from devices.errors import DecoderError
from devices.parse import DEFAULT_OPTIONS, ScanOptions, parse_scan
from devices.scan import Scan, ScanSource, Symbology

__all__ = [
    "BACKENDS",
    "SITE_FORMATS",
    "CenterZoom",
    "Decoded",
    "Decoder",
    "DecoderConfig",
    "gray_frame",
    "make_decoder",
]

BACKENDS = ("zxing", "pyzbar")
# What a store floor sees: retail codes (EAN-8 and UPC-E too), our Code128 labels and
# GS1-128 cartons, QR (our codes, GS1 Digital Link) and GS1 DataMatrix on packaging.
SITE_FORMATS = frozenset({
    Symbology.EAN13, Symbology.UPCA, Symbology.EAN8, Symbology.UPCE, Symbology.CODE128, Symbology.QR,
    Symbology.DATAMATRIX,
})


@dataclass(frozen=True)
class DecoderConfig:
    """Which decoder reads camera frames, and for which symbologies.

    ``formats`` lists symbologies (GS1-128 is read as Code128, GS1 QR as QR, GS1
    DataMatrix as DataMatrix). ``try_rotate``/``try_invert`` are zxing-cpp's own
    searches: they cost time; ``any_angle`` (on by default) reads linear codes at any
    angle for less by turning the bars upright first. ``center_zoom``: when a frame gives
    nothing, look again at its central half enlarged twice, for codes held far from the
    camera (costs one more decode on empty frames). ``guard``: drop EAN/UPC results
    another upright look contradicts. ``denoise``: smooth heavy sensor noise first.
    ``raw``: the library alone with its own defaults (for benchmarks): every format,
    every search, no guard.
    """

    backend: str = "zxing"
    formats: frozenset[Symbology] = SITE_FORMATS
    try_rotate: bool = False
    try_invert: bool = False
    try_downscale: bool = True
    center_zoom: bool = False
    any_angle: bool = True
    guard: bool = True
    denoise: bool = True
    raw: bool = False


@dataclass(frozen=True)
class Decoded:
    """One code found in an image, with its four corners in the image (when known)."""

    text: str
    symbology: Symbology | None
    corners: tuple[tuple[int, int], ...] = ()

    def to_scan(self, scanned_at: dt.datetime | None = None, options: ScanOptions = DEFAULT_OPTIONS) -> Scan:
        """Parse as a camera scan. Raises a ``ScanError`` subclass."""
        return parse_scan(self.text, source=ScanSource.CAMERA, symbology=self.symbology, scanned_at=scanned_at,
                          options=options)


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
    decoder = _backend(config)
    if not config.center_zoom or config.raw:
        return decoder
    # The enlarged centre is read upright only: a code held far away is small, not turned,
    # and a second any-angle pass on every empty frame would double its cost.
    return CenterZoom(decoder, _backend(dataclasses.replace(config, any_angle=False, center_zoom=False)))


def _backend(config: DecoderConfig) -> Decoder:
    if config.backend == "zxing":
        from devices.zxing_reader import ZxingDecoder

        return ZxingDecoder(config)
    if config.backend == "pyzbar":
        from devices.pyzbar_reader import PyzbarDecoder

        return PyzbarDecoder(config)
    raise DecoderError(f"unknown decoder {config.backend!r}; choose one of {', '.join(BACKENDS)}")


class CenterZoom:
    """Wraps a decoder: when a frame gives nothing, retry on its central half enlarged 2x
    (with ``zoomed``, by default the same decoder)."""

    def __init__(self, inner: Decoder, zoomed: Decoder | None = None) -> None:
        self.inner = inner
        self.zoomed = zoomed or inner
        self.name = inner.name

    def decode(self, image: Any) -> list[Decoded]:
        """The inner decoder's codes, from the whole frame or else from its enlarged centre."""
        found = self.inner.decode(image)
        if found:
            return found
        import cv2

        gray = gray_frame(image)
        h, w = gray.shape
        centre = gray[h // 4: h - h // 4, w // 4: w - w // 4]
        zoomed = cv2.resize(centre, (centre.shape[1] * 2, centre.shape[0] * 2), interpolation=cv2.INTER_LINEAR)
        found = self.zoomed.decode(zoomed)
        return [Decoded(d.text, d.symbology, self._to_frame(d.corners, w // 4, h // 4)) for d in found]

    @staticmethod
    def _to_frame(corners: tuple[tuple[int, int], ...], dx: int, dy: int) -> tuple[tuple[int, int], ...]:
        return tuple((x // 2 + dx, y // 2 + dy) for x, y in corners)


def gray_frame(image: Any) -> Any:
    """A grayscale, contiguous uint8 numpy array: both libraries are fastest on one channel."""
    import numpy as np

    array = np.asarray(image)
    if array.ndim == 3:
        import cv2

        code = cv2.COLOR_BGRA2GRAY if array.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        array = cv2.cvtColor(array, code)
    return np.ascontiguousarray(array, dtype=np.uint8)
