"""The camera scan screen in Debian's Chromium: the preview is drawn and scans reach on_scan."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from devices.decoders import make_decoder

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
APP = Path(__file__).with_name("camera_view_app.py")
PICKUP = "PICKUP:SO-100234:7Q4K9M"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture
def app(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM}")
    port, scans = free_port(), tmp_path / "scans.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]), "FLET_WEB_NO_CDN": "1"}
    log = (tmp_path / "app.log").open("wb")
    command = [sys.executable, str(APP), str(port), str(scans)]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/", scans
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_camera_screen_shows_the_preview_and_delivers_the_scan_in_a_real_browser(app, tmp_path):
    from playwright.sync_api import sync_playwright

    url, scans = app
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
            page.goto(url)
            page.wait_for_function("() => !document.getElementById('loading')", timeout=60_000)
            shot, seen = tmp_path / "camera_screen.png", []
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline and PICKUP not in seen:
                time.sleep(0.5)  # the first paint comes a moment after Flutter reports it has loaded
                page.screenshot(path=str(shot))
                seen = [d.text for d in make_decoder().decode(cv2.imread(str(shot)))]
        finally:
            browser.close()
    assert PICKUP in seen  # the preview drawn in the browser is the camera frame
    assert scans.read_text().splitlines() == [PICKUP]  # delivered to on_scan once, not once per frame
