"""Per-frame guard against a second, wrong code read from one printed linear code.

A row decoder that crosses only part of an EAN-13 at a slant can read a different code
that still passes its check digit: a UPC-E out of the middle of an EAN-13, or an EAN-13
whose left half was misread. EAN/UPC has one check digit, so one in ten such misreads
gets through; a blurred Code128 now and then passes its mod-103 check misread too. In a
frame:

* two different linear codes over the same place cannot both be right: the place is
  read again upright (turned so the bars stand up, along their normal) and the one that
  read agrees with is kept; if it agrees with neither, both go;
  two results of one symbology on the same span a few rows apart are the same place too
  (a small GS1-128 read on two rows as two texts, one of them a valid wrong one);
* a code read at a slant of more than 8° (a row that may have crossed only part of it)
  is read again upright; if that read finds a different code, the result goes;
* a short code (EAN-8, UPC-E: the usual misread) whose run of bars goes on well beyond
  its ends was read out of a longer code, and goes. (A short code is not read again when
  upright: a second look at faint bars can spell another valid EAN-8 as easily.)
* an EAN/UPC printed at under 2.6 px a module is read again enlarged 1.5x: at 2 px blur,
  grain or faint print can flip a left-half digit's parity, and the same wrong EAN-13
  comes out frame after frame. If the closer look reads one different code, it replaces
  the first read; if it reads several, the result goes.

* every EAN/UPC that is left is looked at once more, upright and sharpened: a heavily
  blurred EAN-13 can spell the same wrong code in every frame (thin bars run together),
  and at full size with its edges sharpened it reads as what is printed. If that look
  reads a different EAN/UPC, the result goes (it is not replaced: the sharpened look is
  a second opinion, not a better one).

What passes here is still not reported at once: ``devices.camera.CameraScanner`` wants
the same product code in two frames first.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from devices.decoders import Decoded
from devices.orientation import bar_angle, barred_span, turn_upright
from devices.scan import Symbology

__all__ = ["LINEAR", "RETAIL", "guard_misreads"]

RETAIL = frozenset({Symbology.EAN13, Symbology.UPCA, Symbology.EAN8, Symbology.UPCE})
LINEAR = RETAIL | {Symbology.CODE128, Symbology.GS1_128, Symbology.ITF14, Symbology.DATABAR}
_SHORT = frozenset({Symbology.EAN8, Symbology.UPCE})
_SLANT = 8.0  # degrees between the row read and the bars' normal beyond which a read is checked
_LONGER = 1.4  # a short code's bars running on this much beyond its length: part of a longer code
_FINE = 2.6  # pixels a module below which an EAN/UPC is read again enlarged
_MODULES = {Symbology.EAN13: 95, Symbology.UPCA: 95, Symbology.EAN8: 67, Symbology.UPCE: 51}
Reread = Callable[[Any], list[Decoded]]  # reads linear codes in an upright crop


def guard_misreads(gray: Any, found: list[Decoded], reread: Reread, *, unsmoothed: Any = None) -> list[Decoded]:
    """``found`` without the linear codes that another look at the same place contradicts.

    ``unsmoothed``: the frame before noise was smoothed, for the closer look (smoothing is
    what blurs 2 px modules into a wrong digit).
    """
    linear = [d for d in found if d.symbology in LINEAR and len(d.corners) == 4]
    if not linear:
        return found
    dropped: set[int] = set()
    for group in _conflicts(linear):
        texts = {linear[i].text for i in group}
        agreeing = texts & set(_look_again(gray, [linear[i] for i in group], reread)[0])
        dropped |= {i for i in group if linear[i].text not in agreeing or len(agreeing) != 1}
    for index, decoded in enumerate(linear):
        if index in dropped or decoded.symbology not in RETAIL:
            continue
        slanted, short = _slanted(gray, decoded), decoded.symbology in _SHORT
        if not (slanted or short):
            continue
        again, span = _look_again(gray, [decoded], reread)
        if (slanted and again and decoded.text not in again) or (short and span > _LONGER * _geometry(decoded)[1]):
            dropped.add(index)
    gone = {id(linear[i]) for i in dropped}
    kept: list[Decoded] = []
    for decoded in (d for d in found if id(d) not in gone):
        fine = decoded.symbology in RETAIL and _fine(decoded)
        closer = _closer(gray if unsmoothed is None else unsmoothed, decoded, reread) if fine else decoded
        if closer is not None and not (closer.symbology in RETAIL and _sharper_look_disagrees(gray, closer, reread)):
            kept.append(closer)
    return kept


def _sharper_look_disagrees(gray: Any, decoded: Decoded, reread: Reread) -> bool:
    """Whether the place, turned upright and sharpened, reads as a different EAN/UPC.

    A blurred EAN-13 read through zxing-cpp's downscaled pass can spell another valid
    code the same way in every frame (merged thin bars flip a left-half digit's parity),
    so agreement across frames does not catch it; at full size and sharpened the bars
    come apart again."""
    again = _look_again(gray, [decoded], reread, sharpen=True, reach=1.1)[0]
    return any(text != decoded.text for text in again)


def _conflicts(linear: list[Decoded]) -> list[set[int]]:
    """Groups of different codes whose places overlap."""
    groups: list[set[int]] = []
    for i, a in enumerate(linear):
        for j in range(i + 1, len(linear)):
            b = linear[j]
            if a.text != b.text and _overlap(a, b):
                joined = next((g for g in groups if i in g or j in g), None)
                if joined is None:
                    groups.append({i, j})
                else:
                    joined |= {i, j}
    return groups


def _overlap(a: Decoded, b: Decoded) -> bool:
    """Whether two results lie on the same place. An EAN/UPC result's corners may span one
    row only, so for two of them each box is widened by a third of its length: two rows
    through one code are the same place. Other codes must overlap outright: a carton label
    stacks a GS1-128 and a Code128 a few millimetres apart."""
    if a.symbology == b.symbology and _same_span(a, b):
        return True
    widen = a.symbology in RETAIL and b.symbology in RETAIL

    def box(d: Decoded) -> tuple[float, float, float, float]:
        xs, ys = [p[0] for p in d.corners], [p[1] for p in d.corners]
        margin = _geometry(d)[1] / 3 if widen else 0.0
        return min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin

    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = box(a), box(b)
    return ax0 <= bx1 and bx0 <= ax1 and ay0 <= by1 and by0 <= ay1


def _same_span(a: Decoded, b: Decoded) -> bool:
    """Two rows through one printed code: the same length, ends at the same place along the
    row, a little apart across it. A blurred or small GS1-128 can read as two different
    texts on two rows of one frame, one of them a valid wrong string (mod 103 lets one
    misread in 103 through), and a Code128 is reported from a single frame."""
    (ca, la, direction), (cb, lb, _) = _geometry(a), _geometry(b)
    dx, dy = cb[0] - ca[0], cb[1] - ca[1]
    along = abs(dx * math.cos(math.radians(direction)) + dy * math.sin(math.radians(direction)))
    across = abs(-dx * math.sin(math.radians(direction)) + dy * math.cos(math.radians(direction)))
    length = max(la, lb)
    return abs(la - lb) <= 0.05 * length and along <= 0.05 * length and across <= length / 3


def _geometry(decoded: Decoded) -> tuple[tuple[float, float], float, float]:
    """Centre, length along the row read, and that row's direction (degrees)."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = decoded.corners
    centre = ((x0 + x1 + x2 + x3) / 4, (y0 + y1 + y2 + y3) / 4)
    length = max(math.hypot(x1 - x0, y1 - y0), math.hypot(x2 - x3, y2 - y3), 20.0)
    return centre, length, math.degrees(math.atan2(y1 - y0, x1 - x0))


def _fine(decoded: Decoded) -> bool:
    modules = _MODULES.get(decoded.symbology, 95) if decoded.symbology else 95
    return len(decoded.corners) == 4 and _geometry(decoded)[1] / modules < _FINE


def _closer(gray: Any, decoded: Decoded, reread: Reread) -> Decoded | None:
    """``decoded``, or what a read of its place enlarged 1.5x finds instead."""
    import cv2

    xs, ys = [p[0] for p in decoded.corners], [p[1] for p in decoded.corners]
    margin = _geometry(decoded)[1] / 4
    x0, y0 = int(max(0, min(xs) - margin)), int(max(0, min(ys) - margin / 2))
    crop = gray[y0: int(max(ys) + margin / 2), x0: int(max(xs) + margin)]
    if crop.size == 0:
        return decoded
    enlarged = cv2.resize(crop, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
    texts = {d.text: d for d in reread(enlarged) if d.symbology in RETAIL}
    if not texts or decoded.text in texts:
        return decoded
    if len(texts) > 1:
        return None
    (text, seen), = texts.items()
    corners = tuple((round(x / 1.5 + x0), round(y / 1.5 + y0)) for x, y in seen.corners)
    return Decoded(text, seen.symbology, corners or decoded.corners)


def _slanted(gray: Any, decoded: Decoded) -> bool:
    """Read along a row at more than ``_SLANT`` to the bars' normal: a row that may have
    crossed only part of the code."""
    centre, length, row = _geometry(decoded)
    return abs((bar_angle(gray, centre, length * 0.3) - row + 90) % 180 - 90) > _SLANT


def _look_again(gray: Any, place: list[Decoded], reread: Reread, *, sharpen: bool = False,
                reach: float = 2.2) -> tuple[list[str], float]:
    """What an upright read of the place of ``place`` (one result or a conflicting group)
    finds, and how wide its run of bars is. The crop is wide enough for an EAN-13 around
    a UPC-E read out of it. Only reads along the first result's direction count: read
    backwards, the same bars can spell another valid EAN-8. ``reach``: the crop's size in
    code lengths (1.1: the code and its quiet zones only, for a look that needs no context;
    the crop's area, and so the look's cost, grows with its square)."""
    centres = [_geometry(d) for d in place]
    centre = (sum(c[0][0] for c in centres) / len(centres), sum(c[0][1] for c in centres) / len(centres))
    length, direction = max(c[1] for c in centres), centres[0][2]
    turned = turn_upright(gray, centre, bar_angle(gray, centre, length * 0.3), length * reach)
    found = []
    for decoded in reread(_sharpened(turned.image) if sharpen else turned.image):
        if decoded.symbology not in LINEAR or len(decoded.corners) != 4:
            continue
        (x0, y0), (x1, y1) = turned.to_frame([decoded.corners[0], decoded.corners[1]])
        if math.cos(math.radians(math.degrees(math.atan2(y1 - y0, x1 - x0)) - direction)) > 0:
            found.append(decoded.text)
    return found, barred_span(turned.image, length)


def _sharpened(image: Any) -> Any:
    """An unsharp mask: edges of bars that blur has run together stand apart again."""
    import cv2

    return cv2.addWeighted(image, 2.0, cv2.GaussianBlur(image, (0, 0), 2.0), -1.0, 0)
