"""The Flet camera scan screen, run in-process on a real Flet Page (no browser, no camera)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import msgpack
from flet.controls.base_control import BaseControl
from flet.messaging.connection import Connection
from flet.messaging.protocol import (
    Message,
    MessageAction,
    RegisterClientResponseBody,
    configure_encode_object_for_msgpack,
)
from flet.messaging.session import Session
from flet.pubsub.pubsub_hub import PubSubHub

from devices.corpus import place_in_frame, render_code
from devices.errors import CameraUnavailable
from devices.scan import BinLabel, Symbology, ToteLabel
from edge_app.ui.camera_scan import NO_CAMERA, camera_scan_view


class FakeConnection(Connection):
    """Encodes every message as the real transport would, and keeps them."""

    def __init__(self, loop):
        super().__init__()
        self.loop = loop
        self.executor = ThreadPoolExecutor(2)
        self.pubsubhub = PubSubHub(loop=loop, executor=self.executor)
        self.messages = []

    def send_message(self, message):
        msgpack.packb([message.action, message.body], default=configure_encode_object_for_msgpack(BaseControl))
        self.messages.append(message)


async def new_page():
    conn = FakeConnection(asyncio.get_running_loop())
    session = Session(conn)
    body = RegisterClientResponseBody(session_id=session.id, page_patch=session.get_page_patch(), error="")
    conn.send_message(Message(MessageAction.REGISTER_CLIENT, body))
    return session  # the page holds its session weakly: keep the session referenced


class ListCamera:
    def __init__(self, frames):
        self.frames, self.closed = list(frames), False

    def read(self):
        return self.frames.pop(0) if self.frames else None

    def close(self):
        self.closed = True


def frame_with(data):
    return place_in_frame(render_code(Symbology.CODE128, data))


async def wait_until(condition, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    return condition()


def test_frames_shown_in_the_view_deliver_each_code_once_to_on_scan():
    bin_frame, tote_frame = frame_with("BIN:A-01-1"), frame_with("TOTE:T0042")
    camera = ListCamera([bin_frame] * 3 + [tote_frame] * 2)
    scans = []

    async def scenario():
        session = await new_page()
        page = session.page
        view = camera_scan_view(scans.append, frame_source=lambda: camera, fps=100)
        page.add(view)
        assert await wait_until(lambda: camera.closed)
        return view

    view = asyncio.run(scenario())
    assert [s.meaning for s in scans] == [BinLabel("A-01-1"), ToteLabel("T0042")]
    assert view.controls[2].src[:2] == b"\xff\xd8"  # the last frame is shown as a JPEG
    assert "TOTE:T0042" in view.controls[3].value
    assert "stopped sending" in view.status


def test_without_a_camera_the_view_says_so_and_nothing_is_scanned():
    scans = []

    def no_camera():
        raise CameraUnavailable("no camera could be opened at 0")

    async def scenario():
        session = await new_page()
        page = session.page
        view = camera_scan_view(scans.append, frame_source=no_camera)
        page.add(view)
        assert await wait_until(lambda: NO_CAMERA in view.status)
        return view

    view = asyncio.run(scenario())
    assert scans == [] and "no camera could be opened" in view.status


def test_a_real_opencv_camera_index_that_does_not_exist_reports_no_camera():
    async def scenario():
        session = await new_page()
        page = session.page
        view = camera_scan_view(lambda scan: None, camera="/dev/no-such-video-device")
        page.add(view)
        assert await wait_until(lambda: NO_CAMERA in view.status)

    asyncio.run(scenario())


def test_a_frame_pushed_from_elsewhere_is_decoded_and_a_malformed_label_is_rejected():
    scans, rejected = [], []

    async def scenario():
        session = await new_page()
        page = session.page
        view = camera_scan_view(scans.append, frame_source=lambda: ListCamera([]), on_rejected=lambda t, e: rejected.append(t))
        page.add(view)
        await view.push_frame(frame_with("ORD:SO-7"))
        await view.push_frame(frame_with("BIN:has space"))
        return view

    view = asyncio.run(scenario())
    assert [s.meaning.order_number for s in scans] == ["SO-7"] and rejected == ["BIN:has space"]
    assert "Not accepted" in view.controls[3].value


class EndlessCamera:
    """Shows the same frame for ever, like a camera pointed at a shelf."""

    def __init__(self, frame):
        self.frame, self.closed = frame, False

    def read(self):
        return self.frame

    def close(self):
        self.closed = True


def test_stop_releases_the_camera_and_start_opens_it_again():
    frame = frame_with("TOTE:T1")
    opened = []

    def open_camera():
        opened.append(EndlessCamera(frame))
        return opened[-1]

    async def scenario():
        session = await new_page()
        view = camera_scan_view(lambda scan: None, frame_source=open_camera, fps=50)
        session.page.add(view)
        assert await wait_until(lambda: "Hold the code" in view.status)
        view._on_toggle(None)
        assert view.status == "Camera stopped."
        assert await wait_until(lambda: opened[0].closed)
        view._on_toggle(None)
        assert await wait_until(lambda: len(opened) == 2 and "Hold the code" in view.status)
        session.page.controls.clear()
        session.page.update()  # removing the view unmounts it: the loop stops and the camera is released
        assert await wait_until(lambda: opened[1].closed)

    asyncio.run(scenario())


class BrokenCamera:
    """Gives one frame, then fails the way a camera unplugged mid-stream does."""

    def __init__(self):
        self.reads, self.closed = 0, False

    def read(self):
        from devices.errors import CameraError

        self.reads += 1
        if self.reads > 1:
            raise CameraError("read failed: device unplugged")
        return frame_with("TOTE:T1")

    def close(self):
        self.closed = True


def test_a_camera_failing_mid_stream_is_reported_and_released():
    camera = BrokenCamera()

    async def scenario():
        session = await new_page()
        view = camera_scan_view(lambda scan: None, frame_source=lambda: camera, fps=50)
        session.page.add(view)
        assert await wait_until(lambda: camera.closed)
        return view

    view = asyncio.run(scenario())
    assert "stopped working" in view.status and "unplugged" in view.status
