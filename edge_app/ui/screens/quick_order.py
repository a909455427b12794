"""Taking orders at a dark-store terminal: scan what the customer wants, see how many
of each this terminal may still promise offline, take the order, and see plainly
which orders are confirmed and which wait for the hub.

Every decision is the workflow's (`edge_app.workflows.quick_orders`); this module only shows it."""

from __future__ import annotations

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who, read_int
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.quick_orders import QuickOrderCart, TakenSummary, headrooms, taken_orders

__all__ = ["QuickOrderView"]

_STATE_COLOURS = {"confirmed": theme.OK, "waiting": ft.Colors.AMBER_900, "refused": theme.BAD}
_STATE_ICONS = {"confirmed": ft.Icons.VERIFIED, "waiting": ft.Icons.HOURGLASS_TOP, "refused": ft.Icons.CANCEL}


class QuickOrderView(Screen):
    title = "Quick orders"
    scan_hint = "Scan an item to add it"

    def __init__(self, who: Who):
        super().__init__(who)
        self.cart = QuickOrderCart(who.replica, who.operator_id)
        self.customer = ft.TextField(label="Customer name", text_size=20, content_padding=14, max_length=100)
        self._lines = ft.Column(spacing=8)
        self._take = theme.big_button("Take order", self._on_take, ft.Icons.SHOPPING_BAG)
        self._headroom = ft.Column(spacing=4)
        self._taken = ft.Column(spacing=8)
        self._free: dict[str, int] = {}
        self.actions.controls = [self._lines, self.customer, self._take]
        self.body.controls = [theme.text("Can still promise offline", size=20, weight=ft.FontWeight.BOLD), self._headroom,
                              theme.text("Orders taken here", size=20, weight=ft.FontWeight.BOLD), self._taken]
        self.render()
        self.arrange()

    def render(self) -> None:
        count = sum(self.cart.lines.values())
        self.card.show("NEW ORDER" if not count else f"ORDER · {count} UNIT{'S' if count != 1 else ''}",
                       "Scan each item the customer wants." if not count else "Scan more, or type the name and take the order.")
        rooms = headrooms(self.replica)
        self._free = {h.sku: h.units for h in rooms}
        self._lines.controls = [self._cart_line(sku, qty) for sku, qty in self.cart.lines.items()]
        self._take.disabled = not count
        self._headroom.controls = [ft.Row([theme.text(h.name, size=17, expand=True),
                                           theme.text(str(h.units), size=20, weight=ft.FontWeight.BOLD,
                                                      color=theme.OK if h.units else theme.BAD)])
                                   for h in rooms] or [
            theme.text("This terminal holds no stock to promise offline: every order waits for the hub.", color=theme.MUTED)]
        self._taken.controls = [self._taken_card(t) for t in taken_orders(self.replica)] or [
            theme.text("No orders taken here yet.", color=theme.MUTED)]

    def _cart_line(self, sku: str, qty: int) -> ft.Control:
        field = ft.TextField(value=str(qty), width=90, text_size=20, content_padding=10, label="Units",
                             keyboard_type=ft.KeyboardType.NUMBER, input_filter=ft.NumbersOnlyInputFilter())

        async def changed(_e: ft.Event) -> None:
            typed = read_int(field)
            await self.act(lambda: self.cart.set_qty(sku, typed if typed is not None else 0))

        field.on_blur = changed
        field.on_submit = changed
        free = self._free.get(sku, 0)
        note = f"{free} can be promised offline" if free >= qty else "waits for the hub"
        return theme.card(ft.Row([ft.Column([theme.text(self.cart.names.get(sku, sku), size=18, weight=ft.FontWeight.W_600),
                                             theme.text(f"{sku} · {note}", size=15, color=theme.MUTED)], expand=True, spacing=2),
                                  field]))

    def _taken_card(self, taken: TakenSummary) -> ft.Control:
        colour = _STATE_COLOURS[taken.state]
        return theme.card(ft.Row([
            ft.Icon(_STATE_ICONS[taken.state], color=colour, size=28),
            ft.Column([theme.text(f"{taken.number} · {taken.customer_name} · {taken.units} units", size=17,
                                  weight=ft.FontWeight.W_600),
                       theme.text(taken.words, size=15, color=colour)], spacing=2, expand=True)]),
            border=ft.Border.all(2 if taken.state != "confirmed" else 1, colour))

    def on_code(self, code: str) -> Feedback | None:
        return self.cart.scan(code)

    async def _on_take(self, _e: ft.Event) -> None:
        name = self.customer.value or ""

        def take() -> Feedback:
            feedback = self.cart.take(name)
            if feedback.ok:
                self.customer.value = ""
            return feedback
        await self.act(take)
