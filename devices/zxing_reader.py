"""The camera's default decoder: zxing-cpp, read at any angle, EAN/UPC results guarded.

One frame, in order (each step only when the ones before found nothing it covers):

1. heavy sensor noise (``noise_level``) is smoothed first: on a dark aisle's grain
   zxing-cpp spends 15 ms chasing edges and reads less;
2. one zxing-cpp pass over the site's formats, upright (rows) only;
3. no linear code read: the largest regions of parallel bars (``devices.orientation``)
   are turned upright and read again — a code at 45° or 90° reads like one at 0°;
4. still nothing: DataMatrix again with zxing-cpp's own rotation search (its detector
   needs it beyond ~45°);
5. the misread guard (``devices.misread_guard``) drops linear results another upright
   look contradicts.

``raw=True`` is zxing-cpp alone with its own defaults (every format, rotate, invert),
which benchmarks compare against.
"""

from __future__ import annotations

from typing import Any

from devices.decoders import Decoded, DecoderConfig, gray_frame
from devices.errors import DecoderError, DecoderUnavailable
from devices.misread_guard import LINEAR, guard_misreads
from devices.orientation import Layout, layout, noise_level, turn_upright
from devices.scan import Symbology

__all__ = ["ZxingDecoder"]

_AIM = {"]C1": Symbology.GS1_128, "]Q3": Symbology.GS1_QR, "]d2": Symbology.GS1_DATAMATRIX}
_BY_NAME = {
    "EAN-8": Symbology.EAN8, "EAN-13": Symbology.EAN13, "UPC-A": Symbology.UPCA, "UPC-E": Symbology.UPCE,
    "Code 128": Symbology.CODE128, "QR Code": Symbology.QR, "DataMatrix": Symbology.DATAMATRIX,
    "Data Matrix": Symbology.DATAMATRIX, "ITF": Symbology.ITF14, "DataBar": Symbology.DATABAR,
}
_NOISY = 0.5  # noise_level above which a frame is smoothed before reading


class ZxingDecoder:
    """zxing-cpp: no system library, GS1-aware (reports ``]C1``/``]Q3``/``]d2``)."""

    name = "zxing"

    def __init__(self, config: DecoderConfig) -> None:
        try:
            import zxingcpp
        except ImportError as exc:
            raise DecoderUnavailable(f"zxing-cpp is not installed: {exc}") from exc
        self._zx: Any = zxingcpp
        self._config = config
        wanted = {self._format(s) for s in config.formats}
        self._formats = tuple(sorted(wanted, key=int))
        self._matrix = zxingcpp.BarcodeFormat.DataMatrix in wanted
        linear = {self._format(s) for s in config.formats if s in LINEAR}
        self._linear = tuple(sorted(linear, key=int))

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
        frame = gray = gray_frame(image)
        if self._config.raw:
            return self._read(gray, (), rotate=True, invert=True)
        if self._config.denoise and noise_level(gray) > _NOISY:
            import cv2

            gray = cv2.GaussianBlur(gray, (0, 0), 1.0)
        c = self._config
        found = self._guarded(gray, frame, self._read(gray, self._formats, rotate=c.try_rotate, invert=c.try_invert))
        if found and any(d.symbology in LINEAR for d in found) or not (c.any_angle or self._matrix):
            return found
        seen = layout(gray)
        if c.any_angle and self._linear and not any(d.symbology in LINEAR for d in found):
            found += self._guarded(gray, frame, self._any_angle(gray, seen))
        if self._matrix and not found and not c.try_rotate:
            found = self._matrix_any_angle(gray, seen)
        return found

    def _guarded(self, gray: Any, frame: Any, found: list[Decoded]) -> list[Decoded]:
        if self._config.guard and self._linear:
            return guard_misreads(gray, found, self.read_linear, unsmoothed=frame)
        return found

    def _any_angle(self, gray: Any, seen: Layout) -> list[Decoded]:
        """Linear codes in the bar regions, each turned upright."""
        for region in seen.bars:
            turned = turn_upright(gray, region.centre, region.angle, region.length, scale=1.5)
            found = self._read(turned.image, self._linear, rotate=False, invert=self._config.try_invert)
            if found:
                return [Decoded(d.text, d.symbology, _rounded(turned.to_frame(list(d.corners)))) for d in found]
        return []

    def _matrix_any_angle(self, gray: Any, seen: Layout) -> list[Decoded]:
        """DataMatrix in the squarish busy patches, with zxing-cpp's rotation search (its
        detector needs it beyond ~45°); a patch at a time is cheaper than the frame."""
        dm = (self._zx.BarcodeFormat.DataMatrix,)
        for left, top, width, height in seen.patches[:3]:
            margin = max(width, height) // 2 + 16
            x0, y0 = max(0, left - margin), max(0, top - margin)
            crop = gray[y0: top + height + margin, x0: left + width + margin]
            found = self._read(crop, dm, rotate=True, invert=self._config.try_invert)
            if found:
                return [Decoded(d.text, d.symbology, tuple((x + x0, y + y0) for x, y in d.corners)) for d in found]
        return []

    def read_linear(self, crop: Any) -> list[Decoded]:
        """Linear codes read along the rows of ``crop`` (the guard's second, upright look)."""
        return self._read(crop, self._linear, rotate=False, invert=False)

    def _read(self, gray: Any, formats: tuple[Any, ...], *, rotate: bool, invert: bool) -> list[Decoded]:
        zx = self._zx
        # No formats: zxing-cpp's own default, every format it reads.
        chosen = {"formats": formats} if formats else {}
        try:
            results = zx.read_barcodes(gray, try_rotate=rotate, try_invert=invert, text_mode=zx.TextMode.Plain,
                                       try_downscale=self._config.try_downscale, **chosen)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise DecoderError(f"zxing-cpp could not read the image: {exc}") from exc
        return [Decoded(r.text, self._symbology(r), self._corners(r.position)) for r in results]

    @staticmethod
    def _symbology(result: Any) -> Symbology | None:
        return _AIM.get(result.symbology_identifier) or _BY_NAME.get(str(result.format))

    @staticmethod
    def _corners(position: Any) -> tuple[tuple[int, int], ...]:
        points = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
        return tuple((p.x, p.y) for p in points)


def _rounded(points: list[tuple[float, float]]) -> tuple[tuple[int, int], ...]:
    return tuple((round(x), round(y)) for x, y in points)
