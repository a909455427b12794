"""Camera scanning: frames from OpenCV, a decoder, and debouncing.

``OpenCVCamera`` reads frames from a local/USB webcam (or a video file or
stream URL OpenCV can open). ``CameraScanner.step()`` reads one frame, decodes
it and returns the scans that are new: a code held in front of the camera is
reported once, not once per frame, and again only after it has been out of
view for ``release_frames`` frames. Anything with ``read()``/``close()`` can
stand in for the camera (tests use a list of images).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from devices.decoders import Decoded, Decoder, DecoderConfig, make_decoder
from devices.errors import CameraError, CameraUnavailable, ScanError
from devices.scan import Scan

__all__ = ["CameraScanner", "Debouncer", "FrameResult", "FrameSource", "OpenCVCamera"]


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
    ) -> None:
        self.source = source
        self.decoder = decoder or make_decoder(DecoderConfig())
        self.debouncer = debouncer or Debouncer()

    def step(self) -> FrameResult | None:
        """Read and decode one frame; None when the source has ended."""
        frame = self.source.read()
        if frame is None:
            return None
        return self.decode_frame(frame)

    def decode_frame(self, frame: Any) -> FrameResult:
        """Decode a frame obtained elsewhere (e.g. pushed by a phone) and debounce it."""
        found: dict[str, Decoded] = {}
        for decoded in self.decoder.decode(frame):
            found.setdefault(decoded.text, decoded)
        new = self.debouncer.update(found)
        scans: list[Scan] = []
        rejected: list[tuple[Decoded, ScanError]] = []
        for decoded in (found[text] for text in new):
            try:
                scans.append(decoded.to_scan())
            except ScanError as exc:
                rejected.append((decoded, exc))
        return FrameResult(frame, tuple(scans), tuple(rejected))

    def close(self) -> None:
        """Close the frame source."""
        self.source.close()
