"""The returns counter: find the original order (receipt barcode, number or
name), choose lines and quantities, grade the condition, choose where the units
go (restock to a scanned bin, damage, return to vendor, quarantine), record the
return with its refund request. A supervisor may take a return without a receipt.

Every decision is the workflow's (`edge_app.workflows.returns`); this module only shows it."""

from __future__ import annotations

import flet as ft

from edge_app.errors import Refused
from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who, number_field, read_int
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.returns import Chosen, ReturnLine, ReturnOrder, ReturnSession, get_order, search_orders
from edge_app.workflows.returns_elsewhere import find_any_order, where_words, with_returned
from edge_app.workflows.scans import item_for_scan
from sync.kinds import Condition, Disposition

__all__ = ["ReturnView", "CONDITION_WORDS", "DISPOSITION_WORDS"]

CONDITION_WORDS = {Condition.NEW: "New", Condition.OPENED: "Opened", Condition.DAMAGED: "Damaged", Condition.DEFECTIVE: "Defective"}
DISPOSITION_WORDS = {Disposition.RESTOCK: "Restock", Disposition.DAMAGE: "Damage", Disposition.RETURN_TO_VENDOR: "Return to vendor",
                     Disposition.QUARANTINE: "Quarantine"}


class ReturnView(Screen):
    title = "Returns"

    scan_hint = "Receipt barcode, order number or name"

    def __init__(self, who: Who):
        super().__init__(who)
        self.session: ReturnSession | None = None
        self.results: list[ReturnOrder] = []
        self.done = False
        self._pending_dialog: tuple[int | None, str, int | None, str] | None = None
        self.render()
        self.arrange()

    # -- showing -------------------------------------------------------------------
    def render(self) -> None:
        if self.session is None:
            self._render_find()
        else:
            self._render_return()

    def _render_find(self) -> None:
        self.card.show("FIND THE ORDER", "Scan the barcode on the receipt, or type the order number or the customer's name.")
        controls: list[ft.Control] = [self._order_button(o) for o in self.results]
        controls.append(theme.big_button("No receipt (supervisor)", self._on_no_receipt, ft.Icons.RECEIPT_LONG, kind="outlined"))
        self.body.controls = controls

    def _order_button(self, order: ReturnOrder) -> ft.Control:
        async def open_order(_e: ft.Event, o: ReturnOrder = order) -> None:
            await self.act(lambda: self._open(o))

        sold = sum(line.sold for line in order.lines)
        return theme.big_button(f"{order.number} · {order.customer_name} · {sold} sold", open_order, kind="outlined")

    def _render_return(self) -> None:
        s = self.session
        order = s.order
        if self.done:
            self.card.show("DONE", "Scan the next receipt, or tap Next return.")
        elif order is None:
            self.card.show("NO RECEIPT · SCAN EACH ITEM", "Scan an item that comes back, then grade it.")
        else:
            self.card.show("STEP 1 · CHOOSE WHAT COMES BACK", "Tap Return on a line (or scan the item), grade it, then Record return.")
        controls: list[ft.Control] = []
        if order is not None:
            controls.append(theme.text(_heading(order), size=20, weight=ft.FontWeight.BOLD))
            controls += [self._line_card(line) for line in order.lines]
        if s.chosen:
            controls.append(theme.text("Coming back", size=20, weight=ft.FontWeight.BOLD))
            controls += [self._chosen_row(i, c) for i, c in enumerate(s.chosen)]
            controls.append(theme.big_button("Record return", self._on_submit, ft.Icons.ASSIGNMENT_RETURN))
        controls.append(theme.big_button("Next return", self._on_back, ft.Icons.ARROW_BACK, kind="outlined"))
        self.body.controls = controls

    def _line_card(self, line) -> ft.Control:
        left = self.session.returnable(line.line_no)

        async def open_dialog(_e: ft.Event, ln=line) -> None:
            self._grade_dialog(ln.line_no, ln.name, self.session.returnable(ln.line_no))

        return theme.card(ft.Row([
            ft.Column([theme.text(line.name, size=19, weight=ft.FontWeight.W_600),
                       theme.text(_line_words(self.session.order, line, left), size=15, color=theme.MUTED)],
                      spacing=2, expand=True),
            theme.big_button("Return", open_dialog, kind="tonal", disabled=left <= 0, tooltip=f"Return {line.name}"),
        ], vertical_alignment=ft.CrossAxisAlignment.CENTER))

    def _chosen_row(self, index: int, c: Chosen) -> ft.Control:
        async def remove(_e: ft.Event, i: int = index) -> None:
            self.session.remove(i)
            self.render()
            await self.update()

        where = f"restock to {c.bin}" if c.disposition == Disposition.RESTOCK else DISPOSITION_WORDS[c.disposition].lower()
        return theme.card(ft.Row([
            theme.text(f"{c.qty} × {c.name} · {CONDITION_WORDS[c.condition].lower()} · {where}", size=17, expand=True),
            ft.IconButton(ft.Icons.DELETE, on_click=remove, tooltip=f"Remove {c.name}", icon_size=30),
        ]))

    def _grade_dialog(self, line_no: int | None, name: str, left: int | None, item_code: str = "") -> None:
        qty = number_field("Units back", 1 if left is None else min(1, left))
        condition = ft.RadioGroup(ft.Column([ft.Radio(value=c.value, label=w) for c, w in CONDITION_WORDS.items()], spacing=0),
                                  value=Condition.NEW.value)
        disposition = ft.RadioGroup(ft.Column([ft.Radio(value=d.value, label=w) for d, w in DISPOSITION_WORDS.items()], spacing=0),
                                    value=Disposition.RESTOCK.value)
        bin_field = ft.TextField(label="Restock bin", hint_text="Scan the bin label", text_size=20, content_padding=12)

        async def add(_e: ft.Event) -> None:
            args = (read_int(qty) or 0, Condition(condition.value), Disposition(disposition.value), bin_field.value or "")
            await self.close_dialog()
            if line_no is None:
                await self.act(lambda: self.session.add_item(item_code, *args))
            else:
                await self.act(lambda: self.session.add_line(line_no, *args))

        self.dialog(f"Return {name}" + (f" (up to {left})" if left is not None else ""), [
            qty, theme.text("Condition", size=17, weight=ft.FontWeight.W_600), condition,
            theme.text("Where it goes", size=17, weight=ft.FontWeight.W_600), disposition, bin_field,
        ], [theme.big_button("Cancel", self.close_dialog, kind="outlined"), theme.big_button("Add to return", add, ft.Icons.ADD)])

    # -- doing ---------------------------------------------------------------------
    def on_code(self, code: str) -> Feedback | None:
        if self.session is not None and not self.done:
            return self._item_scanned(code)
        try:  # returns from any channel: not on this device → the hub, or the receipt's return code
            return self._open(find_any_order(self.replica, code, self._ask()))
        except Refused as exc:
            self.session, self.results = None, search_orders(self.replica, code.strip())
            return Feedback(False, str(exc) + (" Or tap one of the orders below." if self.results else ""), "find")

    def _item_scanned(self, code: str) -> Feedback | None:
        try:
            sku, name = item_for_scan(self.replica, code)
        except Refused as exc:
            return Feedback(False, str(exc), "choose")
        order = self.session.order
        if order is None:
            self._pending_dialog = (None, name, None, code)
            return Feedback(True, f"{name}: grade it and choose where it goes.", "choose")
        line = next((line for line in order.lines if line.sku == sku and self.session.returnable(line.line_no) > 0), None)
        if line is None:
            return Feedback(False, f"{name} is not on order {order.number}, or all of it is back already. Check the receipt.", "choose")
        self._pending_dialog = (line.line_no, line.name, self.session.returnable(line.line_no), "")
        return Feedback(True, f"{line.name}: grade it and choose where it goes.", "choose")

    async def update(self) -> None:
        await super().update()
        pending, self._pending_dialog = self._pending_dialog, None
        if pending is not None:
            self._grade_dialog(*pending)

    def _open(self, order: ReturnOrder) -> Feedback:
        self.session, self.results, self.done = ReturnSession(self.replica, self.who.actor, order, self.who.role), [], False
        return Feedback(True, where_words(self.replica, order), "choose")

    def _ask(self):
        """The hub look-up while this device syncs (its runtime's), else None: offline."""
        lookup = getattr(self.who.runtime, "return_lookup", None)
        return lookup() if lookup is not None else None

    async def _on_no_receipt(self, _e: ft.Event) -> None:
        def start() -> Feedback:
            try:
                self.session = ReturnSession(self.replica, self.who.actor, None, self.who.role)
            except Refused as exc:
                return Feedback(False, str(exc), "find")
            self.done = False
            return Feedback(True, "No receipt: scan each item that comes back.", "choose")
        await self.act(start)

    async def _on_submit(self, _e: ft.Event) -> None:
        def submit() -> Feedback:
            chosen, order = list(self.session.chosen), self.session.order
            feedback = self.session.submit()
            self.done = feedback.ok
            if feedback.ok and order is not None and order.source == "device":  # show the new returned counts
                self.session.order = get_order(self.replica, order.id) or order
            elif feedback.ok and order is not None:  # another location's: the replica holds no order to re-read
                self.session.order = with_returned(order, chosen)
            return feedback
        await self.act(submit)

    async def _on_back(self, _e: ft.Event) -> None:
        self.session, self.done, self.results = None, False, []
        self.banner.hide()
        self.render()
        await self.update()



def _heading(order: ReturnOrder) -> str:
    if order.source == "device":
        return f"Order {order.number} · {order.customer_name}"
    verb = "handed over" if order.fulfilment == "pickup" else "shipped"
    return f"Order {order.number} · {verb} by {order.shipped_by or 'another location'}"


def _line_words(order: ReturnOrder | None, line: ReturnLine, left: int) -> str:
    if order is not None and order.source == "return_code":  # offline: the receipt says what was ordered
        return f"{line.sold} on the receipt · {line.returned} returned here before · up to {left} can come back"
    return f"{line.sold} sold · {line.returned} returned before · {left} can come back"
