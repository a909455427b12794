"""Camera scanning: frames from OpenCV, a decoder, and debouncing.

``OpenCVCamera`` reads frames from a local/USB webcam (or a video file or
stream URL OpenCV can open). ``CameraScanner.step()`` reads one frame, decodes
it and returns the scans that are new: a code held in front of the camera is
reported once, not once per frame, and again only after it has been out of
view for ``release_frames`` frames. A product code (EAN/UPC, one check digit) is
reported only once two of the last three frames read it, and no other product code
was read at its place meanwhile: the way phone scanning SDKs confirm, because one
frame can misread an EAN. Anything with ``read()``/``close()`` can stand in for the
camera (tests use a list of images).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from devices.decoders import Decoded, Decoder, DecoderConfig, make_decoder
from devices.errors import CameraError, CameraUnavailable, ScanError
from devices.parse import DEFAULT_OPTIONS, ScanOptions
from devices.misread_guard import RETAIL
from devices.scan import Scan

__all__ = ["CameraScanner", "Confirmer", "Debouncer", "FrameResult", "FrameSource", "OpenCVCamera"]


class FrameSource(Protocol):
    """Gives frames (numpy BGR or grayscale), ``None`` when the stream has ended."""

    def read(self) -> Any | None:
        """The next frame, or None at the end of a file or stream."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


class OpenCVCamera:
    """A webcam (index), video file or stream URL read through ``cv2.VideoCapture``."""

    def __init__(self, device: int | str = 0, *, width: int = 1280, height: int = 720) -> None:
        self.device, self.width, self.height = device, width, height
        self._capture: Any = None

    def open(self) -> "OpenCVCamera":
        """Open the device. Raises ``CameraUnavailable`` when OpenCV cannot open it."""
        import cv2

        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"no camera could be opened at {self.device!r}")
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self._capture = capture
        return self

    def read(self) -> Any | None:
        """The next frame; None at the end of a file. Raises ``CameraError`` if not open."""
        if self._capture is None:
            raise CameraError("camera is not open; call open() first")
        ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        """Release the device (safe to call twice)."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> "OpenCVCamera":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Debouncer:
    """Reports a code once while it stays in view.

    A code counts as gone after ``release_frames`` consecutive frames without it;
    seen again after that, it is reported again (the person scanned it twice).
    """

    release_frames: int = 5
    _missing: dict[str, int] = field(default_factory=dict)

    def update(self, texts: Iterable[str]) -> list[str]:
        """Feed the codes seen in one frame; returns those that are new, in frame order."""
        seen = list(dict.fromkeys(texts))
        new = [t for t in seen if t not in self._missing]
        for text in list(self._missing):
            self._missing[text] = 0 if text in seen else self._missing[text] + 1
            if self._missing[text] >= self.release_frames:
                del self._missing[text]
        for text in new:
            self._missing[text] = 0
        return new


@dataclass
class Confirmer:
    """Holds back a product code until ``needed`` of the last ``window`` frames read it.

    Every frame's EAN/UPC reads go in; out come those confirmed: read often enough, and
    with no different EAN/UPC read at the same place in the window (two codes competing
    for one place are both held until one of them stops being read).
    """

    needed: int = 2
    window: int = 3
    _frames: deque[list[Decoded]] = field(default_factory=deque)

    def update(self, retail: list[Decoded]) -> list[str]:
        """Feed one frame's EAN/UPC reads; returns the texts confirmed now, in frame order."""
        self._frames.append(retail)
        while len(self._frames) > self.window:
            self._frames.popleft()
        recent = [d for frame in self._frames for d in frame]
        counts = {text: sum(1 for frame in self._frames if any(d.text == text for d in frame))
                  for text in dict.fromkeys(d.text for d in retail)}
        return [text for text, count in counts.items()
                if count >= self.needed and not self._contested(text, recent)]

    @staticmethod
    def _contested(text: str, recent: list[Decoded]) -> bool:
        mine = [d for d in recent if d.text == text]
        return any(_near(a, b) for a in mine for b in recent if b.text != text)


def _near(a: Decoded, b: Decoded) -> bool:
    """Same place in the frame, give or take the code's own size (the camera moves)."""
    if len(a.corners) != 4 or len(b.corners) != 4:
        return True  # no place known: assume the worst
    ax, ay = [p[0] for p in a.corners], [p[1] for p in a.corners]
    bx, by = [p[0] for p in b.corners], [p[1] for p in b.corners]
    reach = max(max(ax) - min(ax), max(ay) - min(ay), 20) / 2
    return (min(ax) - reach <= max(bx) and min(bx) <= max(ax) + reach
            and min(ay) - reach <= max(by) and min(by) <= max(ay) + reach)


@dataclass(frozen=True)
class FrameResult:
    """What one frame gave: the frame itself, new scans, and codes that failed to parse."""

    frame: Any
    scans: tuple[Scan, ...] = ()
    rejected: tuple[tuple[Decoded, ScanError], ...] = ()


class CameraScanner:
    """Frames in, debounced scans out. Not a thread: call ``step()`` from your loop."""

    def __init__(
        self,
        source: FrameSource,
        decoder: Decoder | None = None,
        *,
        debouncer: Debouncer | None = None,
        confirmer: Confirmer | None = None,
        options: ScanOptions = DEFAULT_OPTIONS,
    ) -> None:
        self.source = source
        self.decoder = decoder or make_decoder(DecoderConfig())
        self.debouncer = debouncer or Debouncer()
        self.confirmer = confirmer or Confirmer()
        self.options = options

    def step(self) -> FrameResult | None:
        """Read and decode one frame; None when the source has ended."""
        frame = self.source.read()
        if frame is None:
            return None
        return self.decode_frame(frame)

    def decode_frame(self, frame: Any) -> FrameResult:
        """Decode a frame obtained elsewhere (e.g. pushed by a phone), confirm and debounce it."""
        decoded = self.decoder.decode(frame)
        confirmed = set(self.confirmer.update([d for d in decoded if d.symbology in RETAIL]))
        found: dict[str, Decoded] = {}
        for item in decoded:
            if item.symbology not in RETAIL or item.text in confirmed:
                found.setdefault(item.text, item)
        new = self.debouncer.update(found)
        scans: list[Scan] = []
        rejected: list[tuple[Decoded, ScanError]] = []
        for item in (found[text] for text in new):
            try:
                scans.append(item.to_scan(options=self.options))
            except ScanError as exc:
                rejected.append((item, exc))
        return FrameResult(frame, tuple(scans), tuple(rejected))

    def close(self) -> None:
        """Close the frame source."""
        self.source.close()
