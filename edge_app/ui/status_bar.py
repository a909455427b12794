"""The status bar on every screen: online or offline, ops waiting to be sent,
when the device last synced, and a "Sync now" button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import flet as ft

from edge_app.sync_loop import SyncStatus
from edge_app.ui import theme

__all__ = ["StatusWords", "describe", "ago", "after_sync_now", "StatusBar"]


@dataclass(frozen=True)
class StatusWords:
    state: str  # "Online", "Offline", "Hub refused" or "Connecting…"
    waiting: str  # "3 waiting to send"
    synced: str  # "synced 12 s ago"
    online: bool | None


def ago(then: datetime | None, now: datetime) -> str:
    """'synced 12 s ago' in words a person reads at a glance."""
    if then is None:
        return "not synced yet"
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 3:
        return "synced just now"
    if seconds < 120:
        return f"synced {seconds} s ago"
    if seconds < 7200:
        return f"synced {seconds // 60} min ago"
    return f"synced {seconds // 3600} h ago"


def describe(status: SyncStatus, now: datetime | None = None) -> StatusWords:
    now = now or datetime.now(timezone.utc)
    state = {True: "Online", False: "Offline", None: "Connecting…"}[status.online]
    synced = ago(status.last_sync_at, now)
    if status.online is False:
        # The agent words a 4xx as "hub refused …": waiting will not fix that, a person must.
        refused = (status.last_error or "").startswith("hub refused")
        state = "Hub refused" if refused else state
        synced = f"{synced} · tell your supervisor" if refused else f"{synced} · working offline"
    return StatusWords(state, f"{status.outbox_depth} waiting to send", synced, status.online)


def after_sync_now(status: SyncStatus) -> str:
    """What a press of Sync now did, in one sentence."""
    waiting = status.outbox_depth
    saved = f"{waiting} action{'s' if waiting != 1 else ''}"
    if status.online:
        report = status.last_report
        sent, got = (report.pushed, report.pulled) if report else (0, 0)
        rest = f" {saved} still waiting." if waiting else " Nothing waits to be sent."
        return f"Synced: {sent} sent, {got} received.{rest}"
    error = (status.last_error or "no answer").removeprefix("hub not reachable: ")
    if error.startswith("hub refused"):
        return f"The hub refused this device ({error[:120]}). Tell your supervisor."
    kept = f" {saved} are saved on this device and go when the hub is back." if waiting else ""
    return f"Could not reach the hub ({error[:80]}). Keep working offline.{kept}"


class StatusBar:
    """A coloured strip that follows the sync loop's reports."""

    def __init__(self, on_sync_now: Callable, on_issues: Callable):
        self._icon = ft.Icon(ft.Icons.CLOUD_QUEUE, color=ft.Colors.WHITE, size=28)
        self._state = theme.text("Connecting…", size=22, weight=ft.FontWeight.BOLD, color=ft.Colors.WHITE)
        self._waiting = theme.text("", size=18, weight=ft.FontWeight.W_600, color=ft.Colors.WHITE)
        self._synced = theme.text("", size=15, color=ft.Colors.WHITE)
        self._issues = ft.Button(
            content="Sync status", icon=ft.Icons.WARNING, on_click=on_issues, height=44,
            bgcolor=ft.Colors.AMBER_300, color=theme.INK,
            style=ft.ButtonStyle(text_style=ft.TextStyle(size=16, weight=ft.FontWeight.W_600),
                                 shape=ft.RoundedRectangleBorder(radius=10)),
        )
        sync_now = ft.Button(
            content="Sync now", icon=ft.Icons.SYNC, on_click=on_sync_now, height=theme.TARGET,
            bgcolor=ft.Colors.WHITE, color=theme.INK,
            style=ft.ButtonStyle(text_style=ft.TextStyle(size=17, weight=ft.FontWeight.W_600),
                                 shape=ft.RoundedRectangleBorder(radius=10)),
        )
        self.control = ft.Container(
            bgcolor=theme.WAIT,
            padding=ft.Padding.symmetric(horizontal=12, vertical=8),
            content=ft.Row(
                [
                    ft.Column(
                        [
                            ft.Row([self._icon, self._state], spacing=10),
                            self._waiting,
                            self._synced,
                            self._issues,
                        ],
                        spacing=2,
                        expand=True,
                    ),
                    sync_now,
                ],
                vertical_alignment=ft.CrossAxisAlignment.CENTER,
            ),
        )

    def show(self, status: SyncStatus, issues: int = 0, follow_ups: int = 0) -> None:
        """Set the texts and colour from a status; the caller updates the page."""
        words = describe(status)
        self._state.value = words.state
        self._waiting.value = words.waiting
        self._synced.value = words.synced
        self._icon.icon = {True: ft.Icons.CLOUD_DONE, False: ft.Icons.CLOUD_OFF, None: ft.Icons.CLOUD_QUEUE}[words.online]
        self.control.bgcolor = {True: theme.OK, False: theme.BAD, None: theme.WAIT}[words.online]
        # Always reachable: the sync status screen also shows what waits and escrow headroom.
        # Refusals are sync issues; follow-ups (a short's task) are routine, to read.
        if issues:
            label, colour, icon = f"{issues} sync issue{'s' if issues != 1 else ''}", ft.Colors.AMBER_300, ft.Icons.WARNING
        elif follow_ups:
            label, colour, icon = f"{follow_ups} to read", ft.Colors.LIGHT_BLUE_100, ft.Icons.MARK_EMAIL_UNREAD
        else:
            label, colour, icon = "Sync status", ft.Colors.WHITE, ft.Icons.INFO_OUTLINE
        self._issues.content, self._issues.bgcolor, self._issues.icon = label, colour, icon
