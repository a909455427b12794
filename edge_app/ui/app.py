"""The floor app: as a web app one process serves every browser tab from one replica
and one background sync loop (each tab gets its own screens); as a native app (a
`flet build` of packaging/floor-app) the same, in the device's own window.

    backroom edge serve --data-dir DIR --port 8550   →   edge_app.ui.app.serve()
    packaging/floor-app/src/main.py                   →   edge_app.ui.app.run_native()"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Any, Callable

import flet as ft

from edge_app.process import settle_after_start
from edge_app.sync_loop import SyncStatus
from edge_app.ui import theme
from edge_app.ui.navigation import Navigator, enroll_screen
from edge_app.ui.runtime import FloorRuntime
from edge_app.ui.screen import MAX_WIDTH_COLS
from edge_app.ui.status_bar import StatusBar, after_sync_now

__all__ = ["serve", "run_native", "FloorApp"]


def serve(data_dir: str, host: str = "127.0.0.1", port: int = 8550, sync_interval: float = 5.0) -> None:
    """Serve the floor app at http://host:port until Ctrl-C or SIGTERM."""
    # A server never opens a browser window of its own, desktop or not.
    os.environ.setdefault("FLET_FORCE_WEB_SERVER", "true")
    asyncio.run(_serve(data_dir, host, port, sync_interval))


def run_native(data_dir: str, sync_interval: float = 5.0) -> None:
    """Run the floor app in the device's own window (a `flet build` app: Android, iOS,
    Windows, macOS, Linux). The replica lives in `data_dir`, the app's private storage."""
    asyncio.run(_run(data_dir, sync_interval, lambda main: ft.run_async(main)))


async def _serve(data_dir: str, host: str, port: int, sync_interval: float) -> None:
    await _run(data_dir, sync_interval, lambda main: ft.run_async(
        main, name="", host=host, port=port, view=ft.AppView.WEB_BROWSER, no_cdn=True))


async def _run(data_dir: str, sync_interval: float, run: Callable[[Any], Any]) -> None:
    runtime = FloorRuntime(data_dir, sync_interval)
    settle_after_start()
    runtime.start_sync()
    ticker = asyncio.create_task(runtime.tick(), name="backroom-status-ticker")

    async def main(page: ft.Page) -> None:
        await FloorApp(runtime, page).start()

    try:
        await run(main)
    finally:
        ticker.cancel()
        await runtime.stop()


class FloorApp:
    """One browser tab: the status bar on top and one screen below it (edge_app.ui.navigation)."""

    def __init__(self, runtime: FloorRuntime, page: ft.Page):
        self.runtime = runtime
        self.page = page
        self.body = ft.Container(padding=ft.Padding.symmetric(horizontal=12, vertical=12))
        # The column the screens sit in: a readable width, or the whole page for a terminal's two panes.
        self.row = ft.ResponsiveRow([ft.Container(self.body, col=dict(MAX_WIDTH_COLS))],
                                    alignment=ft.MainAxisAlignment.CENTER)

        self.status_bar = StatusBar(on_sync_now=self._on_sync_now, on_issues=self._on_issues)
        self._unsubscribe: Callable[[], None] | None = None
        self._last_sync: datetime | None = None
        self._issues = self._follow_ups = 0
        self.nav = Navigator(self)

    def fit(self, cols: dict[Any, int | float]) -> None:
        """Put the screens in `cols` of the page (a new holder: a changed `col` was not redrawn)."""
        holder = self.row.controls[0]
        if isinstance(holder, ft.Container) and holder.col != cols:
            self.row.controls = [ft.Container(self.body, col=dict(cols))]

    async def start(self) -> None:
        page = self.page
        page.title = "Backroom · floor"
        page.theme_mode = ft.ThemeMode.LIGHT
        page.theme = ft.Theme(color_scheme_seed=ft.Colors.INDIGO)
        page.bgcolor = ft.Colors.BLUE_GREY_50
        page.padding = 0
        if not self.runtime.enrolled:
            page.add(self._centered(ft.Container(enroll_screen(self.runtime.data_dir, self._on_check_enrolled), padding=16)))
            return
        page.add(ft.Column([self.status_bar.control, self.nav.bar,
                            ft.Column([self.row], scroll=ft.ScrollMode.AUTO, expand=True)],
                           spacing=0, expand=True))
        # A tab that went away stops listening; coming back, it listens again.
        page.on_connect = lambda _e: self._subscribe()
        page.on_disconnect = self._on_disconnect
        page.on_close = self._on_close
        self._subscribe()
        self.count_issues()
        self._show_status(self.runtime.board.status)
        await self.nav.start()
        page.update()

    def _on_disconnect(self, _e: ft.Event) -> None:
        """The tab lost its connection: stop listening, and the scan field forgets nothing it can't trust."""
        self._stop_listening()
        scan = getattr(self.nav.screen, "scan", None)
        if scan is not None:
            scan.connection_lost()

    def _on_close(self, _e: ft.Event) -> None:
        self._stop_listening()
        self.nav.stop()

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
        self.status_bar.show(status, issues=self._issues, follow_ups=self._follow_ups)

    def count_issues(self) -> None:
        """This tab's unread answers: the signed-in operator's own (a supervisor's: all)."""
        whose = self.nav.issues_of()
        self._issues = len(self.runtime.refusals(whose))
        self._follow_ups = len(self.runtime.follow_ups(whose))
        self._show_status(self.runtime.board.status)

    def _after_sync(self) -> None:
        """New hub state arrived: lists on screen and the hub's answers may have changed."""
        self.count_issues()
        self.nav.after_sync()

    async def _on_sync_now(self, _e: ft.Event) -> None:
        """Sync now, then say what happened: sent and received, or why not."""
        before = self.runtime.board.status.rounds
        self.runtime.sync_now()
        for _ in range(100):  # a round, or the hub's timeout: well under 20 s
            await asyncio.sleep(0.2)
            if self.runtime.board.status.rounds > before:
                break
        else:
            return
        self.page.show_dialog(ft.SnackBar(theme.text(after_sync_now(self.runtime.board.status), size=18,
                                                     color=ft.Colors.WHITE), duration=6000))
        self.page.update()

    async def _on_issues(self, _e: ft.Event) -> None:
        await self.nav.open("issues")

    async def _on_check_enrolled(self, _e: ft.Event | None) -> None:
        if self.runtime.enrolled and self.runtime.start_sync():
            self.page.clean()
            await self.start()
            return
        self.page.show_dialog(ft.SnackBar(theme.text("Still not enrolled. Run `backroom edge enroll` first.",
                                                     size=18, color=ft.Colors.WHITE)))
