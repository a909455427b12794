"""Goods receipt: scan the bin, scan the item (EAN/UPC or a GS1 case label), enter how
many, confirm. The delivery note, once typed or scanned, goes with every item after it.

Every decision is the workflow's (`edge_app.workflows.receiving.ReceiveSession`); this
module only shows it."""

from __future__ import annotations

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who, number_field, read_int
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.receiving import ReceiveSession

__all__ = ["ReceiveView"]

_STEPS = {"bin": "STEP 1 · BIN", "item": "STEP 2 · ITEM", "qty": "STEP 3 · HOW MANY", "confirm": "STEP 4 · CONFIRM"}


class ReceiveView(Screen):
    title = "Receive goods"
    scan_hint = "Scan a bin label or an item's barcode"

    def __init__(self, who: Who):
        super().__init__(who)
        self.session = ReceiveSession(self.replica, who.actor)
        self.qty = number_field("Units", width=140)
        self.qty.on_submit = self._on_qty
        self.reference = ft.TextField(label="Delivery note (optional)", text_size=20, content_padding=14, max_length=64,
                                      expand=True, on_submit=self._on_reference)
        self.last = theme.text("", size=18, color=theme.OK, weight=ft.FontWeight.W_600, visible=False)
        self.render()
        self.arrange()

    def on_code(self, code: str) -> Feedback | None:
        return self.session.scan(code)

    def render(self) -> None:
        s = self.session
        self.card.show(_STEPS[s.step], s.prompt())
        controls: list[ft.Control] = []
        if s.step == "qty":
            controls.append(ft.Row([self.qty, theme.big_button("Enter units", self._on_qty, ft.Icons.CHECK, expand=True)]))
        if s.step == "confirm":
            controls.append(theme.big_button(f"Receive {s.qty} × {s.name}", self._on_confirm, ft.Icons.MOVE_TO_INBOX))
        if s.step in ("qty", "confirm"):
            controls.append(theme.big_button("Cancel this item", self._on_cancel, ft.Icons.CLOSE, kind="outlined"))
        if s.step in ("bin", "item"):
            controls.append(ft.Row([self.reference, theme.big_button("Set note", self._on_reference, kind="tonal")]))
        if s.last is not None:
            self.last.value = f"Last: {s.last.qty} × {s.last.name} into {s.last.bin} (now {s.last.on_hand} there)"
            self.last.visible = True
        self.actions.controls = [*controls, self.last, theme.big_button("Home", self._on_home, ft.Icons.HOME,
                                                                        kind="outlined")]

    async def _on_qty(self, _e: ft.Event) -> None:
        qty = read_int(self.qty)
        self.qty.value = ""
        await self.act(lambda: self.session.quantity(qty))

    async def _on_confirm(self, _e: ft.Event) -> None:
        await self.act(self.session.confirm)

    async def _on_cancel(self, _e: ft.Event) -> None:
        await self.act(self.session.cancel)

    async def _on_reference(self, _e: ft.Event) -> None:
        typed = self.reference.value or ""
        await self.act(lambda: self.session.set_reference(typed))

    async def _on_home(self, _e: ft.Event) -> None:
        await self.who.nav.open("home")
