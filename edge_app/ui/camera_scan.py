"""The camera scan screen (Flet 1.0): for devices without a hardware scanner.

Use it from the app shell like any control::

    from edge_app.ui.camera_scan import camera_scan_view

    def on_scan(scan: devices.Scan) -> None:
        workflow.handle_scan(scan)          # one workflow call per scan

    page.add(camera_scan_view(on_scan, camera=0))

What it does:

* frames come from a local or USB webcam through OpenCV (``camera`` is an index
  like ``0``, a device path like ``"/dev/video2"``, or a stream URL), or from any
  ``devices.camera.FrameSource`` passed as ``frame_source``; frames obtained some
  other way (a phone camera plug-in) can be handed in with
  ``CameraScanView.push_frame``;
* each frame is decoded off the UI thread (``asyncio.to_thread``) with the
  decoder from ``decoder_config`` (by default zxing-cpp, site formats, with
  centre zoom for codes held far away), shown
  as a JPEG preview, and every *new* code (debounced across frames) is parsed
  and passed to ``on_scan`` on the UI event loop;
* a code that decodes but does not parse (wrong check digit, malformed label)
  is shown as a message and passed to ``on_rejected`` if given, never to
  ``on_scan``;
* where no camera can be opened, the screen says so in plain words and
  suggests the hardware scanner or typing the code; nothing crashes.

The capture loop starts when the view is mounted and stops (releasing the
camera) when it is removed from the page or the Stop button is pressed.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

import flet as ft

from devices.camera import CameraScanner, FrameSource, OpenCVCamera
from devices.decoders import DecoderConfig, make_decoder
from devices.errors import CameraError, DeviceError, ScanError
from devices.scan import Scan

__all__ = ["CameraScanSession", "CameraScanView", "camera_scan_view"]

NO_CAMERA = "No camera found. Use the hand scanner or type the code instead."


class CameraScanSession:
    """The screen's logic without Flet: open the source, decode, encode a preview, report."""

    def __init__(
        self,
        on_scan: Callable[[Scan], None],
        open_source: Callable[[], FrameSource],
        *,
        decoder_config: DecoderConfig | None = None,
        on_rejected: Callable[[str, ScanError], None] | None = None,
        preview_width: int = 640,
    ) -> None:
        self.on_scan, self.on_rejected = on_scan, on_rejected
        self._open_source, self.preview_width = open_source, preview_width
        # Centre zoom finds codes held far from the camera; a screen at 10 fps can afford it.
        self._decoder = make_decoder(decoder_config or DecoderConfig(center_zoom=True))
        self.scanner: CameraScanner | None = None
        self.running = False

    def open(self) -> None:
        """Open the frame source. Raises ``CameraUnavailable`` when there is no camera."""
        self.scanner = CameraScanner(self._open_source(), self._decoder)
        self.running = True

    def close(self) -> None:
        """Stop and release the camera (safe to call twice)."""
        self.running = False
        if self.scanner is not None:
            self.scanner.close()
            self.scanner = None

    def step(self) -> Optional[tuple[bytes, list[Scan], list[tuple[str, ScanError]]]]:
        """Read and decode one frame: (JPEG preview, new scans, rejected codes), or None at the end."""
        if self.scanner is None:
            return None
        result = self.scanner.step()
        if result is None:
            return None
        return self._outcome(result)

    def decode(self, frame: Any) -> tuple[bytes, list[Scan], list[tuple[str, ScanError]]]:
        """Decode a frame obtained elsewhere (e.g. a phone camera plug-in)."""
        if self.scanner is None:
            self.scanner = CameraScanner(_NoSource(), self._decoder)
        return self._outcome(self.scanner.decode_frame(frame))

    def _outcome(self, result: Any) -> tuple[bytes, list[Scan], list[tuple[str, ScanError]]]:
        rejected = [(decoded.text, error) for decoded, error in result.rejected]
        return preview_jpeg(result.frame, self.preview_width), list(result.scans), rejected

    def report(self, scans: list[Scan], rejected: list[tuple[str, ScanError]]) -> None:
        """Hand results to the callbacks (call on the UI loop)."""
        for scan in scans:
            self.on_scan(scan)
        for text, error in rejected:
            if self.on_rejected is not None:
                self.on_rejected(text, error)


class _NoSource:
    def read(self) -> None:
        return None

    def close(self) -> None:
        pass


