"""Part B's screens on the home screen's queues: "pickups", "returns" and
"tasks" (counts, moves, look-ups and open tasks). `floor_b_screens(app)` is what
`FloorApp.queue_screens` holds; `FlowScreen` is the frame they share: a title
row with Home, the step card, the scan field (kept focused), the banner.

Every decision is a workflow's; these modules only show what it said."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import flet as ft

from edge_app.picking import Feedback
from edge_app.ui import theme
from edge_app.ui.scan_panel import Banner, ScanField, StepCard

__all__ = ["floor_b_screens", "FlowScreen", "Who", "ScanField", "StepCard", "Banner"]


class Who:
    """The person and device a screen acts for: actor id, role, the tab's runtime."""

    def __init__(self, app: Any):
        self.app = app

    @property
    def runtime(self) -> Any:
        shift = getattr(self.app, "shift", None)
        return shift.runtime if shift is not None else self.app.runtime

    @property
    def replica(self) -> Any:
        return self.app.runtime.replica

    @property
    def actor(self) -> str:
        return self.runtime.actor

    @property
    def role(self) -> str | None:
        shift = getattr(self.app, "shift", None)
        operator = shift.operator if shift is not None else None
        return operator.role if operator else None

    @property
    def wide(self) -> bool:
        """Room for two columns: the app centres screens in 9/12 of the page from 768 px
        and 6/12 from 992 px (its MAX_WIDTH_COLS), so measure what the screen gets."""
        page = self.app.page.width or 0
        share = 1.0 if page < 768 else 0.75 if page < 992 else 0.5
        return page * share >= 720

    async def home(self) -> None:
        shift = getattr(self.app, "shift", None)
        if shift is not None:
            shift.show_home()
        else:
            self.app.show_orders()
        self.app.page.update()


def floor_b_screens(app: Any) -> dict[str, Callable[[str], Awaitable[None]]]:
    """Queue key → opener, for the home screen's tiles."""
    from edge_app.ui.pickup_view import PickupView
    from edge_app.ui.return_view import ReturnView
    from edge_app.ui.tasks_view import TasksView

    def opener(cls):
        async def open_screen(_key: str) -> None:
            screen = cls(Who(app))
            app._set_screen(screen)
            app.page.update()
            await screen.focus_scan()
        return open_screen

    return {"pickups": opener(PickupView), "returns": opener(ReturnView), "tasks": opener(TasksView)}


class FlowScreen:
    """Title, step card, scan field and banner; subclasses fill `self.body` and `render()`."""

    title = ""

    def __init__(self, who: Who, scan_label: str = "Scan", hint: str = "Scan or type, then Enter"):
        self.who = who
        self.replica = who.replica
        self._busy = asyncio.Lock()
        self.card, self.banner = StepCard(), Banner()
        self.scan = ScanField(scan_label, self._on_code, hint=hint)
        self.body = ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        self._title = theme.text(self.title, size=24, weight=ft.FontWeight.BOLD, expand=True)
        # Home and Sign out live in the shift bar above every screen.
        self.control = ft.Column(spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        self._wide: bool | None = None
        self.arrange()

    def arrange(self) -> None:
        """Handheld: one column. Terminal (wide page): what to do and the scan field on
        the left, the lists on the right. Rebuilt only when the layout changes."""
        wide = self.who.wide
        if wide == self._wide:
            return
        self._wide = wide
        panel = [self.card.control, self.scan.field, self.banner.control]
        if wide:
            self.control.controls = [self._title, ft.Row(
                [ft.Column(panel, spacing=12, expand=5, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
                 ft.Column([self.body], expand=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)],
                vertical_alignment=ft.CrossAxisAlignment.START, spacing=20)]
        else:
            self.control.controls = [self._title, *panel, self.body]

    # -- for subclasses ----------------------------------------------------------
    def render(self) -> None:
        """Re-read the workflow into the controls."""

    def on_code(self, code: str) -> Feedback | None:
        """A scan or a typed code arrived (runs off the event loop; change state, return what to say)."""
        return None

    def refresh_from_sync(self) -> None:
        """New hub state arrived."""
        self.render()

    async def act(self, action: Callable[[], Feedback | None]) -> None:
        """Run one workflow call off the event loop, then show what it said."""
        async with self._busy:
            before = self.replica.get_meta("next_seq")
            feedback = await asyncio.to_thread(action)
            recorded = self.replica.get_meta("next_seq") != before
        self.show(feedback)
        if recorded:
            self.who.runtime.recorded()
        await self.update()

    def show(self, feedback: Feedback | None) -> None:
        if feedback is not None:
            self.banner.show(feedback)
        self.arrange()
        self.render()

    async def update(self) -> None:
        if self.control.page is not None:
            self.control.update()
        await self.focus_scan()

    async def focus_scan(self) -> None:
        """Keep the scan field focused, so a wedge scanner's keystrokes land in it."""
        await self.scan.focus()

    def dialog(self, title: str, controls: list[ft.Control], actions: list[ft.Control] | None = None) -> None:
        page = self.control.page
        page.show_dialog(ft.AlertDialog(
            modal=True, title=theme.text(title, size=22, weight=ft.FontWeight.BOLD),
            content=ft.Column(controls, tight=True, spacing=10, scroll=ft.ScrollMode.AUTO),
            actions=actions or [theme.big_button("Cancel", self._close_dialog, kind="outlined")],
        ))

    async def _close_dialog(self, _e: ft.Event | None = None) -> None:
        self.control.page.pop_dialog()
        await self.focus_scan()

    # -- wiring ------------------------------------------------------------------
    async def _on_code(self, code: str) -> None:
        await self.act(lambda: self.on_code(code))


def number_field(label: str, value: int | None = None, width: int = 120) -> ft.TextField:
    return ft.TextField(label=label, value="" if value is None else str(value), width=width, text_size=22,
                        keyboard_type=ft.KeyboardType.NUMBER, input_filter=ft.NumbersOnlyInputFilter(), content_padding=14)


def read_int(field: ft.TextField) -> int | None:
    value = (field.value or "").strip()
    return int(value) if value.isdigit() else None
