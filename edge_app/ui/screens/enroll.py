"""Shown instead of the app when the data folder holds no enrolled device."""

from __future__ import annotations

from typing import Awaitable, Callable

import flet as ft

from edge_app.ui import theme

__all__ = ["enroll_panel"]


def enroll_panel(data_dir: str, on_check: Callable[[ft.Event], Awaitable[None]]) -> ft.Control:
    """What to do to enroll this device, with a button to check again. Not a navigable
    screen: it stands in for the whole app until the device is enrolled."""

    def command(text: str) -> ft.Control:
        return ft.Container(ft.Text(text, size=16, font_family="monospace", selectable=True, color=ft.Colors.WHITE),
                            bgcolor=ft.Colors.BLUE_GREY_900, padding=12, border_radius=8)

    return ft.Column(
        [
            ft.Row([ft.Icon(ft.Icons.PHONELINK_SETUP, size=36, color=theme.BAD),
                    theme.text("This device is not enrolled yet", size=26, weight=ft.FontWeight.BOLD, expand=True)]),
            theme.text(f"The data folder {data_dir} holds no device identity, so there is nothing to pick yet.",
                       size=18),
            theme.text("1. On the hub, make a one-time code for this store:", size=18),
            command("backroom hub enroll --db <hub database> --location <store code> --role picker"),
            theme.text("2. On this device, enroll with that code:", size=18),
            command(f"backroom edge enroll --hub http://<hub address>:8700 --code <code> --data-dir {data_dir}"),
            theme.text("3. Then press Check again (or restart `backroom edge serve`).", size=18),
            theme.big_button("Check again", on_check, ft.Icons.REFRESH),
        ],
        spacing=14,
    )
