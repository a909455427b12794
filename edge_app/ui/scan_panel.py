"""Pieces every scanning screen shares: the scan field read through
`devices.scan_field.FieldReader` (a scan is read whole and once whatever the network's
round trip), the step card that says what to do next, and the green/red banner.

The field is multi-line so that Enter from the scanner is a character in the value,
not a submit: a submit would take the focus away until the server gave it back, and
the next scan's first keys would be lost. Each change event carries the whole value;
the reader turns the values into scans. A clear does not empty the field: it sets an
invisible mark, so every later value says which clear it follows (docs/scanning.md)."""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

import flet as ft

from devices.scan_field import FieldConfig, FieldReader
from devices.wedge import Burst
from edge_app.ui import theme
from edge_app.workflows.feedback import Feedback

__all__ = ["ScanField", "StepCard", "Banner", "WIDE_AT"]

WIDE_AT = 900  # px of page width from which a screen uses the terminal layout
_TICK_S = 0.15  # how often held scans are released and a clear is considered
_STALL_S = 0.05  # a tick this late means the event loop was held up (see FieldReader.stalled)


class ScanField:
    """A text field a wedge scanner or a person types into; each code goes to `on_code` once.
    A scan cut short (or typing run into one) goes to `on_problem` with what to do."""

    def __init__(self, label: str, on_code: Callable[[str], Awaitable[None]], hint: str = "Scan or type, then Enter",
                 password: bool = False, on_problem: Callable[[str], Awaitable[None]] | None = None):
        self.on_code = on_code
        self.on_problem = on_problem
        self.reader = FieldReader(FieldConfig())
        # The field always holds a mark, so a hint_text would never show: the hint sits below it.
        self.field = ft.TextField(
            label=label, helper=hint, value=self.reader.initial_value, autofocus=True, password=password,
            helper_style=ft.TextStyle(size=15, color=theme.MUTED), text_size=24, border_width=3,
            focused_border_color=ft.Colors.INDIGO_700, autocorrect=False, enable_suggestions=False,
            content_padding=16, on_change=self._changed, multiline=True, min_lines=1, max_lines=2,
        )
        self._ticking: asyncio.Task | None = None
        self._due: float | None = None  # when the ticker should next run (None: not waiting)

    async def focus(self) -> None:
        if self.field.visible and self.field.page is not None:
            await self.field.focus()

    def connection_lost(self) -> None:
        """The page lost its connection: what was typed meanwhile may be gone."""
        self.reader.connection_lost(time.monotonic())

    async def _changed(self, e: ft.Event) -> None:
        now = time.monotonic()
        self._note_stall(now)  # before the change is read: it may be one of the keys that queued
        await self._handle(self.reader.on_change(_value(e, self.field), now))
        if self._ticking is None or self._ticking.done():
            self._ticking = asyncio.get_running_loop().create_task(self._tick())

    def _note_stall(self, now: float) -> None:
        """The ticker was due a while ago and has not run: the event loop was held up
        (a busy handheld or server), and keys that came meanwhile arrive bunched."""
        if self._due is not None and now - self._due > _STALL_S:
            self.reader.stalled(self._due, now)
            self._due = now

    async def _handle(self, bursts: list[Burst]) -> None:
        for burst in bursts:
            if not burst.complete:
                if self.on_problem is not None:
                    await self.on_problem(burst.problem or "That scan was cut short. Scan it again.")
            elif burst.text.strip():
                await self.on_code(burst.text)

    async def _tick(self) -> None:
        """While the field is on the page: release held scans and clear it when quiet."""
        while self.field.page is not None:
            self._due = time.monotonic() + _TICK_S
            await asyncio.sleep(_TICK_S)
            now = time.monotonic()
            self._note_stall(now)
            self._due = None
            await self._handle(self.reader.flush(now))
            mark = self.reader.clear_value(now)
            if mark is not None:
                self.field.value = mark
                self.field.update()
            if now - self.reader.last_change_at > 30:  # idle: the next change starts the ticker again
                return


def _value(e: ft.Event, field: ft.TextField) -> str:
    """The value the change carried, marks and all (they say which clear it follows)."""
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
