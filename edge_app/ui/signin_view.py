"""The sign-in screen of a shared device: scan your badge, or type ID and PIN."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

import flet as ft

from edge_app.errors import Refused
from edge_app.picking import Feedback
from edge_app.replica import Replica
from edge_app.signin import Operator, sign_in_badge, sign_in_pin
from edge_app.ui import theme
from edge_app.ui.scan_panel import Banner, ScanField, StepCard

__all__ = ["SignInView"]


class SignInView:
    """Calls `on_signed_in(operator)` once a badge or an ID + PIN matches."""

    def __init__(self, replica: Replica, on_signed_in: Callable[[Operator], Awaitable[None]], note: str = ""):
        self.replica = replica
        self.on_signed_in = on_signed_in
        self.card = StepCard()
        self.card.show("SIGN IN", "Scan your badge.")
        self.banner = Banner()
        if note:
            self.banner.show(Feedback(True, note, "signin"))
            self.banner.control.bgcolor = theme.WAIT
            self.banner.icon.icon = ft.Icons.LOCK_CLOCK
        self.badge = ScanField("Badge", self._on_badge, hint="Scan your badge")
        self.operator_id = ft.TextField(label="Operator ID", text_size=22, content_padding=14, autocorrect=False,
                                        capitalization=ft.TextCapitalization.CHARACTERS)
        self.pin = ft.TextField(label="PIN", text_size=22, content_padding=14, password=True, can_reveal_password=True,
                                keyboard_type=ft.KeyboardType.NUMBER, input_filter=ft.NumbersOnlyInputFilter(),
                                on_submit=self._on_pin)
        typed = theme.card(ft.Column([
            theme.text("No badge? Type your ID and PIN", size=18, weight=ft.FontWeight.W_600),
            self.operator_id, self.pin,
            theme.big_button("Sign in", self._on_pin, ft.Icons.LOGIN),
        ], spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH))
        self.control = ft.Column(
            [theme.text("Backroom", size=30, weight=ft.FontWeight.BOLD), self.card.control, self.badge.field,
             self.banner.control, typed],
            spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )

    async def _on_badge(self, code: str) -> None:
        await self._try(lambda: sign_in_badge(self.replica, code))

    async def _on_pin(self, _e: ft.Event) -> None:
        operator_id, pin = self.operator_id.value or "", self.pin.value or ""
        self.pin.value = ""
        await self._try(lambda: sign_in_pin(self.replica, operator_id, pin))

    async def _try(self, attempt: Callable[[], Operator]) -> None:
        try:
            operator = await asyncio.to_thread(attempt)  # scrypt takes a moment: keep the page responsive
        except Refused as exc:
            self.banner.show(Feedback(False, str(exc), "signin"))
            self.control.update()
            await self.badge.focus()
            return
        await self.on_signed_in(operator)
