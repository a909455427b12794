"""Where the bars are and which way they run: what lets a row decoder read a code at any angle.

zxing-cpp reads linear codes along rows (and columns with ``try_rotate``): a code tilted
beyond ~30° is crossed by no row from end to end, so it is never read, and a row that
crosses part of it can read a *different* valid code. The gradient structure tensor on a
quarter-size frame finds regions whose edges all run one way (bars) and that way's angle,
so the region can be turned upright and read along its bars' normal. The same angle,
measured around a decoded code, tells whether it was read at a slant.

Everything here works on 8-bit grayscale numpy frames and costs about a millisecond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["BarRegion", "Layout", "Upright", "bar_angle", "bar_regions", "barred_span", "layout", "noise_level", "turn_upright"]

_SCALE = 4  # analyse a quarter-size frame: enough for bars, and averages sensor noise away
_CELL = 8  # cells of 8x8 quarter-size pixels (32x32 in the frame)
_COHERENT = 0.7  # share of the gradient energy that runs one way in a cell of bars
_ENERGY = 400.0  # mean squared gradient in a cell with printed edges (paper alone is ~0)


@dataclass(frozen=True)
class BarRegion:
    """Cells of parallel edges: probably a linear code. ``angle`` turns its bars upright."""

    centre: tuple[float, float]
    angle: float  # degrees; the direction of the bars' normal (their gradient)
    length: float  # pixels across the region (its larger side)
    cells: int


@dataclass(frozen=True)
class Upright:
    """A crop turned so that bars run vertically, and the way back to frame coordinates."""

    image: Any
    back: Any  # 2x3 affine matrix: crop point -> frame point

    def to_frame(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Crop coordinates of ``points`` as frame coordinates."""
        m = self.back
        return [(m[0][0] * x + m[0][1] * y + m[0][2], m[1][0] * x + m[1][1] * y + m[1][2]) for x, y in points]


def noise_level(gray: Any) -> float:
    """Share of neighbouring pixels (every fourth row and column) that differ by more than 6
    grey levels: about 0.05 on a camera frame of paper and print, above 0.5 with heavy
    sensor noise."""
    import numpy as np

    sample = gray[::4, ::4].astype(np.int16)
    return float(np.count_nonzero(np.abs(sample[:, 1:] - sample[:, :-1]) > 6)) / float(sample[:, 1:].size)


@dataclass(frozen=True)
class Layout:
    """What the frame holds, coarsely: regions of parallel bars, and squarish patches of
    edges running every way (a 2D code, or print)."""

    bars: tuple[BarRegion, ...]
    patches: tuple[tuple[int, int, int, int], ...]  # left, top, width, height in the frame


def layout(gray: Any, limit: int = 2) -> Layout:
    """Up to ``limit`` bar regions (largest first) and the squarish busy patches of ``gray``."""
    import numpy as np

    jxx, jyy, jxy = _tensor_cells(gray)
    energy = jxx + jyy
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (energy + 1e-6)
    busy = energy > _ENERGY
    bars = _bar_regions((coherence > _COHERENT) & busy, jxx, jyy, jxy, limit)
    return Layout(bars, _patches(busy & (coherence <= _COHERENT)))


def bar_regions(gray: Any, limit: int = 2) -> list[BarRegion]:
    """Up to ``limit`` regions of parallel edges, largest first; none on a frame without them."""
    return list(layout(gray, limit).bars)


def _bar_regions(mask: Any, jxx: Any, jyy: Any, jxy: Any, limit: int) -> tuple[BarRegion, ...]:
    import cv2
    import numpy as np

    count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    found = []
    pixels = _SCALE * _CELL
    for index in range(1, count):
        cells = int(stats[index, cv2.CC_STAT_AREA])
        if cells < 4:
            continue
        chosen = labels == index
        angle = 0.5 * math.degrees(math.atan2(2 * float(jxy[chosen].sum()), float((jxx[chosen] - jyy[chosen]).sum())))
        rows, cols = np.nonzero(chosen)
        # The length along the bars' normal, not the box's side: a crop that cuts a code's
        # ends can make a row decoder read a shorter, wrong code out of what is left.
        along = cols * math.cos(math.radians(angle)) + rows * math.sin(math.radians(angle))
        cx, cy = centroids[index]
        length = float((along.max() - along.min() + 2) * pixels)
        found.append(BarRegion(((cx + 0.5) * pixels, (cy + 0.5) * pixels), angle, length, cells))
    found.sort(key=lambda region: -region.cells)
    return tuple(found[:limit])


