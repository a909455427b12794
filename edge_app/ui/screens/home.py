"""The home screen after sign-in: who is signed in, and the work queues their role
may do, each with how many are waiting. A tile opens its queue."""

from __future__ import annotations

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who
from edge_app.workflows.signin import Queue, queue_counts

__all__ = ["HomeView", "QUEUE_ICONS"]

QUEUE_ICONS = {"quick": ft.Icons.POINT_OF_SALE, "pick": ft.Icons.SHOPPING_CART, "batch": ft.Icons.VIEW_MODULE, "pack": ft.Icons.INVENTORY_2,
               "pickups": ft.Icons.STOREFRONT, "returns": ft.Icons.ASSIGNMENT_RETURN, "tasks": ft.Icons.CHECKLIST,
               "receive": ft.Icons.MOVE_TO_INBOX}


# A queue's key → the screen it opens ("pick" is the list of orders to pick).
_OPENS = {"pick": "orders"}


class HomeView(Screen):
    """A tile per queue the operator's role may do: "pick", "batch", "pack", "pickups", "returns", "tasks"."""

    scan_label = None
    two_panes = False

    def __init__(self, who: Who):
        super().__init__(who)
        self.operator = who.app.nav.operator
        self.heading.value = f"Hello, {self.operator.name}"
        self.heading.size = 28
        self.subheading.value = f"Signed in as {self.operator.operator_id} · {self.operator.role}. Choose your work."
        self.subheading.visible = True
        self._tiles = ft.ResponsiveRow(spacing=12, run_spacing=12)
        self.body.controls = [self._tiles]
        self.render()
        self.arrange()

    def render(self) -> None:
        queues = queue_counts(self.replica, self.operator.role)
        tiles = [self._tile(q) for q in queues]
        if any(q.key == "pick" for q in queues):
            pick = next(q for q in queues if q.key == "pick")
            at = [q.key for q in queues].index("pick") + 1
            tiles.insert(at, self._tile(Queue("batch", "Batch pick into totes", pick.count), secondary=True))
        self._tiles.controls = tiles

    def _tile(self, queue: Queue, secondary: bool = False) -> ft.Control:
        count = theme.text(str(queue.count), size=34, weight=ft.FontWeight.BOLD,
                           color=ft.Colors.INDIGO_900 if queue.count else theme.MUTED)
        body = ft.Row([
            ft.Icon(QUEUE_ICONS.get(queue.key, ft.Icons.WORK), size=34, color=ft.Colors.INDIGO_900),
            theme.text(queue.label, size=22 if not secondary else 19, weight=ft.FontWeight.W_600, expand=True),
            count if not secondary else ft.Icon(ft.Icons.CHEVRON_RIGHT, size=30, color=theme.MUTED),
        ], spacing=14)

        async def open_queue(_e: ft.Event, key: str = queue.key) -> None:
            await self.who.nav.open(_OPENS.get(key, key))

        return ft.Container(
            ft.Button(content=ft.Container(body, padding=ft.Padding.symmetric(vertical=14)), on_click=open_queue,
                      tooltip=queue.label, bgcolor=ft.Colors.WHITE if not secondary else ft.Colors.BLUE_GREY_50,
                      style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=12),
                                           side=ft.BorderSide(2 if queue.count and not secondary else 1, ft.Colors.INDIGO_300),
                                           padding=ft.Padding.symmetric(horizontal=16, vertical=6))),
            col={"xs": 12, "md": 6} if self.wide else 12,
        )
