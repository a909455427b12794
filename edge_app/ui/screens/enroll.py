"""Shown instead of the app while this device is not enrolled: type the hub's address
and the one-time code an administrator made for this store (or use the CLI). A phone
or a handheld can't run `backroom edge enroll`, so the app does it itself."""

from __future__ import annotations

from typing import Awaitable, Callable

import flet as ft

from edge_app.enroll import enroll
from edge_app.errors import EdgeError
from edge_app.local.replica import Replica
from edge_app.ui import theme
from sync.enrolment import read_enrolment_qr

__all__ = ["enroll_panel"]


def enroll_panel(data_dir: str, on_enrolled: Callable[[ft.Event | None], Awaitable[None]]) -> ft.Control:
    """The enrolment form; `on_enrolled` starts the app once the hub accepted the code.
    Not a navigable screen: it stands in for the whole app until the device is enrolled."""
    hub = ft.TextField(label="Hub address", hint_text="https://hub.example:8700", text_size=20, content_padding=14,
                       autocorrect=False, keyboard_type=ft.KeyboardType.URL)
    code = ft.TextField(label="One-time code", hint_text="ABCD-EFGH", text_size=22, content_padding=14,
                        autocorrect=False, capitalization=ft.TextCapitalization.CHARACTERS)
    name = ft.TextField(label="Name of this device", hint_text="e.g. handheld 3", text_size=20, content_padding=14)
    said = theme.text("", size=17, color=theme.BAD)

    def read_qr(_e: ft.Event) -> None:
        """A scanned enrolment QR lands in the code field: it fills the address too."""
        scanned = read_enrolment_qr(code.value or "")
        if scanned is not None:
            code.value, hub.value = scanned
            hub.update()
            code.update()

    code.on_change = read_qr

    async def enroll_now(e: ft.Event) -> None:
        said.value = ""
        replica = Replica(data_dir)
        try:
            enrollment = await enroll(replica, (hub.value or "").strip(), (code.value or "").strip(), (name.value or "").strip())
        except EdgeError as exc:
            said.value = f"Not enrolled: {exc}"
            said.update()
            return
        finally:
            replica.close()
        said.color, said.value = theme.OK, f"Enrolled at {enrollment.location} as a {enrollment.role}. Starting…"
        said.update()
        await on_enrolled(e)

    def command(text: str) -> ft.Control:
        return ft.Container(ft.Text(text, size=16, font_family="monospace", selectable=True, color=ft.Colors.WHITE),
                            bgcolor=ft.Colors.BLUE_GREY_900, padding=12, border_radius=8)

    return ft.Column(
        [
            ft.Row([ft.Icon(ft.Icons.PHONELINK_SETUP, size=36, color=theme.BAD),
                    theme.text("This device is not enrolled yet", size=26, weight=ft.FontWeight.BOLD, expand=True)]),
            theme.text("Ask your administrator for a one-time code for this store, then type it here "
                       "with the hub's address, or scan the QR beside the code into the code field.", size=18),
            hub, code, name,
            theme.big_button("Enroll this device", enroll_now, ft.Icons.LOGIN),
            said,
            theme.text("Or, on a computer with the CLI:", size=16, color=theme.MUTED),
            command(f"backroom edge enroll --hub <hub address> --code <code> --data-dir {data_dir}"),
            theme.big_button("Check again", on_enrolled, ft.Icons.REFRESH, kind="outlined"),
        ],
        spacing=14,
    )
