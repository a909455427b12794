"""What a handheld camera does to a code: the distortions of the test corpus.

Each distortion takes a 1280x720 grayscale frame with one code on it, the code's box in
the frame, a numpy random generator for its parameters and one for sensor noise (so the
frames of one clip share an angle or a blur but not their grain); it returns the
distorted frame. They are drawn
from the ways codes are missed on a floor: out of focus, shaky hands, a dark aisle
(noise), a phone's JPEG stream, any angle, tilt, glare off shrink-wrap, faded print,
held far away, a finger over part of the code.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["DISTORTIONS", "Box", "distort"]

Box = tuple[int, int, int, int]  # left, top, width, height of the code in the frame
_Distortion = Callable[[Any, Box, Any, Any], Any]


def _clean(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    return frame


def _blur(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import cv2

    return cv2.GaussianBlur(frame, (0, 0), float(rng.uniform(1.2, 3.0)))


def _noise(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import numpy as np

    noisy = frame.astype(np.int16) + grain.normal(0, rng.uniform(15, 45), frame.shape).astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _jpeg(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import cv2

    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(6, 25))])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else frame


def _rotation(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import cv2

    left, top, width, height = box
    centre = (left + width / 2, top + height / 2)
    matrix = cv2.getRotationMatrix2D(centre, float(rng.uniform(0, 360)), 1.0)
    return cv2.warpAffine(frame, matrix, frame.shape[::-1], borderMode=cv2.BORDER_REPLICATE)


def _perspective(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import cv2
    import numpy as np

    left, top, width, height = box
    src = np.array([[left, top], [left + width, top], [left + width, top + height], [left, top + height]], np.float32)
    jitter = rng.uniform(-0.18, 0.18, (4, 2)) * np.array([width, height], np.float32)
    matrix = cv2.getPerspectiveTransform(src, (src + jitter).astype(np.float32))
    return cv2.warpPerspective(frame, matrix, frame.shape[::-1], borderMode=cv2.BORDER_REPLICATE)


def _glare(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import numpy as np

    left, top, width, height = box
    cx, cy = left + rng.uniform(0.2, 0.8) * width, top + rng.uniform(0.2, 0.8) * height
    radius = rng.uniform(0.15, 0.35) * max(width, height)
    ys, xs = np.ogrid[: frame.shape[0], : frame.shape[1]]
    light = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2)) * rng.uniform(120, 230)
    return np.clip(frame + light, 0, 255).astype(np.uint8)


def _low_contrast(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import numpy as np

    span, base = rng.uniform(30, 70), rng.uniform(60, 150)
    return (base + frame.astype(np.float32) * (span / 255)).astype(np.uint8)


def _occlusion(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import cv2

    left, top, width, height = box
    out = frame.copy()
    # A finger or a strip of tape across one edge: part of the bars' height (a linear code
    # keeps some whole rows), or a corner of a 2D code (its error correction's job).
    share = rng.uniform(0.2, 0.4)
    if rng.random() < 0.5:
        y0, y1 = (top, int(top + share * height)) if rng.random() < 0.5 else (int(top + (1 - share) * height), top + height)
        x0, x1 = left - 10, left + width + 10
    else:
        x0, x1 = left, int(left + share * width)
        y0, y1 = top, int(top + share * height)
    cv2.rectangle(out, (x0, y0), (x1, y1), int(rng.uniform(20, 120)), -1)
    return out


def _motion(frame: Any, box: Box, rng: Any, grain: Any) -> Any:
    import cv2
    import numpy as np

    length = int(rng.integers(5, 14))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    turned = cv2.warpAffine(kernel, turn, (length, length))
    weights = (turned / max(float(turned.sum()), 1e-6)).astype(np.float32)
    return cv2.filter2D(frame, -1, weights)


DISTORTIONS: dict[str, _Distortion] = {
    "clean": _clean,
    "blur": _blur,
    "noise": _noise,
    "jpeg": _jpeg,
    "rotation": _rotation,
    "perspective": _perspective,
    "glare": _glare,
    "low_contrast": _low_contrast,
    "small": _clean,  # the code is drawn small; nothing else happens to it
    "occlusion": _occlusion,
    "motion": _motion,
}


def distort(name: str, frame: Any, box: Box, rng: Any, grain: Any = None) -> Any:
    """``frame`` with distortion ``name`` applied; ``grain`` draws sensor noise (``rng`` if None).

    Raises ``ValueError`` for an unknown name.
    """
    if name not in DISTORTIONS:
        raise ValueError(f"unknown distortion {name!r}; choose from {', '.join(DISTORTIONS)}")
    return DISTORTIONS[name](frame, box, rng, rng if grain is None else grain)
