"""The pack screen: scan a tote or an order, scan every unit into the carton,
choose the carton, weigh and close it, see its label and packing slip, hand the
cartons to the carrier. Handheld: one column. Terminal: the order's lines on the
left, the scan panel and the carton on the right.

Every decision is the workflow's (`PackSession`); this module only shows it."""

from __future__ import annotations

from typing import Any

import flet as ft

from devices.errors import DeviceError
from edge_app.errors import Refused
from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who
from edge_app.workflows import wip
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.pack_labels import carton_label_png, packing_slip_png
from edge_app.workflows.packing import CARTON_TYPES, PackLine, PackSession, find_order, orders_to_pack, orders_to_ship

__all__ = ["PackView", "STEP_WORDS"]

STEP_WORDS = {"find": "FIND THE ORDER", "scan": "STEP 1 · SCAN EACH UNIT", "carton": "STEP 2 · CHOOSE CARTON",
              "weigh": "STEP 3 · WEIGH AND CLOSE", "ship": "STEP 4 · HAND TO CARRIER", "done": "ORDER SHIPPED"}
_NEXT = ft.Border.all(3, ft.Colors.AMBER_800)
_IDLE = ft.Border.all(1, ft.Colors.BLUE_GREY_200)


class PackView(Screen):
    title = "Packing"

    def __init__(self, who: Who, session: PackSession | None = None):
        super().__init__(who)
        self.actor = who.operator_id
        self.session = session
        self._queue = ft.Column(spacing=8)
        self._lines = ft.Column(spacing=8)
        self._types = ft.Row(wrap=True, spacing=8, run_spacing=8)
        self._carton = theme.card(ft.Column([theme.text("Carton type", size=18, weight=ft.FontWeight.W_600), self._types], spacing=8))
        self.weight = ft.TextField(label="Weight (g)", width=170, text_size=22, keyboard_type=ft.KeyboardType.NUMBER,
                                   input_filter=ft.NumbersOnlyInputFilter(), content_padding=14)
        self._computed = theme.text("", size=15, color=theme.MUTED)
        self._weigh = theme.card(ft.Column([
            ft.Row([self.weight, theme.big_button("Close carton", self._on_close, ft.Icons.INVENTORY_2, expand=True)]),
            self._computed], spacing=6))
        self.carrier = ft.TextField(label="Carrier", value="Parcel carrier", text_size=20, content_padding=14, expand=True)
        self._ship = theme.card(ft.Column([ft.Row([self.carrier]), theme.big_button("Handed to carrier", self._on_ship, ft.Icons.LOCAL_SHIPPING)],
                                          spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH))
        self._labels = ft.ResponsiveRow(spacing=10, run_spacing=10)
        self._queue_title = theme.text("Waiting to be packed or shipped", size=20, weight=ft.FontWeight.BOLD)
        self._lines_title = theme.text("In this order", size=20, weight=ft.FontWeight.BOLD)
        self.subheading.visible = True
        self._seq_seen = self.replica.get_meta("next_seq")
        self.actions.controls = [self._carton, self._weigh, self._ship, self._labels]
        self.render()
        self.arrange()

    @classmethod
    def resume(cls, who: Who, state: dict[str, Any]) -> "PackView":
        """The operator's open carton, at the step they left it."""
        session = PackSession.restore(who.replica, state, who.operator_id)
        if session is None:
            raise LookupError(state.get("order_id"))
        return cls(who, session)

    # -- showing ------------------------------------------------------------------------
    def render(self) -> None:
        s = self.session
        step = s.step if s else "find"
        self.card.show(STEP_WORDS[step], s.prompt() if s else "Scan a tote or an order number, or tap an order below.")
        if s:
            tote = f" · tote {s.order.tote}" if s.order.tote else ""
            self.heading.value, self.subheading.value = f"Pack {s.order.number}", f"{s.order.customer_name}{tote}"
            self._lines.controls = [self._line_row(line) for line in s.lines()]
            self._types.controls = [self._type_button(code) for code in CARTON_TYPES]
            self._computed.value = f"Leave empty to use the computed {s.computed_weight_g()} g (carton + item weights)."
            typed = s.in_carton and s.carton_type is None
            self._carton.border = _NEXT if step == "carton" or typed else _IDLE
            self._weigh.border = _NEXT if step == "weigh" else _IDLE
            self._ship.border = _NEXT if step == "ship" else _IDLE
        else:
            self.heading.value, self.subheading.value = "Packing", "Orders picked and waiting for a carton"
            self._queue.controls = self._queue_rows()
        self._carton.visible = self._weigh.visible = bool(s) and step in ("scan", "carton", "weigh")
        self._ship.visible = bool(s) and step == "ship"
        self.scan.field.label = "Scan tote or order" if step in ("find", "done") else "Scan item"
        self._layout(step)

    def _layout(self, step: str) -> None:
        if self.session is None or step == "done":
            self._queue.controls = self._queue_rows()
            self.body.controls = [self._queue_title, self._queue]
        else:
            self.body.controls = [self._lines_title, self._lines]

    def _queue_rows(self) -> list[ft.Control]:
        rows = [self._order_button(o, f"{o.units_to_pack} unit{'s' if o.units_to_pack != 1 else ''} to pack")
                for o in orders_to_pack(self.replica)]
        rows += [self._order_button(o, "packed · hand to carrier") for o in orders_to_ship(self.replica)]
        return rows or [theme.text("Nothing to pack. Picked ship orders appear here after the next sync.", size=17, color=theme.MUTED)]

    def _order_button(self, order, words: str) -> ft.Control:
        async def open_order(_e: ft.Event) -> None:
            await self._open(order)

        tote = f" · tote {order.tote}" if order.tote else ""
        return ft.Button(
            content=ft.Container(ft.Column([theme.text(order.number, size=22, weight=ft.FontWeight.BOLD),
                                            theme.text(f"{order.customer_name}{tote} · {words}", size=16)], spacing=2),
                                 padding=ft.Padding.symmetric(vertical=8)),
            on_click=open_order, tooltip=f"Pack order {order.number}", bgcolor=ft.Colors.WHITE,
            style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=10), side=ft.BorderSide(1, ft.Colors.BLUE_GREY_300)))

    def _line_row(self, line: PackLine) -> ft.Control:
        in_carton = self.session.in_carton.get(line.line_no, 0)
        done = line.to_pack == 0
        icon = ft.Icon(ft.Icons.CHECK_CIRCLE if done else ft.Icons.RADIO_BUTTON_UNCHECKED, size=28,
                       color=theme.OK if done else theme.MUTED)
        words = f"{line.packed} of {line.picked} packed" + (f" · {in_carton} in this carton" if in_carton else "")
        if line.ship_with:  # the channel's set or gift: one parcel for all its lines
            words += f" · pack with set {line.ship_with}"
        return theme.card(ft.Row([icon, ft.Column([theme.text(line.name, size=19, weight=ft.FontWeight.W_600),
                                                   theme.text(words, size=16)], spacing=2, expand=True)]),
                          bgcolor=theme.CURRENT if in_carton and not done else ft.Colors.WHITE)

    def _type_button(self, code: str) -> ft.Control:
        carton = CARTON_TYPES[code]
        chosen = self.session.carton_type is not None and self.session.carton_type.code == code

        async def choose(_e: ft.Event) -> None:
            await self.act(lambda: self.session.choose_carton(code))

        return theme.big_button(carton.name, choose, ft.Icons.CHECK if chosen else None, kind="filled" if chosen else "outlined")

    def _show_labels(self) -> None:
        carton = self.session.last_carton if self.session else None
        if not carton:
            self._labels.controls = []
            return
        try:
            label = carton_label_png(self.replica, self.session.order, carton, self.carrier.value or "Carrier")
            slip = packing_slip_png(self.replica, self.session.order, carton)
        except DeviceError as exc:
            # The carton is recorded either way: only its pictures could not be drawn.
            self._labels.controls = []
            self.banner.show(Feedback(False, f"Carton closed, but its label can't be printed: {exc}. "
                                             "Write the order number and SSCC on the carton by hand.", "label"))
            return
        self._labels.controls = [
            ft.Container(ft.Column([theme.text(title, size=16, weight=ft.FontWeight.W_600),
                                    ft.Image(src=png, fit=ft.BoxFit.CONTAIN, semantics_label=title)], spacing=4),
                         col={"xs": 12, "sm": 6}, bgcolor=ft.Colors.WHITE, padding=6, border_radius=8)
            for title, png in (("Shipping label", label), ("Packing slip", slip))]

    # -- doing --------------------------------------------------------------------------
    def on_code(self, code: str) -> Feedback:
        if self.session is None or self.session.step == "done":
            try:
                order = find_order(self.replica, code)
            except Refused as exc:
                return Feedback(False, str(exc), "find")
            return self._start(order)
        return self.session.scan(code)

    def _start(self, order) -> Feedback:
        self.session = PackSession(self.replica, order, self.actor)
        self._labels.controls = []
        self._carrier_from_labels()
        return Feedback(True, f"Order {order.number} open. {self.session.prompt()}", self.session.step)

    async def _open(self, order) -> None:
        await self.act(lambda: self._start(order))

    async def _on_close(self, _e: ft.Event) -> None:
        typed = (self.weight.value or "").strip()
        await self.act(lambda: self.session.close_carton(int(typed) if typed.isdigit() else None))
        self._carrier_from_labels()
        self._show_labels()
        await self.update()

    def _carrier_from_labels(self) -> None:
        """The carrier the cartons were labelled for (edge_app.workflows.carriers) fills the field."""
        chosen = self.session.carrier() if self.session else None
        if chosen:
            self.carrier.value = chosen

    async def _on_ship(self, _e: ft.Event) -> None:
        carrier = (self.carrier.value or "").strip() or "Parcel carrier"
        await self.act(lambda: self.session.hand_to_carrier(carrier))

    def show(self, feedback: Feedback | None) -> None:
        if self.replica.get_meta("next_seq") != self._seq_seen:
            self.weight.value = ""  # the carton was closed: the next starts with an empty weight
            self._seq_seen = self.replica.get_meta("next_seq")
        super().show(feedback)

    def save(self) -> None:
        """Keep the open carton in the replica, so a restart resumes it."""
        if self.session is None or self.session.step == "done":
            wip.clear(self.replica, self.actor, "pack")
        else:
            wip.save(self.replica, self.actor, "pack", self.session.state())
