"""Navigation on one tab of the floor app, and the only module that imports screens.

One person's shift: sign-in (when the hub has sent this location's operators), the
home screen with the role's queues, every queue's screen, going back, resuming saved
work after a restart, sign-out, and the idle timeout (BACKROOM_IDLE_TIMEOUT seconds,
default 300; 0 turns it off). Screens open each other through `open(key, …)`.

Ops recorded on this tab carry the signed-in operator's id as their actor."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Awaitable, Callable

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import FULL_WIDTH, MAX_WIDTH_COLS, Screen, Who
from edge_app.ui.screens.count import CountView
from edge_app.ui.screens.enroll import enroll_panel
from edge_app.ui.screens.home import HomeView
from edge_app.ui.screens.issues import IssuesView
from edge_app.ui.screens.orders import OrdersView
from edge_app.ui.screens.pack import PackView
from edge_app.ui.screens.pick import BatchView, PickView
from edge_app.ui.screens.pickup import PickupView
from edge_app.ui.screens.quick_order import QuickOrderView
from edge_app.ui.screens.receive import ReceiveView
from edge_app.ui.screens.returns import ReturnView
from edge_app.ui.screens.sign_in import SignInView
from edge_app.ui.screens.stock import MoveView, StockView
from edge_app.ui.screens.tasks import TasksView
from edge_app.workflows import wip
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.signin import DEFAULT_IDLE_SECONDS, IdleTimer, Operator, operators_known, sign_out

__all__ = ["Navigator", "TabRuntime", "idle_seconds", "enroll_screen", "SCREENS"]

# Queue or screen key → how to build it. `pick` takes the order to pick.
SCREENS: dict[str, Callable[..., Screen]] = {
    "home": HomeView,
    "orders": OrdersView,
    "pick": PickView,
    "batch": BatchView,
    "pack": PackView,
    "pickups": PickupView,
    "returns": ReturnView,
    "tasks": TasksView,
    "stock": StockView,
    "move": MoveView,
    "count": CountView,
    "issues": IssuesView,
    "quick": QuickOrderView,
    "receive": ReceiveView,  # receiving
}


# Saved work (edge_app.workflows.wip flow) → the screen that resumes it.
RESUMES: dict[str, Callable[..., Screen]] = {"pick": PickView.resume, "batch": BatchView.resume, "pack": PackView.resume}


def enroll_screen(data_dir: str, on_check: Callable[[ft.Event | None], Awaitable[None]]) -> ft.Control:
    """What a device that is not enrolled shows instead of the app."""
    return enroll_panel(data_dir, on_check)


def idle_seconds() -> float:
    try:
        return float(os.environ.get("BACKROOM_IDLE_TIMEOUT", DEFAULT_IDLE_SECONDS))
    except ValueError:
        return DEFAULT_IDLE_SECONDS


class TabRuntime:
    """The shared runtime as one tab sees it: its actor is the operator signed in there."""

    def __init__(self, runtime: Any, nav: "Navigator"):
        self._runtime = runtime
        self._nav = nav

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    @property
    def actor(self) -> str:
        operator = self._nav.operator
        return operator.operator_id if operator else self._runtime.actor

    def recorded(self) -> None:
        self._nav.touch()
        self._runtime.recorded()

    def touch(self) -> None:
        """The person did something: the idle timeout starts again."""
        self._nav.touch()


class Navigator:
    """Which screen one `FloorApp` tab shows, and who is signed in on it."""

    def __init__(self, app: Any):
        self.app = app
        self.operator: Operator | None = None
        self.screen: Any = None
        self.timer = IdleTimer(idle_seconds(), time.monotonic())
        self.runtime = TabRuntime(app.runtime, self)
        self.who = Who(app)
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
    def page(self) -> ft.Page:
        return self.app.page

    # -- entering -----------------------------------------------------------------------
    async def start(self) -> None:
        """Sign-in if this location has operators, else straight to the orders (as before operators existed)."""
        self.page.on_keyboard_event = lambda _e: self.touch()
        self.page.on_resize = self._on_resize
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watch_idle(), name="backroom-idle-timeout")
        if operators_known(self.app.runtime.replica):
            self.show_sign_in()
        elif self.app.runtime.replica.get_meta("role") == "terminal":
            self.show(QuickOrderView(self.who))
        else:
            self.show(OrdersView(self.who))

    def show_sign_in(self, note: str = "") -> None:
        if self.operator is not None:  # their session ends: ops from now on need a new sign-in
            sign_out(self.app.runtime.replica, self.operator.operator_id)
        self.operator = None
        self.bar.visible = False
        self.show(SignInView(self.who, self._signed_in, note=note))

    async def _signed_in(self, operator: Operator) -> None:
        self.operator = operator
        self.touch()
        self._who.value = f"{operator.name} ({operator.role})"
        self.bar.visible = True
        self.app.count_issues()  # this operator's, not the previous one's
        if not self._resume():
            self.show(HomeView(self.who))
        self.page.update()
        await self._focus()

    def _resume(self) -> bool:
        """Open the operator's saved walk or carton at the step they left it."""
        operator = self.operator
        assert operator is not None  # called once signed in
        replica, who = self.app.runtime.replica, operator.operator_id
        flow = wip.latest(replica, who)
        state = wip.load(replica, who, flow) if flow else None
        if flow is None or state is None:
            return False
        try:
            view = RESUMES[flow](self.who, state)
        except (LookupError, ValueError, KeyError, TypeError):
            wip.clear(replica, who, flow)  # its orders are gone from this device's view
            return False
        view.show(Feedback(True, f"Welcome back, {operator.name}. Carry on where you left off.", "resume"))
        self.show(view)
        return True

    def issues_of(self) -> str | None:
        """Whose refusals and follow-ups this tab shows: the operator's own; a supervisor,
        and a device without operators, see every one."""
        if self.operator is None or self.operator.role == "supervisor":
            return None
        return self.operator.operator_id

    # -- moving around ------------------------------------------------------------------
    def show(self, screen: Any) -> None:
        """Put a screen up; on a terminal a two-pane screen gets the page's full width."""
        self.screen = screen
        self.app.body.content = screen.control
        self.app.fit(FULL_WIDTH if self.who.wide and screen.two_panes else MAX_WIDTH_COLS)

    async def open(self, key: str, *args: Any, feedback: Feedback | None = None) -> None:
        """Open the screen `key` (a home-screen queue, or another screen), then update the page."""
        self.touch()
        if key == "home" and self.operator is None:
            key = "orders"  # a device without operators has no home screen
        build = SCREENS.get(key)
        if build is None:
            self.page.show_dialog(ft.SnackBar(theme.text("That queue is not on this device yet.", size=18,
                                                         color=ft.Colors.WHITE)))
            self.page.update()
            return
        screen = build(self.who, *args)
        if feedback is not None:
            screen.show(feedback)
        self.show(screen)
        self.page.update()
        await self._focus()

    async def home(self) -> None:
        await self.open("home")

    def after_sync(self) -> None:
        """New hub state arrived: the screen re-reads it (an open session keeps its place)."""
        if self.screen is not None:
            self.screen.refresh_from_sync()

    async def _focus(self) -> None:
        focus = getattr(self.screen, "focus_scan", None)
        if focus is not None:
            await focus()

    # -- leaving ------------------------------------------------------------------------
    def touch(self) -> None:
        self.timer.touch(time.monotonic())

    async def sign_out(self, note: str = "") -> None:
        if self.screen is not None:
            self.screen.save()
        self.show_sign_in(note)
        self.app.count_issues()
        self.page.update()
        await self._focus()

    async def _on_sign_out(self, _e: ft.Event) -> None:
        await self.sign_out("Signed out. Your open work is saved for your next sign-in.")

    async def _on_home(self, _e: ft.Event) -> None:
        if self.screen is not None:
            self.screen.save()
        await self.home()

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
        screen = self.screen
        if screen is not None and screen.wide != self.who.wide:
            screen.relayout(self.who.wide)
            self.show(screen)
            self.page.update()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
