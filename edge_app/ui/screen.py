"""The one frame every floor screen is built on, and `Who`, what a screen acts for.

A screen is: a title row, the step card that says what to do now, the scan field
(kept focused, so a wedge scanner's keystrokes land in it), the green/red banner,
the screen's actions (`self.actions`), and its lists (`self.body`). On a handheld
these stack in one column; on a wide terminal what to do and the scan field sit on
the left and the lists on the right.

Screens never import each other: they ask `who.nav` (edge_app.ui.navigation) to open
another one. Every decision is a workflow's; a screen only shows what it said."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

import flet as ft

from edge_app.errors import StorageFull
from edge_app.ui import theme
from edge_app.ui.scan_panel import WIDE_AT, Banner, ScanField, StepCard
from edge_app.workflows.feedback import Feedback

__all__ = ["Screen", "Who", "number_field", "read_int", "MAX_WIDTH_COLS", "FULL_WIDTH"]

# The app's readable column on a desktop, and the whole width (a terminal's two panes).
# Every breakpoint named: a change of `col` reaches the page as a patch of the keys it holds.
MAX_WIDTH_COLS: dict[str | ft.ResponsiveRowBreakpoint, int | float] = {"xs": 12, "sm": 12, "md": 9, "lg": 6, "xl": 6, "xxl": 6}
FULL_WIDTH: dict[str | ft.ResponsiveRowBreakpoint, int | float] = {"xs": 12, "sm": 12, "md": 12, "lg": 12, "xl": 12, "xxl": 12}

log = logging.getLogger(__name__)


class Who:
    """The person and device a screen acts for on one tab: the tab's runtime (its
    actor is the signed-in operator), the replica, the operator's role, the layout,
    and the navigator that opens other screens."""

    def __init__(self, app: Any):
        self.app = app

    @property
    def nav(self) -> Any:
        return self.app.nav

    @property
    def runtime(self) -> Any:
        return self.app.nav.runtime

    @property
    def replica(self) -> Any:
        return self.app.runtime.replica

    @property
    def actor(self) -> str:
        return str(self.runtime.actor)

    @property
    def role(self) -> str | None:
        operator = self.app.nav.operator
        return operator.role if operator else None

    @property
    def operator_id(self) -> str:
        operator = self.app.nav.operator
        return operator.operator_id if operator else self.actor

    @property
    def wide(self) -> bool:
        """A terminal's page (from WIDE_AT px): screens use the whole width in two panes."""
        return (self.app.page.width or 0) >= WIDE_AT


