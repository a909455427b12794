"""pyzbar over the system zbar library (Debian: ``apt-get install libzbar0``), EAN/UPC guarded.

zbar scans in several directions itself, so there is no upright pass; the misread guard
(``devices.misread_guard``) reads a doubtful place again with zbar. ``raw=True`` is zbar
alone with its own defaults (every symbology), which benchmarks compare against.
"""

from __future__ import annotations

from typing import Any

from devices.decoders import Decoded, DecoderConfig, gray_frame
from devices.errors import DecoderError, DecoderUnavailable
from devices.misread_guard import LINEAR, guard_misreads
from devices.scan import Symbology

__all__ = ["PyzbarDecoder"]

_BY_TYPE = {"EAN8": Symbology.EAN8, "EAN13": Symbology.EAN13, "UPCA": Symbology.UPCA,
            "UPCE": Symbology.UPCE, "QRCODE": Symbology.QR, "I25": Symbology.ITF14}


class PyzbarDecoder:
    """pyzbar: reads small codes well; does not say whether a Code128 was GS1-128."""

    name = "pyzbar"

    def __init__(self, config: DecoderConfig) -> None:
        try:
            from pyzbar import pyzbar  # type: ignore[import-untyped]
        except (ImportError, OSError) as exc:
            raise DecoderUnavailable(f"pyzbar needs the zbar library (apt-get install libzbar0): {exc}") from exc
        self._zbar: Any = pyzbar
        self._config = config
        z = pyzbar.ZBarSymbol
        table = {
            Symbology.EAN8: z.EAN8, Symbology.EAN13: z.EAN13, Symbology.UPCA: z.UPCA,
            Symbology.UPCE: z.UPCE, Symbology.CODE128: z.CODE128, Symbology.GS1_128: z.CODE128,
            Symbology.QR: z.QRCODE, Symbology.GS1_QR: z.QRCODE, Symbology.ITF14: z.I25,
            Symbology.DATABAR: z.DATABAR,
        }
        # zbar reads no DataMatrix: a site's DataMatrix format is left to zxing-cpp.
        readable = [s for s in config.formats if s in table]
        if not readable:
            names = ", ".join(sorted(s.value for s in config.formats))
            raise DecoderError(f"pyzbar cannot read {names}")
        self._symbols = None if config.raw else sorted({table[s] for s in readable})
        self._linear = sorted({table[s] for s in readable if s in LINEAR})

    def decode(self, image: Any) -> list[Decoded]:
        """Codes in ``image``; raises ``DecoderError`` if zbar rejects the image."""
        gray = gray_frame(image)
        found = self._read(gray, self._symbols)
        if self._config.guard and self._linear and not self._config.raw:
            found = guard_misreads(gray, found, lambda crop: self._read(crop, self._linear))
        return found

    def _read(self, gray: Any, symbols: Any) -> list[Decoded]:
        try:
            results = self._zbar.decode(gray, symbols=symbols)
        except (ValueError, TypeError) as exc:
            raise DecoderError(f"pyzbar could not read the image: {exc}") from exc
        return [self._decoded(r) for r in results]

    @staticmethod
    def _decoded(result: Any) -> Decoded:
        text = result.data.decode("utf-8", errors="replace")
        # zbar does not say whether a Code128 carried FNC1 (GS1-128): leave it to parse_scan.
        return Decoded(text, _BY_TYPE.get(result.type), _quad([(p.x, p.y) for p in result.polygon]))


def _quad(points: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """zbar's outline (often many points) as four corners, the first side along the code."""
    if len(points) < 3:
        return ()
    import cv2
    import numpy as np

    box = cv2.boxPoints(cv2.minAreaRect(np.array(points, dtype=np.float32)))
    corners = [(round(float(x)), round(float(y))) for x, y in box]
    first, second = np.hypot(*np.subtract(box[1], box[0])), np.hypot(*np.subtract(box[2], box[1]))
    return tuple(corners if first >= second else corners[1:] + corners[:1])
