"""The orders screen: open orders, earliest promise first; tap one to pick it."""

from __future__ import annotations

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who
from edge_app.ui.words import FULFILMENT_WORDS, promised_words, risk_words
from edge_app.workflows.pick_list import OrderSummary, open_orders

__all__ = ["OrdersView"]

class OrdersView(Screen):
    """Open orders; `render()` re-reads them from the replica. Tap one to pick it."""

    title = "Open orders"
    scan_label = None
    two_panes = False

    def __init__(self, who: Who):
        super().__init__(who)
        self.heading.size = 26
        self._list = ft.Column(spacing=10)
        self._empty = theme.text("No orders to pick. New orders appear here after the next sync.", size=18,
                                 color=theme.MUTED, visible=False)
        self.body.controls = [self._empty, self._list]
        self.render()
        self.arrange()

    def render(self) -> None:
        orders = open_orders(self.replica)
        self._empty.visible = not orders
        self._list.controls = [self._row(order) for order in orders]

    async def _open(self, order: OrderSummary) -> None:
        await self.who.nav.open("pick", order)

    def _row(self, order: OrderSummary) -> ft.Control:
        units = f"{order.open_units} unit{'s' if order.open_units != 1 else ''} to pick"
        body = ft.Column(
            [
                ft.Row(
                    [
                        theme.text(order.number, size=24, weight=ft.FontWeight.BOLD),
                        theme.text(FULFILMENT_WORDS.get(order.fulfilment, order.fulfilment), size=18,
                                   weight=ft.FontWeight.W_600, color=ft.Colors.INDIGO_900),
                    ],
                    alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                ),
                theme.text(order.customer_name or "—", size=18),
                theme.text(f"{units} · {order.lines} line{'s' if order.lines != 1 else ''} · "
                           f"{promised_words(order.promised_by)}", size=16, color=theme.MUTED),
            ],
            spacing=4,
        )
        if warning := risk_words(order.risk_level, order.risk_reason):  # why it is at the top of the list
            body.controls.insert(0, theme.text(warning, size=17, weight=ft.FontWeight.BOLD, color=theme.BAD))
        async def open_order(_e: ft.Event, o: OrderSummary = order) -> None:
            await self._open(o)

        return ft.Button(
            content=ft.Container(body, padding=ft.Padding.symmetric(vertical=10)),
            on_click=open_order,
            tooltip=f"Pick order {order.number}",
            bgcolor=ft.Colors.WHITE,
            style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=10),
                                 side=ft.BorderSide(1, ft.Colors.BLUE_GREY_300),
                                 padding=ft.Padding.symmetric(horizontal=14, vertical=4)),
        )
