"""The floor app as a web app: one process serves every browser tab from one
replica and one background sync loop; each tab gets its own screens.

    backroom edge serve --data-dir DIR --port 8550   →   edge_app.ui.app.serve()"""

from __future__ import annotations

import asyncio
import os

import flet as ft

from edge_app.picking import OrderSummary
from edge_app.process import settle_after_start
from edge_app.sync_loop import SyncStatus
from edge_app.ui import theme
from edge_app.ui.enroll_view import EnrollView
from edge_app.ui.floor_b import FlowScreen, floor_b_screens
from edge_app.ui.issues_view import IssuesView
from edge_app.ui.orders_view import OrdersView
from edge_app.ui.pick_view import PickView
from edge_app.ui.runtime import FloorRuntime
from edge_app.ui.shift import Shift
from edge_app.ui.status_bar import StatusBar

__all__ = ["serve", "FloorApp"]

MAX_WIDTH_COLS = {"xs": 12, "md": 9, "lg": 6}


def serve(data_dir: str, host: str = "127.0.0.1", port: int = 8550, sync_interval: float = 5.0) -> None:
    """Serve the floor app at http://host:port until Ctrl-C or SIGTERM."""
    # A server never opens a browser window of its own, desktop or not.
    os.environ.setdefault("FLET_FORCE_WEB_SERVER", "true")
    asyncio.run(_serve(data_dir, host, port, sync_interval))


async def _serve(data_dir: str, host: str, port: int, sync_interval: float) -> None:
    runtime = FloorRuntime(data_dir, sync_interval)
    settle_after_start()
    runtime.start_sync()
    ticker = asyncio.create_task(runtime.tick(), name="backroom-status-ticker")

    async def main(page: ft.Page) -> None:
        await FloorApp(runtime, page).start()

    try:
        await ft.run_async(main, name="", host=host, port=port, view=ft.AppView.WEB_BROWSER, no_cdn=True)
    finally:
        ticker.cancel()
        await runtime.stop()


class FloorApp:
    """One browser tab: the status bar on top and one screen below it."""

    def __init__(self, runtime: FloorRuntime, page: ft.Page):
        self.runtime = runtime
        self.page = page
        self.body = ft.Container(padding=ft.Padding.symmetric(horizontal=12, vertical=12))
        self.status_bar = StatusBar(on_sync_now=self._on_sync_now, on_issues=self._on_issues)
        self.screen: OrdersView | PickView | IssuesView | None = None
        self._unsubscribe = None
        self._last_sync = None
        self._issues = 0
        self.queue_screens = floor_b_screens(self)  # pickups, returns, counts and tasks
        self.shift = Shift(self)  # sign-in, home, batch pick, packing, idle timeout

    async def start(self) -> None:
        page = self.page
        page.title = "Backroom · floor"
        page.theme_mode = ft.ThemeMode.LIGHT
        page.theme = ft.Theme(color_scheme_seed=ft.Colors.INDIGO)
        page.bgcolor = ft.Colors.BLUE_GREY_50
        page.padding = 0
        if not self.runtime.enrolled:
            page.add(self._centered(ft.Container(EnrollView(self.runtime.data_dir, self._on_check_enrolled).control,
                                                 padding=16)))
            return
        page.add(ft.Column([self.status_bar.control, self.shift.bar,
                            ft.Column([self._centered(self.body)], scroll=ft.ScrollMode.AUTO, expand=True)],
                           spacing=0, expand=True))
        # A tab that went away stops listening; coming back, it listens again.
        page.on_connect = lambda _e: self._subscribe()
        page.on_disconnect = lambda _e: self._stop_listening()
        page.on_close = lambda _e: (self._stop_listening(), self.shift.stop())
        self._subscribe()
        self._issues = len(self.runtime.rejections())
        self._show_status(self.runtime.board.status)
        await self.shift.start()
        page.update()

    # -- screens ------------------------------------------------------------------
    def show_orders(self) -> None:
        view = OrdersView(self.runtime.replica, self._open_order)
        view.refresh()
        self._set_screen(view)

    def _open_order(self, order: OrderSummary) -> None:
        self._set_screen(PickView(self.shift.runtime, order, on_back=self._back_to_orders))
        self.page.update()

    async def _back_to_orders(self) -> None:
        self.show_orders()
        self.page.update()

    def _set_screen(self, screen: OrdersView | PickView | IssuesView) -> None:
        self.screen = screen
        self.body.content = screen.control

    def _centered(self, control: ft.Control) -> ft.Control:
        """Full width on a handheld, a readable column on a desktop."""
        return ft.ResponsiveRow([ft.Container(control, col=MAX_WIDTH_COLS)], alignment=ft.MainAxisAlignment.CENTER)

    # -- status -------------------------------------------------------------------
    def _subscribe(self) -> None:
        self._stop_listening()
        self._unsubscribe = self.runtime.board.subscribe(self._on_status)

    def _stop_listening(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_status(self, status: SyncStatus) -> None:
        report = status.last_report
        if status.last_sync_at != self._last_sync and report and (report.pushed or report.pulled):
            self._after_sync()
        self._last_sync = status.last_sync_at
        self._show_status(status)
        self.page.update()

    def _show_status(self, status: SyncStatus) -> None:
        self.status_bar.show(status, issues=self._issues)

    def _after_sync(self) -> None:
        """New hub state arrived: lists on screen and the hub's answers may have changed."""
        self._issues = len(self.runtime.rejections())
        if isinstance(self.screen, OrdersView):
            self.screen.refresh()
        elif isinstance(self.screen, PickView):
            self.screen.render()
        elif isinstance(self.screen, IssuesView):
            self.screen.refresh()
        elif isinstance(self.screen, FlowScreen):
            self.screen.refresh_from_sync()
        else:
            self.shift.after_sync(self.screen)

    async def _on_sync_now(self, _e: ft.Event) -> None:
        self.runtime.sync_now()

    async def _on_issues(self, _e: ft.Event) -> None:
        view = IssuesView(self.runtime.rejections, on_back=self._back_to_orders, health=self.runtime.health_lines)
        view.refresh()
        self._set_screen(view)

    async def _on_check_enrolled(self, _e: ft.Event) -> None:
        if self.runtime.enrolled and self.runtime.start_sync():
            self.page.clean()
            await self.start()
            return
        self.page.show_dialog(ft.SnackBar(theme.text("Still not enrolled. Run `backroom edge enroll` first.",
                                                     size=18, color=ft.Colors.WHITE)))
