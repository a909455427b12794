"""A generated barcode corpus: camera-like 1280x720 frames with known content, fresh for any seed.

Nothing is stored in the repository. ``generate_corpus(seed=…)`` draws random codes of
every kind a floor sees (``devices.samples``), places each at a random place and size,
and applies one distortion from ``devices.distortions``; ``generate_clips`` makes short
runs of consecutive frames of one code, as a camera scanner sees them. ``judge`` tells
whether a decoder read a frame's code and how many *false reads* (codes not on the frame)
it returned with it; ``judge_clip`` the same for what a ``CameraScanner`` reports.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable

from devices.camera import CameraScanner, Confirmer, Debouncer
from devices.decoders import Decoded, Decoder
from devices.distortions import DISTORTIONS, Box, distort
from devices.errors import ScanError
from devices.gs1 import gs1_hri
from devices.parse import parse_scan
from devices.samples import FRAME, Sample, place_in_frame, placed, random_sample, render_code, shaken
from devices.scan import GS1Data, Item, Scan, Symbology

__all__ = [
    "DEGRADATIONS",
    "FRAME",
    "Clip",
    "CorpusImage",
    "Sample",
    "code_key",
    "decode_rates",
    "decoded_correctly",
    "generate_clips",
    "generate_corpus",
    "judge",
    "judge_clip",
    "place_in_frame",
    "random_sample",
    "render_code",
    "write_corpus",
]

DEGRADATIONS = tuple(DISTORTIONS)


@dataclasses.dataclass(frozen=True)
class CorpusImage:
    """One frame of the corpus and what is in it."""

    name: str
    symbology: Symbology
    degradation: str
    expected: str
    image: Any = dataclasses.field(repr=False)
    box: Box = (0, 0, 0, 0)


@dataclasses.dataclass(frozen=True)
class Clip:
    """A few consecutive camera frames of one code: the same angle or blur, its own grain and
    a pixel of hand shake each."""

    name: str
    symbology: Symbology
    degradation: str
    expected: str
    frames: tuple[Any, ...] = dataclasses.field(repr=False)


def code_key(scan: Scan) -> str:
    """What two reads of the same code agree on: the GTIN (and add-on) of an item, every
    element of a GS1 string, else the data."""
    meaning = scan.meaning
    if isinstance(meaning, Item):
        return meaning.gtin + meaning.add_on
    if isinstance(meaning, GS1Data):
        return gs1_hri(meaning)
    return scan.data


def generate_corpus(
    degradations: Iterable[str] = DEGRADATIONS, *, seed: int = 0, per_class: int = 9
) -> list[CorpusImage]:
    """``per_class`` random frames for every distortion. Raises ``ValueError`` for an unknown one."""
    import numpy as np

    rng = np.random.default_rng(seed)
    images = []
    for degradation in _checked(degradations):
        for index in range(per_class):
            sample = random_sample(rng)
            frame, box = placed(sample, degradation, rng)
            name = f"{degradation}-{index:03d}-{sample.symbology.value}"
            image = distort(degradation, frame, box, rng)
            images.append(CorpusImage(name, sample.symbology, degradation, sample.expected, image, box))
    return images


def generate_clips(
    degradations: Iterable[str] = DEGRADATIONS, *, seed: int = 0, per_class: int = 9, frames: int = 3
) -> list[Clip]:
    """``per_class`` clips of ``frames`` frames for every distortion: what a camera scanner
    sees while a person holds a code up. Raises ``ValueError`` for an unknown distortion."""
    import numpy as np

    rng = np.random.default_rng(seed)
    clips = []
    for degradation in _checked(degradations):
        for index in range(per_class):
            sample = random_sample(rng)
            frame, box = placed(sample, degradation, rng)
            params = int(rng.integers(0, 2**32))
            shots = tuple(
                shaken(distort(degradation, frame, box, np.random.default_rng(params),
                               np.random.default_rng([params, shot])), np.random.default_rng([params, shot, 1]))
                for shot in range(frames)
            )
            name = f"{degradation}-{index:03d}-{sample.symbology.value}"
            clips.append(Clip(name, sample.symbology, degradation, sample.expected, shots))
    return clips


def _checked(degradations: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(degradations)
    unknown = set(chosen) - set(DEGRADATIONS)
    if unknown:
        raise ValueError(f"unknown degradations: {sorted(unknown)}")
    return chosen


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


def judge(found: Iterable[Decoded], item: CorpusImage | Clip) -> tuple[bool, int]:
    """(was the code read, how many results were codes not in the picture).

    A result that does not parse (a wrong check digit, a malformed label) is no read and
    no false read: the parser refuses it before anyone sees it.
    """
    keys = set()
    for decoded in found:
        try:
            keys.add(code_key(decoded.to_scan()))
        except ScanError:
            continue
    return _verdict(keys, item)


def _verdict(keys: set[str], item: CorpusImage | Clip) -> tuple[bool, int]:
    want = code_key(parse_scan(item.expected))
    return want in keys, len(keys - {want})


def judge_clip(decoder: Decoder, clip: Clip, confirmer: Confirmer | None = None) -> tuple[bool, int]:
    """(did a ``CameraScanner`` fed the clip report its code, how many codes it reported that
    are not in it). ``confirmer=Confirmer(needed=1)`` is a scanner that trusts every frame."""
    scanner = CameraScanner(_Frames(clip.frames), decoder, debouncer=Debouncer(), confirmer=confirmer or Confirmer())
    keys = set()
    while (result := scanner.step()) is not None:
        keys |= {code_key(scan) for scan in result.scans}
    return _verdict(keys, clip)


class _Frames:
    def __init__(self, frames: Iterable[Any]) -> None:
        self._frames = list(frames)

    def read(self) -> Any | None:
        return self._frames.pop(0) if self._frames else None

    def close(self) -> None:
        self._frames.clear()


def decoded_correctly(decoder: Decoder, item: CorpusImage) -> bool:
    """True when ``decoder`` finds ``item.expected`` (compared as parsed scans) in the image."""
    return judge(decoder.decode(item.image), item)[0]


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
