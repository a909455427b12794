"""Sync issues: what the hub refused, and the follow-up work it created, in
plain words for the person on the floor. Nothing is dropped silently."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who

__all__ = ["Issue", "describe_issue", "IssuesView"]

# Every op kind in the words of the floor; an unknown kind falls back to its name.
_KIND_WORDS = {
    "pick.confirmed": "Pick",
    "pick.shorted": "Short pick",
    "pick.substituted": "Substitute pick",
    "pick.claimed": "Claim to pick an order",
    "pick.released": "Letting go of an order",
    "pickup.handed_over": "Pickup handover",
    "pickup.extended": "Pickup date extension",
    "count.recorded": "Count",
    "order.staging_set": "Staging place",
    "return.received": "Return",
    "refund.requested": "Refund request",
    "reservation.requested": "Order taken at this terminal",
    "allotment.released": "Giving back held stock",
    "stock.moved": "Stock move",
    "task.done": "Task marked done",
    "pack.carton_closed": "Carton",
    "shipment.handed_to_carrier": "Carrier handover",
    "goods.received": "Goods receipt",  # receiving
    "order.rejected": "Order turned away",  # routing
}


@dataclass(frozen=True)
class Issue:
    title: str  # "Pick of 2 × MILK-1L (order line 1) was refused"
    lines: tuple[str, ...]  # the hub's sentence, then any follow-up tasks
    refused: bool


def describe_issue(row: dict[str, Any]) -> Issue:
    """One outbox row from `outbox.rejections()` as sentences."""
    payload = _json(row.get("payload")) or {}
    what = _KIND_WORDS.get(row.get("kind", ""), row.get("kind", "Action"))
    if "qty" in payload and "sku" in payload:
        what = f"{what} of {payload['qty']} × {payload['sku']}"
    if "bin" in payload and payload.get("bin"):
        what = f"{what} {'into' if row.get('kind') == 'goods.received' else 'from'} bin {payload['bin']}"
    refused = _status(row) == "rejected"
    result = _json(row.get("result")) or {}
    tasks = tuple(f"To do: {c.get('sentence', c.get('kind', ''))}" for c in result.get("compensations", []))
    if refused:
        title = f"{what} was refused by the hub"
        reason = row.get("message") or row.get("reason_code") or "no reason given"
        return Issue(title, (f"Why: {reason}", *tasks), True)
    return Issue(f"{what} was saved, with follow-up work", tasks, False)


def _status(row: dict[str, Any]) -> str:
    result = _json(row.get("result")) or {}
    return result.get("status", "rejected" if row.get("reason_code") else "applied")


def _json(value: Any) -> Any:
    if not value:
        return None
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


class IssuesView(Screen):
    """Sync status in words, then the list of sync issues, with a way back."""

    title = "Sync status"
    scan_label = None
    two_panes = False

    def __init__(self, who: Who):
        super().__init__(who)
        self.heading.size = 26
        self._refused = ft.Column(spacing=10)
        self._to_read = ft.Column(spacing=10)
        self._health = ft.Column(spacing=4)
        self.body.controls = [
            ft.Row([theme.big_button("Back", self._on_back, ft.Icons.ARROW_BACK, kind="outlined")]),
            self._health,
            theme.text("Sync issues", size=22, weight=ft.FontWeight.BOLD),
            theme.text("What the hub refused. Nothing of it was done: tell your supervisor if you are unsure.",
                       size=16, color=theme.MUTED),
            self._refused,
            theme.text("To read", size=22, weight=ft.FontWeight.BOLD),
            theme.text("What you did stood, and made work for someone: a put-back, a recount, a review.",
                       size=16, color=theme.MUTED),
            self._to_read,
        ]
        self.render()
        self.arrange()

    def render(self) -> None:
        runtime, whose = self.who.runtime, self.who.nav.issues_of()
        self._health.controls = [theme.text(line, size=17) for line in runtime.health_lines()]
        self._refused.controls = [self._card(row) for row in runtime.refusals(whose)] or [
            theme.text("No sync issues. Everything you did reached the hub or is waiting to be sent.", size=18)]
        self._to_read.controls = [self._card(row) for row in runtime.follow_ups(whose)] or [
            theme.text("Nothing to read.", size=18, color=theme.MUTED)]

    def _card(self, row: dict[str, Any]) -> ft.Control:
        issue = describe_issue(row)
        colour = theme.BAD if issue.refused else ft.Colors.AMBER_900

        async def dismiss(_e: ft.Event, seq: int = row["device_seq"]) -> None:
            self.who.runtime.dismiss(seq)
            self.who.app.count_issues()
            self.render()
            self.who.app.page.update()

        return theme.card(
            ft.Column(
                [
                    ft.Row([ft.Icon(ft.Icons.ERROR if issue.refused else ft.Icons.ASSIGNMENT_LATE, color=colour, size=28),
                            theme.text(issue.title, size=18, weight=ft.FontWeight.BOLD, expand=True)]),
                    *(theme.text(line, size=16) for line in issue.lines),
                    ft.Row([theme.big_button("Got it", dismiss, ft.Icons.DONE, kind="outlined",
                                             tooltip=f"Got it: {issue.title}")], alignment=ft.MainAxisAlignment.END),
                ],
                spacing=6,
            ),
            border=ft.Border.all(2, colour),
        )

    async def _on_back(self, _e: ft.Event) -> None:
        await self.who.nav.home()
