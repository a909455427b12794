"""One person's shift on a tab of the floor app: sign-in (when the hub has sent
this location's operators), the home screen with the role's queues, the batch
pick and pack screens, resuming saved work after a restart, sign-out, and the
idle timeout (BACKROOM_IDLE_TIMEOUT seconds, default 300; 0 turns it off).

Ops recorded on this tab carry the signed-in operator's id as their actor."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import flet as ft

from edge_app import wip
from edge_app.batch_picking import BatchPickSession
from edge_app.packing import PackSession
from edge_app.picking import Feedback
from edge_app.signin import DEFAULT_IDLE_SECONDS, IdleTimer, Operator, operators_known
from edge_app.ui import theme
from edge_app.ui.batch_view import BatchView
from edge_app.ui.home_view import HomeView
from edge_app.ui.pack_view import PackView
from edge_app.ui.scan_panel import WIDE_AT
from edge_app.ui.signin_view import SignInView

__all__ = ["Shift", "TabRuntime", "idle_seconds"]

MAX_WIDTH_COLS = {"xs": 12, "md": 9, "lg": 6}  # the app's readable column (edge_app.ui.app)


def idle_seconds() -> float:
    try:
        return float(os.environ.get("BACKROOM_IDLE_TIMEOUT", DEFAULT_IDLE_SECONDS))
    except ValueError:
        return DEFAULT_IDLE_SECONDS


class TabRuntime:
    """The shared runtime as one tab sees it: its actor is the operator signed in there."""

    def __init__(self, runtime: Any, shift: "Shift"):
        self._runtime = runtime
        self._shift = shift

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    @property
    def actor(self) -> str:
        operator = self._shift.operator
        return operator.operator_id if operator else self._runtime.actor

    def recorded(self) -> None:
        self._shift.touch()
        self._runtime.recorded()

    def touch(self) -> None:
        """The person did something: the idle timeout starts again."""
        self._shift.touch()


class Shift:
    """Part A's navigation on one `FloorApp` tab."""

    def __init__(self, app: Any):
        self.app = app
        self.operator: Operator | None = None
        self.timer = IdleTimer(idle_seconds(), time.monotonic())
        self.runtime = TabRuntime(app.runtime, self)
        self._who = theme.text("", size=16, weight=ft.FontWeight.W_600, color=ft.Colors.WHITE, expand=True)
        self.bar = ft.Container(ft.Row([
            ft.Icon(ft.Icons.BADGE, color=ft.Colors.WHITE), self._who,
            ft.TextButton("Home", icon=ft.Icons.HOME, on_click=self._on_home, height=44,
                          style=ft.ButtonStyle(color=ft.Colors.WHITE, text_style=ft.TextStyle(size=17))),
            ft.TextButton("Sign out", icon=ft.Icons.LOGOUT, on_click=self._on_sign_out, height=44,
                          style=ft.ButtonStyle(color=ft.Colors.WHITE, text_style=ft.TextStyle(size=17))),
        ], spacing=8), bgcolor=ft.Colors.INDIGO_900, padding=ft.Padding.symmetric(horizontal=12, vertical=2), visible=False)
        self._watch: asyncio.Task | None = None

    @property
    def wide(self) -> bool:
        return (self.app.page.width or 0) >= WIDE_AT

    # -- entering -----------------------------------------------------------------------
    async def start(self) -> None:
        """Sign-in if this location has operators, else straight to the orders (as before operators existed)."""
        page = self.app.page
        page.on_keyboard_event = lambda _e: self.touch()
        page.on_resize = self._on_resize
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watch_idle(), name="backroom-idle-timeout")
        if operators_known(self.app.runtime.replica):
            self.show_sign_in()
        else:
            self.app.show_orders()

    def show_sign_in(self, note: str = "") -> None:
        self.operator = None
        self.bar.visible = False
        self.show(SignInView(self.app.runtime.replica, self._signed_in, note=note))

    async def _signed_in(self, operator: Operator) -> None:
        self.operator = operator
        self.touch()
        self._who.value = f"{operator.name} ({operator.role})"
        self.bar.visible = True
        if not self._resume():
            self.show_home()
        self.app.page.update()

    def _resume(self) -> bool:
        """Open the operator's saved batch or carton at the step they left it."""
        replica, who = self.app.runtime.replica, self.operator.operator_id
        flow = wip.latest(replica, who)
        state = wip.load(replica, who, flow) if flow else None
        if state is None:
            return False
        try:
            if flow == "batch":
                view = BatchView(self.runtime, who, self._home, self.wide, BatchPickSession.restore(replica, state, who))
            else:
                session = PackSession.restore(replica, state, who)
                if session is None:
                    raise LookupError(state.get("order_id"))
                view = PackView(self.runtime, who, self._home, self.wide, session)
        except (LookupError, ValueError, KeyError):
            wip.clear(replica, who, flow)  # its orders are gone from this device's view
            return False
        view.banner.show(Feedback(True, f"Welcome back, {self.operator.name}. Carry on where you left off.", "resume"))
        self.show(view)
        return True

    # -- moving around ------------------------------------------------------------------
    def show(self, view: Any) -> None:
        """Put a part-A screen up; a terminal-layout screen gets the page's full width."""
        self.app._set_screen(view)
        self._fit(getattr(view, "wide", False))

    def _fit(self, full_width: bool) -> None:
        holder = self.app.body.parent
        if isinstance(holder, ft.Container):
            holder.col = {"xs": 12} if full_width else MAX_WIDTH_COLS

    def show_home(self) -> None:
        if self.operator is None:
            self.app.show_orders()
            return
        view = HomeView(self.app.runtime.replica, self.operator, self.open_queue, self.wide)
        view.refresh()
        self.show(view)

    async def _home(self) -> None:
        self.show_home()
        self.app.page.update()

    async def open_queue(self, key: str) -> None:
        self.touch()
        who = self.operator.operator_id if self.operator else self.app.runtime.actor
        self._fit(False)  # other screens keep the app's readable column
        if key == "pick":
            self.app.show_orders()
        elif key == "batch":
            self.show(BatchView(self.runtime, who, self._home, self.wide))
        elif key == "pack":
            self.show(PackView(self.runtime, who, self._home, self.wide))
        elif key in getattr(self.app, "queue_screens", {}):
            await self.app.queue_screens[key](key)
        else:
            self.app.page.show_dialog(ft.SnackBar(theme.text("That queue is not on this device yet.", size=18, color=ft.Colors.WHITE)))
        self.app.page.update()

    def after_sync(self, screen: Any) -> None:
        """New hub state arrived: refresh part A's screens (an open session keeps its place)."""
        if isinstance(screen, HomeView):
            screen.refresh()
        elif isinstance(screen, (BatchView, PackView)):
            screen.render()

    # -- leaving ------------------------------------------------------------------------
    def touch(self) -> None:
        self.timer.touch(time.monotonic())

    async def sign_out(self, note: str = "") -> None:
        screen = self.app.screen
        if isinstance(screen, (BatchView, PackView)):
            screen.save()
        self.show_sign_in(note)
        self.app.page.update()

    async def _on_sign_out(self, _e: ft.Event) -> None:
        await self.sign_out("Signed out. Your open work is saved for your next sign-in.")

    async def _on_home(self, _e: ft.Event) -> None:
        self.touch()
        await self._home()

    async def _watch_idle(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, max(self.timer.timeout / 4, 0.5)))
            if self.operator is not None and self.timer.expired(time.monotonic()):
                minutes = self.timer.timeout / 60
                try:
                    await self.sign_out(f"Signed out after {minutes:g} min without activity. Your open work is saved.")
                except Exception:  # noqa: BLE001 - a closed tab: stop watching
                    return

    def _on_resize(self, _e: Any) -> None:
        """Switch between the handheld and the terminal layout when the page crosses WIDE_AT."""
        screen = self.app.screen
        if isinstance(screen, (BatchView, PackView, HomeView)) and screen.wide != self.wide:
            screen.wide = self.wide
            screen.refresh() if isinstance(screen, HomeView) else screen.render()
            self.show(screen)
            self.app.page.update()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()

