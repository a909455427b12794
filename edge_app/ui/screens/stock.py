"""Stock on the floor: look an item up by scan (on hand per bin, reserved,
available on this device's view), and move units between bins.

Every decision is the workflow's (`edge_app.workflows.stock`); this module only shows it."""

from __future__ import annotations

import flet as ft

from edge_app.errors import Refused
from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who, number_field, read_int
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.stock import ItemStock, MoveSession, look_up

__all__ = ["StockView", "MoveView", "back_to_tasks", "availability_words"]


def back_to_tasks(who: Who) -> ft.Control:
    async def back(_e: ft.Event) -> None:
        await who.nav.open("tasks")
    return theme.big_button("Back to counts and tasks", back, ft.Icons.ARROW_BACK, kind="outlined")


class StockView(Screen):
    title = "Stock"
    scan_hint = "Scan an item"

    def __init__(self, who: Who, code: str | None = None):
        super().__init__(who)
        self.item: ItemStock | None = None
        self.back = back_to_tasks(who)
        if code:
            self.banner.show(self.look_up(code))
        self.render()
        self.arrange()

    def look_up(self, code: str) -> Feedback:
        try:
            self.item = look_up(self.replica, code)
        except Refused as exc:
            return Feedback(False, str(exc), "look_up")
        if self._sees_books():
            return Feedback(True, f"{self.item.name}: {self.item.available} available to sell.", "look_up")
        return Feedback(True, f"{self.item.name}: {availability_words(self.item.available).lower()}.", "look_up")

    def on_code(self, code: str) -> Feedback | None:
        return self.look_up(code)

    def render(self) -> None:
        self.card.show("LOOK UP", "Scan an item to see where it is and whether it can be sold.")
        item = self.item
        controls: list[ft.Control] = []
        if item is not None:
            # Counts are blind: what the books hold per bin is for supervisors; everyone
            # else sees where the item is and how many may still be sold.
            books = self._sees_books()
            figures = ft.Row([_figure("On hand", item.on_hand), _figure("Reserved", item.reserved),
                              _figure("Available", item.available, theme.OK)] if books else
                             [_band(item.available)], spacing=8)
            bins: list[ft.Control] = [ft.Row([theme.text(b, size=20, weight=ft.FontWeight.BOLD, expand=True),
                            theme.text(str(q) if books else "", size=20)])
                    for b, q in item.bins] or [theme.text("Not in any bin.", color=theme.MUTED)]
            controls = [theme.card(ft.Column([theme.text(item.name, size=22, weight=ft.FontWeight.BOLD),
                                              theme.text(item.sku, size=15, color=theme.MUTED), figures,
                                              theme.text("Per bin" if books else "In bins", size=17, weight=ft.FontWeight.W_600), *bins], spacing=6))]
        self.body.controls = [*controls, self.back]

    def _sees_books(self) -> bool:
        role = self.who.role or self.replica.get_meta("role")
        return role == "supervisor"


def availability_words(available: int) -> str:
    """A band, not a number: a count stays blind for whoever may do it."""
    return "None to sell" if available <= 0 else "A few to sell (under 10)" if available < 10 else "Plenty to sell"


def _band(available: int) -> ft.Control:
    return ft.Container(theme.text(availability_words(available), size=24, weight=ft.FontWeight.BOLD,
                                   color=theme.OK if available > 0 else theme.BAD),
                        expand=True, padding=8, bgcolor=ft.Colors.BLUE_GREY_50, border_radius=8)


def _figure(label: str, value: int, color=theme.INK) -> ft.Control:
    return ft.Container(ft.Column([theme.text(label, size=14, color=theme.MUTED),
                                   theme.text(str(value), size=28, weight=ft.FontWeight.BOLD, color=color)], spacing=0),
                        expand=True, padding=8, bgcolor=ft.Colors.BLUE_GREY_50, border_radius=8)


class MoveView(Screen):
    title = "Move stock"
    scan_hint = "Scan a bin or an item"

    def __init__(self, who: Who):
        super().__init__(who)
        self.session = MoveSession(self.replica, who.actor)
        self.qty = number_field("Units", width=130)
        self.back = back_to_tasks(who)
        self.render()
        self.arrange()

    def on_code(self, code: str) -> Feedback | None:
        return self.session.scan(code)

    def render(self) -> None:
        s = self.session
        step = {"from": "STEP 1 · FROM BIN", "item": "STEP 2 · ITEM", "qty": "STEP 3 · HOW MANY", "to": "STEP 4 · TO BIN"}[s.step]
        self.card.show(step, s.prompt())
        qty_row = ft.Row([self.qty, theme.big_button("Confirm units", self._on_qty, ft.Icons.CHECK, expand=True)],
                         visible=s.step == "qty")
        self.actions.controls = [qty_row, self.back]

    async def _on_qty(self, _e: ft.Event) -> None:
        qty = read_int(self.qty)
        self.qty.value = ""
        await self.act(lambda: self.session.quantity(qty))