class Screen:
    """Title, step card, scan field, banner, actions and lists; subclasses fill
    `self.actions` and `self.body` in `render()` and answer scans in `on_code()`."""

    title = ""
    scan_label: str | None = "Scan"  # None: a screen with nothing to scan (home, lists)
    scan_hint = "Scan or type, then Enter"
    two_panes = True  # False: one readable column at any width (sign-in, home, lists)

    def __init__(self, who: Who):
        self.who = who
        self.replica = who.replica
        self._busy = asyncio.Lock()
        self.card, self.banner = StepCard(), Banner()
        self.scan = ScanField(self.scan_label, self._on_code, hint=self.scan_hint,
                              on_problem=self._on_scan_problem) if self.scan_label else None
        self.actions = ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        self.body = ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        self.heading = theme.text(self.title, size=24, weight=ft.FontWeight.BOLD)
        self.subheading = theme.text("", size=16, color=theme.MUTED, visible=False)
        self.control = ft.Column(spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        self.wide = who.wide
        self._arranged: bool | None = None
        self.card.control.visible = False  # shown by the first card.show()

    # -- layout --------------------------------------------------------------------
    def panel(self) -> list[ft.Control]:
        """What to do: the left pane on a terminal, the top of the column on a handheld."""
        scan = [self.scan.field] if self.scan else []
        return [self.card.control, *scan, self.banner.control, self.actions]

    def arrange(self) -> None:
        """Lay the screen out once per layout: rebuilding it takes the focus off the scan field."""
        self.card.control.visible = bool(self.card.prompt.value)
        if self._arranged == self.wide:
            return
        self._arranged = self.wide
        head = ft.Column([self.heading, self.subheading], spacing=0)
        if self.wide and self.two_panes:
            self.control.controls = [head, ft.Row(
                [ft.Column(self.panel(), spacing=12, expand=5, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
                 ft.Column([self.body], expand=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)],
                vertical_alignment=ft.CrossAxisAlignment.START, spacing=20)]
        else:
            self.control.controls = [head, *self.panel(), self.body]

    def relayout(self, wide: bool) -> None:
        """The page crossed WIDE_AT: switch between the handheld and the terminal layout."""
        self.wide = wide
        self.render()
        self.arrange()

    # -- for subclasses --------------------------------------------------------------
    def render(self) -> None:
        """Re-read the workflow into the controls."""

    def on_code(self, code: str) -> Feedback | None:
        """A scan or a typed code arrived (runs off the event loop; change state, return what to say)."""
        return None

    def refresh_from_sync(self) -> None:
        """New hub state arrived."""
        self.render()
        self.arrange()

    def save(self) -> None:
        """Keep open work in the replica (signing out, the idle timeout): nothing by default."""

    # -- doing -----------------------------------------------------------------------
    async def act(self, action: Callable[[], Feedback | None]) -> None:
        """Run one workflow call off the event loop, then show what it said."""
        async with self._busy:
            before = self.replica.get_meta("next_seq")
            feedback = await asyncio.to_thread(_guarded, action)
            recorded = self.replica.get_meta("next_seq") != before
        self.who.runtime.touch()
        if recorded:
            self.who.runtime.recorded()
        self.show(feedback)
        self.save()
        await self.update()

    def show(self, feedback: Feedback | None) -> None:
        if feedback is not None:
            self.banner.show(feedback)
        self.render()
        self.arrange()

    async def update(self) -> None:
        if self.control.page is not None:
            self.control.update()
        await self.focus_scan()

    async def focus_scan(self) -> None:
        """Keep the scan field focused, so a wedge scanner's keystrokes land in it."""
        if self.scan is not None:
            await self.scan.focus()

    def dialog(self, title: str, controls: list[ft.Control], actions: list[ft.Control] | None = None) -> None:
        page = self.control.page
        page.show_dialog(ft.AlertDialog(
            modal=True, title=theme.text(title, size=22, weight=ft.FontWeight.BOLD),
            content=ft.Column(controls, tight=True, spacing=10, scroll=ft.ScrollMode.AUTO),
            actions=actions or [theme.big_button("Cancel", self.close_dialog, kind="outlined")],
        ))

    async def close_dialog(self, _e: ft.Event | None = None) -> None:
        self.control.page.pop_dialog()
        await self.focus_scan()

    async def _on_code(self, code: str) -> None:
        await self.act(lambda: self.on_code(code))

    async def _on_scan_problem(self, problem: str) -> None:
        """A scan cut short, or typing run into one: nothing was read, say so."""
        self.banner.show(Feedback(False, problem[:1].upper() + problem[1:], "scan"))
        await self.update()


def _guarded(action: Callable[[], Feedback | None]) -> Feedback | None:
    """A workflow bug must not leave a person with a frozen screen: say so instead.
    What the action wrote is one transaction, rolled back when it raised."""
    try:
        return action()
    except StorageFull as exc:  # the handheld's disk: its sentence says what to do, nothing was lost
        log.warning("a floor action found the replica's disk full: %s", exc.__cause__)
        return Feedback(False, str(exc), "error")
    except Exception as exc:  # noqa: BLE001 - the screen's last line of defence; logged
        log.exception("a floor action failed")
        return Feedback(False, f"That did not work ({type(exc).__name__}: {str(exc)[:120]}). Nothing of it was saved; "
                               "try again, or tell your supervisor.", "error")


def number_field(label: str, value: int | None = None, width: int = 120) -> ft.TextField:
    return ft.TextField(label=label, value="" if value is None else str(value), width=width, text_size=22,
                        keyboard_type=ft.KeyboardType.NUMBER, input_filter=ft.NumbersOnlyInputFilter(), content_padding=14)


def read_int(field: ft.TextField) -> int | None:
    value = (field.value or "").strip()
    return int(value) if value.isdigit() else None
