"""The pickup counter: ready orders (soonest to expire first), find one by the
customer's QR, the order number or a name; check the code; hand over all or
part, marking refused units with a reason; supervisors extend the pickup-by date.

Every decision is the workflow's (`edge_app.workflows.pickups`); this module only shows it."""

from __future__ import annotations

from datetime import datetime, timedelta

import flet as ft

from edge_app.errors import Refused
from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who, number_field, read_int
from edge_app.ui.words import promised_words
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.pickups import (
    PickupOrder,
    PickupSession,
    extend_pickup,
    find_pickup,
    ready_pickups,
    search_pickups,
)
from sync.kinds import RefusalReason

__all__ = ["PickupView", "REFUSAL_WORDS"]

REFUSAL_WORDS = {RefusalReason.DAMAGED: "Damaged", RefusalReason.WRONG_ITEM: "Wrong item",
                 RefusalReason.NOT_WANTED: "Not wanted", RefusalReason.MISSING: "Missing"}


class PickupView(Screen):
    title = "Pickups"
    scan_hint = "Customer's QR, order number or name"

    def __init__(self, who: Who):
        super().__init__(who)
        self.session: PickupSession | None = None
        self.filter = ""
        self.refusals: dict[int, tuple[int, RefusalReason]] = {}
        self.take: dict[int, ft.TextField] = {}
        self.done = False
        self.render()
        self.arrange()

    # -- showing -------------------------------------------------------------------
    def render(self) -> None:
        if self.session is None:
            self._render_list()
        else:
            self._render_order()

    def _render_list(self) -> None:
        self.card.show("FIND THE PICKUP", "Scan the customer's QR code, or type the order number or name.")
        orders = search_pickups(self.replica, self.filter) if self.filter else ready_pickups(self.replica)
        rows: list[ft.Control] = [theme.text(f"Ready for pickup ({len(orders)})", size=20, weight=ft.FontWeight.BOLD)]
        if self.filter:
            rows.append(theme.big_button(f"Show all (filtered by “{self.filter}”)", self._on_clear_filter, ft.Icons.CLEAR, kind="outlined"))
        if not orders:
            rows.append(theme.text("No pickups are waiting. Picked pickup orders appear here.", color=theme.MUTED))
        rows += [self._order_button(o) for o in orders]
        self.body.controls = rows

    def _order_button(self, order: PickupOrder) -> ft.Control:
        body = ft.Column([
            ft.Row([theme.text(order.number, size=22, weight=ft.FontWeight.BOLD),
                    theme.text(f"{order.held} unit{'s' if order.held != 1 else ''}", size=18, weight=ft.FontWeight.W_600)],
                   alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
            theme.text(order.customer_name or "—", size=18),
            theme.text(f"Collect {promised_words(order.pickup_by)}" if order.pickup_by else "", size=15, color=theme.MUTED),
        ], spacing=2)

        async def open_order(_e: ft.Event, o: PickupOrder = order) -> None:
            await self.act(lambda: self._open(o, False))

        return ft.Button(content=ft.Container(body, padding=ft.Padding.symmetric(vertical=8)), on_click=open_order,
                         tooltip=f"Pickup {order.number}", bgcolor=ft.Colors.WHITE,
                         style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=10),
                                              side=ft.BorderSide(1, ft.Colors.BLUE_GREY_300)))

    def _render_order(self) -> None:
        s = self.session
        try:
            order = s.order
        except Refused:
            self.session = None
            return self._render_list()
        step = "DONE" if self.done else "STEP 2 · HAND OVER" if s.code_verified else "STEP 1 · CHECK THE CODE"
        self.card.show(step, "Next customer: tap New customer or scan their QR." if self.done else s.prompt())
        head = theme.card(ft.Column([
            ft.Row([theme.text(order.number, size=24, weight=ft.FontWeight.BOLD),
                    theme.text(order.customer_name, size=18, weight=ft.FontWeight.W_600)],
                   alignment=ft.MainAxisAlignment.SPACE_BETWEEN, wrap=True),
            theme.text(f"Collect {promised_words(order.pickup_by)}" if order.pickup_by else "", size=16, color=theme.MUTED),
            theme.text(f"Waits at: {order.waits_at}" if order.waits_at else "Waits at: no staging place recorded",
                       size=18, weight=ft.FontWeight.W_600),
            *(theme.text(f"{line.short} × {line.name} short: not in stock. Tell the customer.", size=16, color=theme.BAD)
              for line in order.lines if line.short),
        ], spacing=4))
        controls: list[ft.Control] = [head]
        if s.code_verified and not self.done and order.ready:
            self.take = {}
            controls += [self._line_card(line) for line in order.lines if line.held]
            controls.append(theme.big_button("Hand over", self._on_hand_over, ft.Icons.HANDSHAKE))
        controls.append(ft.Row([
            theme.big_button("New customer", self._on_back, ft.Icons.ARROW_BACK, kind="outlined", expand=True),
            *([theme.big_button("Extend pickup-by", self._on_extend, ft.Icons.EVENT, kind="tonal", expand=True)]
              if self.who.role == "supervisor" or (self.who.role is None and self.replica.get_meta("role") == "supervisor") else []),
        ]))
        self.body.controls = controls

    def _line_card(self, line) -> ft.Control:
        refused_qty, reason = self.refusals.get(line.line_no, (0, None))
        field = number_field("Give", line.held - refused_qty, width=100)
        self.take[line.line_no] = field
        note = f"{refused_qty} refused: {REFUSAL_WORDS[reason].lower()}" if refused_qty and reason else f"{line.held} waiting"

        async def refuse(_e: ft.Event, ln=line) -> None:
            self._refuse_dialog(ln)

        return theme.card(ft.Row([
            ft.Column([theme.text(line.name, size=19, weight=ft.FontWeight.W_600),
                       theme.text(f"{line.sku} · {note}", size=15, color=theme.BAD if refused_qty else theme.MUTED)],
                      spacing=2, expand=True),
            field,
            theme.big_button("Refuse", refuse, kind="outlined", tooltip=f"Customer refuses {line.name}"),
        ], vertical_alignment=ft.CrossAxisAlignment.CENTER))

    def _refuse_dialog(self, line) -> None:
        qty = number_field("Units refused", 1)

        def reason_button(reason: RefusalReason) -> ft.Control:
            async def chose(_e: ft.Event) -> None:
                n = read_int(qty) or 0
                if 0 < n <= line.held:
                    self.refusals[line.line_no] = (n, reason)
                    self.banner.show(Feedback(True, f"{n} × {line.name} refused ({REFUSAL_WORDS[reason].lower()}). Press Hand over when ready.", "hand_over"))
                else:
                    typed = (qty.value or "").strip() or "nothing"
                    self.banner.show(Feedback(False, f"Refuse between 1 and {line.held} units of {line.name}; you typed {typed[:20]}.",
                                              "hand_over"))
                self.render()
                await self.close_dialog()
                await self.update()
            return theme.big_button(REFUSAL_WORDS[reason], chose, kind="tonal", width=260)

        self.dialog(f"Why is {line.name} refused?", [qty, *(reason_button(r) for r in RefusalReason)])

    def refresh_from_sync(self) -> None:
        """New hub state: refresh the list; an open order keeps what the person typed."""
        if self.session is None:
            self.render()

    # -- doing ---------------------------------------------------------------------
    def on_code(self, code: str) -> Feedback | None:
        if self.session is not None and not self.done:
            return self.session.verify(code)
        try:
            order, verified = find_pickup(self.replica, code)
        except Refused as exc:
            self.filter = code.strip() if search_pickups(self.replica, code) else ""
            self.session = None
            return Feedback(False, str(exc), "find")
        return self._open(order, verified)

    def _open(self, order: PickupOrder, verified: bool) -> Feedback:
        self.session = PickupSession(self.replica, order.id, self.who.actor, verified)
        self.refusals, self.done, self.filter = {}, False, ""
        words = "QR code OK." if verified else "Ask for the pickup code."
        return Feedback(True, f"{order.number} for {order.customer_name}: {order.held} units. {words}", "code")

    async def _on_hand_over(self, _e: ft.Event) -> None:
        take = {n: read_int(f) or 0 for n, f in self.take.items()}
        refusals = dict(self.refusals)

        def hand_over() -> Feedback:
            feedback = self.session.hand_over(take, refusals)
            if feedback.ok:
                self.refusals = {}
                self.done = feedback.step == "done"
            return feedback
        await self.act(hand_over)

    async def _on_back(self, _e: ft.Event) -> None:
        self.session, self.done, self.refusals = None, False, {}
        self.banner.hide()
        self.render()
        await self.update()

    async def _on_clear_filter(self, _e: ft.Event) -> None:
        self.filter = ""
        self.render()
        await self.update()

    async def _on_extend(self, _e: ft.Event) -> None:
        order = self.session.order
        base = datetime.fromisoformat(order.pickup_by) if order.pickup_by else datetime.now().astimezone()

        def extend_button(days: int) -> ft.Control:
            async def chose(_e: ft.Event) -> None:
                await self.close_dialog()
                await self.act(lambda: extend_pickup(self.replica, order.id, base + timedelta(days=days), self.who.actor, self.who.role))
            return theme.big_button(f"+{days} day{'s' if days != 1 else ''}", chose, kind="tonal", width=260)

        self.dialog(f"Keep {order.number} waiting longer", [
            theme.text(f"Now: collect {promised_words(order.pickup_by or '')}", size=17),
            *(extend_button(d) for d in (1, 3, 7))])
