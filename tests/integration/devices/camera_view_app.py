"""A Flet web app showing only the camera scan screen, fed by generated frames.

Run by test_camera_scan_browser.py as ``python camera_view_app.py PORT SCANS_FILE``;
every scan delivered to on_scan is appended to SCANS_FILE, one per line.
"""

import sys

import flet as ft

from devices.corpus import place_in_frame, render_code
from devices.scan import Symbology
from edge_app.ui.camera_scan import camera_scan_view

PICKUP = "PICKUP:SO-100234:7Q4K9M"


class ShelfCamera:
    """Shows one QR code for ever, as a webcam pointed at a customer's phone would."""

    def __init__(self):
        self.frame = place_in_frame(render_code(Symbology.QR, PICKUP))

    def read(self):
        return self.frame

    def close(self):
        pass


def main(port: int, scans_file: str) -> None:
    def on_scan(scan):
        with open(scans_file, "a") as out:
            out.write(scan.data + "\n")

    def page_main(page: ft.Page):
        page.title = "Camera scan"
        page.add(camera_scan_view(on_scan, frame_source=ShelfCamera, fps=5, preview_width=960))

    ft.run(page_main, view=ft.AppView.WEB_BROWSER, host="127.0.0.1", port=port, no_cdn=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
