"""The sign-in screen of a shared device: scan your badge, or type ID and PIN."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

import flet as ft

from edge_app.errors import Refused
from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.signin import Operator, PinNeeded, sign_in_badge, sign_in_pin

__all__ = ["SignInView"]


class SignInView(Screen):
    """Calls `on_signed_in(operator)` once a badge or an ID + PIN matches."""

    title = "Backroom"
    scan_label = "Badge"
    scan_hint = "Scan your badge"
    two_panes = False

    def __init__(self, who: Who, on_signed_in: Callable[[Operator], Awaitable[None]], note: str = ""):
        super().__init__(who)
        self.heading.size = 30
        self.on_signed_in = on_signed_in
        self.card.show("SIGN IN", "Scan your badge.")
        if note:
            self.banner.show(Feedback(True, note, "signin"))
            self.banner.control.bgcolor = theme.WAIT
            self.banner.icon.icon = ft.Icons.LOCK_CLOCK
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
        self.actions.controls = [typed]
        self.arrange()

    async def _on_code(self, code: str) -> None:
        try:
            await self._try(lambda: sign_in_badge(self.replica, code))
        except PinNeeded as exc:  # a supervisor's badge: their ID is filled in, the PIN is theirs to type
            self.operator_id.value = code.strip().split(":", 1)[-1]
            self.banner.show(Feedback(False, str(exc), "signin"))
            await self.update()
            await self.pin.focus()

    async def _on_pin(self, _e: ft.Event) -> None:
        operator_id, pin = self.operator_id.value or "", self.pin.value or ""
        self.pin.value = ""
        await self._try(lambda: sign_in_pin(self.replica, operator_id, pin))

    async def _try(self, attempt: Callable[[], Operator]) -> None:
        try:
            operator = await asyncio.to_thread(attempt)  # scrypt takes a moment: keep the page responsive
        except PinNeeded:
            raise  # the badge's caller asks for the PIN
        except Refused as exc:
            self.banner.show(Feedback(False, str(exc), "signin"))
            await self.update()
            return
        await self.on_signed_in(operator)
