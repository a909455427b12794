"""The orders screen: open orders, earliest promise first; tap one to pick it."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import flet as ft

from edge_app.picking import OrderSummary, open_orders
from edge_app.replica import Replica
from edge_app.ui import theme

__all__ = ["OrdersView", "promised_words", "FULFILMENT_WORDS"]

FULFILMENT_WORDS = {"ship": "Ship", "pickup": "Pickup", "quick": "Quick delivery"}


def promised_words(promised_by: str) -> str:
    """'by 10:30' in this device's local time; the raw value if it is not a timestamp."""
    try:
        when = datetime.fromisoformat(promised_by).astimezone()
    except ValueError:
        return f"by {promised_by}"
    return f"by {when:%H:%M}" if when.date() == datetime.now().astimezone().date() else f"by {when:%a %d %b %H:%M}"


class OrdersView:
    """Lists open orders; `refresh()` re-reads them from the replica."""

    def __init__(self, replica: Replica, on_open: Callable[[OrderSummary], None]):
        self.replica = replica
        self.on_open = on_open
        self._list = ft.Column(spacing=10)
        self._empty = theme.text("No orders to pick. New orders appear here after the next sync.", size=18,
                                 color=theme.MUTED, visible=False)
        self.control = ft.Column(
            [theme.text("Open orders", size=26, weight=ft.FontWeight.BOLD), self._empty, self._list],
            spacing=12,
        )

    def refresh(self) -> None:
        orders = open_orders(self.replica)
        self._empty.visible = not orders
        self._list.controls = [self._row(order) for order in orders]

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
        return ft.Button(
            content=ft.Container(body, padding=ft.Padding.symmetric(vertical=10)),
            on_click=lambda _e, o=order: self.on_open(o),
            tooltip=f"Pick order {order.number}",
            bgcolor=ft.Colors.WHITE,
            style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=10),
                                 side=ft.BorderSide(1, ft.Colors.BLUE_GREY_300),
                                 padding=ft.Padding.symmetric(horizontal=14, vertical=4)),
        )