def _patches(mask: Any) -> tuple[tuple[int, int, int, int], ...]:
    """Squarish clusters of busy, every-way cells: a 2D code is one, a line of text is not."""
    import cv2
    import numpy as np

    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    pixels = _SCALE * _CELL
    found = []
    for index in range(1, count):
        x, y, w, h, cells = (int(v) for v in stats[index])
        if cells >= 2 and max(w, h) <= 2.5 * min(w, h):
            found.append((x * pixels, y * pixels, w * pixels, h * pixels))
    return tuple(found)


def _tensor_cells(gray: Any) -> tuple[Any, Any, Any]:
    import cv2
    import numpy as np

    small = cv2.resize(gray, (gray.shape[1] // _SCALE, gray.shape[0] // _SCALE), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    rows, cols = small.shape[0] // _CELL, small.shape[1] // _CELL

    def pool(values: Any) -> Any:
        return cv2.resize(values[: rows * _CELL, : cols * _CELL], (cols, rows), interpolation=cv2.INTER_AREA)

    return pool(gx * gx), pool(gy * gy), pool(gx * gy)


def bar_angle(gray: Any, centre: tuple[float, float], radius: float) -> float:
    """The direction (degrees) of the bars' normal in a square of ``radius`` around ``centre``."""
    import cv2
    import numpy as np

    x, y, r = int(centre[0]), int(centre[1]), max(int(radius), 8)
    patch = gray[max(0, y - r): y + r, max(0, x - r): x + r].astype(np.float32)
    if patch.shape[0] < 3 or patch.shape[1] < 3:
        return 0.0
    gx = cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3)
    return 0.5 * math.degrees(math.atan2(2 * float((gx * gy).sum()), float((gx * gx - gy * gy).sum())))


def turn_upright(gray: Any, centre: tuple[float, float], angle: float, length: float, scale: float = 1.0) -> Upright:
    """A crop around ``centre``, ``length`` and its quiet zones wide, turned by ``angle`` so the
    bars stand up, and enlarged by ``scale`` (turning resamples thin bars; at 2 px a module a
    row decoder can then misread them, at 3 it does not)."""
    import cv2
    import numpy as np

    width = int((length * 1.4 + 64) * scale)  # the code and its quiet zones
    height = int((length + 40) * scale)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[0, 2] += width / 2 - centre[0]
    matrix[1, 2] += height / 2 - centre[1]
    crop = cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return Upright(crop, np.asarray(cv2.invertAffineTransform(matrix)).tolist())


def barred_span(upright: Any, length: float) -> float:
    """How wide (pixels) the run of bars through the middle of an upright crop is.

    Columns with strong horizontal change in the middle third of the rows are bars; the
    span is the run of such columns around the centre, gaps shorter than a tenth of
    ``length`` (a wide bar or space) bridged. A code read out of the middle of a longer
    one has bars on both sides of it, so its span is longer than its own length.
    """
    import cv2
    import numpy as np

    rows = upright.shape[0]
    band = upright[rows // 3: 2 * rows // 3].astype(np.float32)
    energy = np.abs(cv2.Sobel(band, cv2.CV_32F, 1, 0, ksize=3)).mean(axis=0)
    barred = energy > 0.25 * float(energy.max() or 1.0)
    gap = max(int(length / 10), 2)
    centre = len(barred) // 2
    left = right = centre
    while left > 0 and barred[max(0, left - gap): left].any():
        left -= 1
    while right < len(barred) - 1 and barred[right + 1: right + 1 + gap].any():
        right += 1
    return float(right - left)
