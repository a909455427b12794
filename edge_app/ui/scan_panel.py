"""Pieces every scanning screen shares: the scan field fed through
`devices.wedge_field.TextFieldFeed` (a fast second scan is never lost to a
clear), the step card that says what to do next, and the green/red banner.

The field is never cleared inside the submit handler: it is cleared only when
the feed says nothing is pending and no keystroke has arrived for a moment; a
scan typed before the clear lands after the old value and is fed on its own."""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

import flet as ft

from devices.wedge import WedgeConfig, WedgeReader
from devices.wedge_field import TextFieldFeed
from edge_app.ui import theme
from edge_app.workflows.feedback import Feedback

__all__ = ["ScanField", "StepCard", "Banner", "WIDE_AT"]

WIDE_AT = 900  # px of page width from which a screen uses the terminal layout
# The field's changes reach the server in batches, so arrival times jitter by a few
# hundred ms: only a pause of seconds splits typed text from a scan, and Enter ends a code.
FIELD_WEDGE = WedgeConfig(reset_gap=3.0)


class ScanField:
    """A text field a wedge scanner or a person types into; each code goes to `on_code` once."""

    def __init__(self, label: str, on_code: Callable[[str], Awaitable[None]], hint: str = "Scan or type, then Enter",
                 password: bool = False):
        self.on_code = on_code
        self.feed = TextFieldFeed(WedgeReader(FIELD_WEDGE), quiet_before_clear=0.6)
        self._typing_at = 0.0
        self._cleared_to_none = False  # the field starts as ""
        self.field = ft.TextField(
            label=label, hint_text=hint, autofocus=True, password=password,
            hint_style=ft.TextStyle(size=17, color=theme.MUTED), text_size=24, border_width=3,
            focused_border_color=ft.Colors.INDIGO_700, autocorrect=False, enable_suggestions=False,
            content_padding=16, on_change=self._changed, multiline=True, min_lines=1, max_lines=2,
        )
        self._clearing: asyncio.Task | None = None

    async def focus(self) -> None:
        if self.field.visible and self.field.page is not None:
            await self.field.focus()

    # The field is multi-line so that Enter from the scanner is a character in the value,
    # not a submit: a submit would take the focus away until the server gave it back,
    # and the next scan's first keys would be lost. Each change feeds the new characters
    # of the value it carried (e.data); a "\n" ends a code.
    async def _changed(self, e: ft.Event) -> None:
        self._typing_at = time.monotonic()
        await self._handle(self.feed.on_change(_value(e, self.field), self._typing_at))
        if self._clearing is None or self._clearing.done():
            self._clearing = asyncio.get_running_loop().create_task(self._clear_when_quiet())

    async def _handle(self, bursts) -> None:
        for burst in bursts:
            if burst.text.strip():
                await self.on_code(burst.text)

    async def _clear_when_quiet(self) -> None:
        while True:
            await asyncio.sleep(self.feed.quiet_before_clear)
            now = time.monotonic()
            if self.feed.may_clear(now) and now - self._typing_at >= self.feed.quiet_before_clear:
                # Flet diffs against the value it last sent, not what the person typed
                # since: alternate "" and None so every clear differs and is sent.
                self._cleared_to_none = not self._cleared_to_none
                self.field.value = None if self._cleared_to_none else ""  # type: ignore[assignment]
                self.feed.cleared(now)
                if self.field.page is not None:
                    self.field.update()
                return


def _value(e: ft.Event, field: ft.TextField) -> str:
    data = getattr(e, "data", None)
    return data if isinstance(data, str) else field.value or ""


class StepCard:
    """What to do now, big, on amber: the highlighted next step."""

    def __init__(self) -> None:
        self.step = theme.text("", size=15, weight=ft.FontWeight.W_600, color=theme.MUTED)
        self.prompt = theme.text("", size=26, weight=ft.FontWeight.BOLD)
        self.control = theme.card(ft.Column([self.step, self.prompt], spacing=4), bgcolor=theme.CURRENT,
                                  border=ft.Border.all(2, ft.Colors.AMBER_800))

    def show(self, step: str, prompt: str) -> None:
        self.step.value, self.prompt.value = step, prompt


class Banner:
    """Green with a tick for a scan that was taken, red with a cross for one that was refused."""

    def __init__(self) -> None:
        self.icon = ft.Icon(ft.Icons.CHECK_CIRCLE, color=ft.Colors.WHITE, size=36)
        self.text = theme.text("", size=20, weight=ft.FontWeight.W_600, color=ft.Colors.WHITE, expand=True)
        self.control = ft.Container(ft.Row([self.icon, self.text], spacing=12), padding=14, border_radius=10, visible=False)

    def show(self, feedback: Feedback) -> None:
        self.control.visible = True
        self.control.bgcolor = theme.OK if feedback.ok else theme.BAD
        self.icon.icon = ft.Icons.CHECK_CIRCLE if feedback.ok else ft.Icons.CANCEL
        self.text.value = feedback.message if feedback.ok else f"STOP · {feedback.message}"

    def hide(self) -> None:
        self.control.visible = False