def preview_jpeg(frame: Any, width: int = 640) -> bytes:
    """The frame scaled to ``width`` pixels and encoded as JPEG for the preview."""
    import cv2

    height = max(1, round(frame.shape[0] * width / frame.shape[1]))
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 70])
    if not ok:
        raise CameraError("could not encode the camera preview")
    return data.tobytes()


def _blank_png(width: int, height: int) -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".png", np.full((height // 8, width // 8), 40, dtype=np.uint8))
    return data.tobytes()


@ft.control
class CameraScanView(ft.Column):
    """A column with a title, a status line, the camera preview and the last result."""

    def setup(self, session: CameraScanSession, fps: float) -> "CameraScanView":
        """Attach the session; ``camera_scan_view`` calls this."""
        self._session, self._fps = session, fps
        self._status = ft.Text("Starting camera…", size=16)
        self._preview = ft.Image(
            src=_blank_png(session.preview_width, session.preview_width * 9 // 16),
            width=session.preview_width, fit=ft.BoxFit.CONTAIN, gapless_playback=True,
        )
        self._last = ft.Text("", size=18, weight=ft.FontWeight.BOLD)
        self._toggle = ft.Button("Stop camera", on_click=self._on_toggle, tooltip="Start or stop the camera")
        self.controls = [ft.Text("Scan with camera", size=22), self._status, self._preview, self._last, self._toggle]
        return self

    def did_mount(self) -> None:
        super().did_mount()
        self.page.run_task(self._run)

    def will_unmount(self) -> None:
        self._session.running = False
        super().will_unmount()

    @property
    def status(self) -> str:
        """What the status line says now."""
        return self._status.value or ""

    async def push_frame(self, frame: Any) -> None:
        """Decode a frame that came from elsewhere and show it, as the capture loop would."""
        self._show(*await asyncio.to_thread(self._session.decode, frame))

    async def _run(self) -> None:
        if getattr(self, "_active", False):
            return  # the previous loop is still stopping; one camera loop at a time
        self._active = True
        try:
            await self._capture()
        finally:
            self._active = False

    async def _capture(self) -> None:
        try:
            await asyncio.to_thread(self._session.open)
        except DeviceError as exc:
            self._set(status=f"{NO_CAMERA} ({exc})", button="Try again")
            return
        self._set(status="Hold the code 10–20 cm from the camera.", button="Stop camera")
        try:
            await self._loop()
        except DeviceError as exc:
            self._set(status=f"The camera stopped working: {exc}", button="Try again")
        finally:
            await asyncio.to_thread(self._session.close)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while self._session.running:
            started = loop.time()
            outcome = await asyncio.to_thread(self._session.step)
            if outcome is None:
                self._set(status="The camera stopped sending pictures.", button="Try again")
                return
            self._show(*outcome)
            await asyncio.sleep(max(0.0, 1 / self._fps - (loop.time() - started)))

    def _show(self, jpeg: bytes, scans: list[Scan], rejected: list[tuple[str, ScanError]]) -> None:
        self._preview.src = jpeg
        if scans:
            self._last.value, self._last.color = f"Scanned: {scans[-1].data}", ft.Colors.GREEN_800
        elif rejected:
            self._last.value, self._last.color = f"Not accepted: {rejected[-1][1]}", ft.Colors.RED_800
        self.update()
        self._session.report(scans, rejected)

    def _set(self, *, status: str, button: str) -> None:
        self._status.value, self._toggle.content = status, button
        self.update()

    def _on_toggle(self, _event: Any) -> None:
        if self._session.running:
            self._session.running = False
            self._set(status="Camera stopped.", button="Start camera")
        else:
            self.page.run_task(self._run)


def camera_scan_view(
    on_scan: Callable[[Scan], None],
    *,
    camera: int | str = 0,
    frame_source: Callable[[], FrameSource] | None = None,
    decoder_config: DecoderConfig | None = None,
    on_rejected: Callable[[str, ScanError], None] | None = None,
    fps: float = 10.0,
    preview_width: int = 640,
) -> CameraScanView:
    """The camera scan screen as a control; ``on_scan`` gets each new ``Scan``.

    ``frame_source`` (a callable returning an opened ``FrameSource``) replaces
    the OpenCV camera, e.g. for a video file in a demo or a test. Raises
    ``DecoderError`` at once if ``decoder_config`` is unusable.
    """
    opener = frame_source or (lambda: OpenCVCamera(camera).open())
    session = CameraScanSession(
        on_scan, opener, decoder_config=decoder_config, on_rejected=on_rejected, preview_width=preview_width
    )
    return CameraScanView(expand=True, spacing=12).setup(session, fps)
