"""The pick screens: one order (`PickView`) or a cart of totes (`BatchView`), both on
the one pick walk (edge_app.workflows.picking). The step in big text, the scan field
that keeps the focus, a green or red banner after every scan, the count and Confirm
only once the bin and a unit are verified, Short and Skip, a substitute for a line
that allows one (its candidates ranked, closest first), who holds the order (its
claim), and the pick list in bin order with per-line progress. Terminal: what to do
on the left, the pick list on the right.

Every decision is the workflow's; this module only shows it."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who, read_int
from edge_app.ui.words import REASON_WORDS, RISK_WORDS, line_progress
from edge_app.workflows import wip
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.pick_list import OrderSummary, PickLine, open_orders
from edge_app.workflows.picking import (
    MAX_BATCH,
    BatchPickSession,
    Claim,
    PickSession,
    PickWalk,
    claim_order,
    claim_state,
    release_claim,
)
from sync.kinds import ShortReason

__all__ = ["PickView", "BatchView", "STEP_WORDS"]

STEP_WORDS = {"tote": "STEP 0 · TOTES", "bin": "STEP 1 · BIN", "item": "STEP 2 · ITEM", "count": "STEP 3 · COUNT",
              "put": "STEP 4 · INTO THE TOTE", "done": "DONE", "substitute": "STEP 2 · SUBSTITUTE"}


class PickView(Screen):
    """One order being picked on one tab (a subclass walks a batch)."""

    flow = "pick"  # its work-in-progress key

    def __init__(self, who: Who, order: OrderSummary | None = None, session: PickWalk | None = None):
        super().__init__(who)
        self.actor = who.operator_id
        self.session = session or (PickSession(who.replica, order.id, self.actor) if order else None)
        if order is not None:
            self.heading.value = order.number
            why = f"\nWhy here: {order.routing_why}" if order.routing_why else ""
            self.subheading.value, self.subheading.visible = f"{order.customer_name}{why}", True
        self.qty = ft.TextField(label="Count", width=120, text_size=22, keyboard_type=ft.KeyboardType.NUMBER,
                                input_filter=ft.NumbersOnlyInputFilter(), content_padding=14,
                                tooltip="Units taken; leave empty to use the units scanned")
        self._count = ft.Row([self.qty, theme.big_button("Confirm count", self._on_confirm, ft.Icons.CHECK, expand=True)])
        self._line_actions = ft.Row([
            theme.big_button("Short", self._on_short, ft.Icons.REPORT_PROBLEM, kind="tonal", expand=True),
            theme.big_button("Skip line", self._on_skip, ft.Icons.SKIP_NEXT, kind="outlined", expand=True)])
        # substitution at pick: offered when the line allows one and a candidate is on hand here
        self._substitute = theme.big_button("Out: substitute", self._on_substitute, ft.Icons.SWAP_HORIZ, kind="tonal",
                                            visible=False, tooltip="The item is out: take a substitute the order allows")
        self._cancel_substitute = theme.big_button("Cancel substitute", self._on_cancel_substitute, ft.Icons.UNDO,
                                                   kind="outlined", visible=False)
        self._camera = theme.big_button("Camera", self._on_camera, ft.Icons.PHOTO_CAMERA, kind="outlined",
                                        tooltip="Scan with this device's camera", visible=False)
        self._claim = ft.Container(padding=12, border_radius=10, visible=False)
        self._totes = ft.Row(wrap=True, spacing=8, run_spacing=8)
        self._lines = ft.Column(spacing=8)
        self._back = theme.big_button(self.back_words, self._on_back, ft.Icons.ARROW_BACK, kind="outlined")
        self._shown_lines: tuple[Any, ...] | None = None  # what the pick list shows: rebuilt only when it changes
        self._saved: dict[str, Any] | None = None
        self.actions.controls = [self._claim, self._count, self._line_actions, self._substitute, self._cancel_substitute,
                                 self._camera, self._totes, self._back]
        self.body.controls = [theme.text("Pick list", size=20, weight=ft.FontWeight.BOLD), self._lines]
        if self.session is not None:
            self._claim_all()
            self.render()
        self.arrange()

    back_words = "Back to orders"

    @classmethod
    def resume(cls, who: Who, state: dict[str, Any]) -> "PickView":
        """The operator's saved walk, at the step they left it."""
        return cls(who, session=PickSession.restore(who.replica, state, who.operator_id))

    # -- showing ------------------------------------------------------------------------
    def render(self) -> None:
        s = self.session
        assert s is not None
        self.card.show(STEP_WORDS.get(s.step, ""), s.prompt())
        walking = s.current is not None and s.step in ("bin", "item", "count", "put", "substitute")
        substituting = s.step == "substitute"
        self._count.visible = s.counting or (substituting and s.scanned_units > 0)
        self._line_actions.visible = walking
        self._substitute.visible = s.step in ("bin", "item") and bool(s.substitutes())
        self._cancel_substitute.visible = substituting
        self._camera.visible = walking and _camera_here(self.who)
        if self.scan is not None:
            self.scan.field.visible = s.step != "done"
        self._show_claim()
        self._show_lines(s)

    def _show_lines(self, s: PickWalk) -> None:
        """The pick list and the totes, rebuilt only when what they show changed: a refused
        scan changes neither, and rebuilding them made every scan's update heavy."""
        lines = s.lines()
        current = (s.current.order_id, s.current.line_no) if s.current else None
        shown = (tuple(lines), current, s.step == "put", tuple(sorted(s.totes.items())))
        if shown == self._shown_lines:
            return
        self._shown_lines = shown
        self._totes.controls = [self._tote_chip(o) for o in s.order_ids] if s.uses_totes else []
        self._lines.controls = [self._line_row(line) for line in lines]

    def _show_claim(self) -> None:
        claims = [claim_state(self.replica, o) for o in self.session.order_ids] if self.session else []
        shown: Claim | None = next((c for c in claims if c.blocked), None) or next((c for c in claims if c.state == "waiting"), None)
        self._claim.visible = shown is not None
        if shown is not None:
            self._claim.bgcolor = theme.BAD if shown.blocked else ft.Colors.BLUE_GREY_100
            self._claim.content = theme.text(shown.words, size=17, weight=ft.FontWeight.W_600,
                                             color=ft.Colors.WHITE if shown.blocked else theme.INK)

    def _line_row(self, line: PickLine) -> ft.Control:
        s = self.session
        current = s is not None and s.current is not None and (line.order_id, line.line_no) == (s.current.order_id, s.current.line_no)
        finished = line.open_qty == 0
        icon = (ft.Icons.WARNING_AMBER if finished and line.short else ft.Icons.CHECK_CIRCLE if finished
                else ft.Icons.ARROW_FORWARD if current else ft.Icons.RADIO_BUTTON_UNCHECKED)
        colour = theme.BAD if finished and line.short else theme.OK if finished else theme.INK if current else theme.MUTED
        where = f" · {s.numbers[line.order_id]} · tote {s.tote_for(line.order_id) or '—'}" if s and s.uses_totes else ""
        return theme.card(ft.Row([ft.Icon(icon, color=colour, size=28), ft.Column([
            ft.Row([theme.text(line.bin or "no bin", size=20, weight=ft.FontWeight.BOLD),
                    theme.text(line_progress(line), size=16, weight=ft.FontWeight.W_600)],
                   alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
            theme.text(f"{line.name} · {line.sku}{where}", size=16),
            ft.ProgressBar(value=(line.picked + line.short) / line.qty if line.qty else 1,
                           color=theme.BAD if line.short else theme.OK, bgcolor=ft.Colors.BLUE_GREY_100,
                           bar_height=8, border_radius=4),
        ], spacing=4, expand=True)]), bgcolor=theme.CURRENT if current else ft.Colors.WHITE,
            border=ft.Border.all(3 if current else 1, ft.Colors.AMBER_800 if current else ft.Colors.BLUE_GREY_200))

    def _tote_chip(self, order_id: str) -> ft.Control:
        s = self.session
        tote = s.tote_for(order_id)
        current = s.current is not None and s.current.order_id == order_id and s.step == "put"
        return theme.card(theme.text(f"{s.numbers[order_id]}: {'tote ' + tote if tote else 'no tote yet'}",
                                     size=16, weight=ft.FontWeight.W_600),
                          bgcolor=theme.CURRENT if current else ft.Colors.WHITE)

    # -- doing --------------------------------------------------------------------------
    def on_code(self, code: str) -> Feedback | None:
        return self.session.scan(code) if self.session is not None else None

    def refresh_from_sync(self) -> None:
        """New hub state: lines picked elsewhere, and the hub's answer to this claim."""
        if self.session is not None:
            self.render()
        self.arrange()

    def show(self, feedback: Feedback | None) -> None:
        self.qty.value = ""
        super().show(feedback)

    async def _on_confirm(self, _e: ft.Event) -> None:
        typed, self.qty.value = (self.qty.value or "").strip(), ""
        if typed and not typed.isdigit():
            await self.act(lambda: Feedback(False, f"Type the count in digits; you typed {typed[:20]}.", "count"))
            return
        await self.act(lambda: self.session.confirm(int(typed) if typed else None))

    async def _on_skip(self, _e: ft.Event) -> None:
        await self.act(self.session.skip)

    async def _on_short(self, _e: ft.Event) -> None:
        picked = read_int(self.qty) if self.session.counting else None
        line = self.session.current

        def reason_button(reason: ShortReason) -> ft.Control:
            async def chose(_e: ft.Event) -> None:
                await self.close_dialog()
                await self.act(lambda: self.session.short(reason, picked))
            return theme.big_button(REASON_WORDS[reason], chose, kind="tonal", width=260)

        held = f" You hold {self.session.scanned_units}; they are taken." if self.session.scanned_units else ""
        self.dialog("Why is it short?", [theme.text(f"{line.name if line else ''} in bin {line.bin if line else ''}.{held}", size=17),
                                         *(reason_button(r) for r in ShortReason)])

    async def _on_substitute(self, _e: ft.Event) -> None:
        """The candidates the workflow ranks, closest match first; one tap chooses."""
        line = self.session.current

        def candidate_button(c: Any) -> ft.Control:
            async def chose(_e: ft.Event) -> None:
                await self.close_dialog()
                await self.act(lambda: self.session.take_substitute(c.sku))
            return theme.big_button(f"{c.name} · {c.on_hand} here", chose, kind="tonal", width=320,
                                    tooltip=f"{c.sku}: {c.why}")

        self.dialog("Take a substitute", [theme.text(f"{line.name if line else ''} is out. Closest match first:", size=17),
                                          *(candidate_button(c) for c in self.session.substitutes())])

    async def _on_cancel_substitute(self, _e: ft.Event) -> None:
        await self.act(self.session.cancel_substitute)

    async def _on_camera(self, _e: ft.Event) -> None:
        """The device's own camera as a second scanner: each code goes through the same scan call."""
        from edge_app.ui.camera_scan import camera_scan_view  # OpenCV and zxing load only when asked for

        loop = asyncio.get_running_loop()

        def on_scan(scan: Any) -> None:
            loop.create_task(self.act(lambda: self.session.scan(scan.data)))

        self.dialog("Camera", [ft.Container(camera_scan_view(on_scan, preview_width=320), width=340, height=420)],
                    [theme.big_button("Close camera", self.close_dialog, kind="outlined")])

    async def _on_back(self, _e: ft.Event) -> None:
        """Leave the walk: an unfinished order's claim is let go, so another handheld may pick it."""
        if self.session is not None and self.session.step != "done":
            await asyncio.to_thread(self._release)
        wip.clear(self.replica, self.actor, self.flow)
        await self.who.nav.open("orders")

    def _release(self) -> None:
        for order_id in self.session.order_ids:
            release_claim(self.replica, order_id, self.actor)
        self.who.runtime.recorded()

    def _claim_all(self) -> None:
        for order_id in self.session.order_ids:
            claim_order(self.replica, order_id, self.actor)
        self.who.runtime.recorded()

    def save(self) -> None:
        """Keep the walk's position in the replica, so a sign-out or a restart resumes it
        (written only when it moved: a refused scan leaves it where it was)."""
        state = None if self.session is None or self.session.step == "done" else self.session.state()
        if state == self._saved:
            return
        if state is None:
            wip.clear(self.replica, self.actor, self.flow)
        else:
            wip.save(self.replica, self.actor, self.flow, state)
        self._saved = state


class BatchView(PickView):
    """Choose up to MAX_BATCH orders, give each a scanned tote, then one walk."""

    title = "Batch pick"
    flow = "batch"
    back_words = "Back to home"

    def __init__(self, who: Who, session: BatchPickSession | None = None):
        self._chosen: list[str] = []
        self._choices = ft.Column(spacing=8)
        self._start = theme.big_button("Start batch", self._on_start, ft.Icons.PLAY_ARROW)
        super().__init__(who, session=session)
        if session is None:
            self.render()
            self.arrange()

    @classmethod
    def resume(cls, who: Who, state: dict[str, Any]) -> "BatchView":
        return cls(who, BatchPickSession.restore(who.replica, state, who.operator_id))

    def render(self) -> None:
        if self.session is not None:
            if self.actions.controls[0] is self._choices:  # the walk begins: its panel replaces the chooser
                self.actions.controls = [self._claim, self._count, self._line_actions, self._substitute,
                                         self._cancel_substitute, self._camera, self._totes, self._back]
                self.body.controls = [theme.text("Pick list", size=20, weight=ft.FontWeight.BOLD), self._lines]
            super().render()
            return
        orders = open_orders(self.replica)
        self.card.show("CHOOSE ORDERS", f"Tick up to {MAX_BATCH} orders for one walk, then start.")
        self._choices.controls = [ft.Checkbox(
            label=f"{o.number} · {o.customer_name} · {o.open_units} units"
                  + (f" · {RISK_WORDS[o.risk_level]}" if o.risk_level in RISK_WORDS else ""), value=o.id in self._chosen,
            on_change=lambda e, oid=o.id: self._toggle(oid, e.control.value), label_style=ft.TextStyle(size=19),
        ) for o in orders] or [theme.text("No orders to pick.", size=18, color=theme.MUTED)]
        self._start.content = f"Start batch ({len(self._chosen)})"
        self._start.disabled = not self._chosen
        if self.scan is not None:
            self.scan.field.visible = False
        self.actions.controls = [self._choices, self._start, self._back]
        self.body.controls = []

    def _toggle(self, order_id: str, on: bool) -> None:
        if on and order_id not in self._chosen and len(self._chosen) < MAX_BATCH:
            self._chosen.append(order_id)
        elif not on and order_id in self._chosen:
            self._chosen.remove(order_id)
        self.render()
        self.control.update()

    async def _on_start(self, _e: ft.Event) -> None:
        if not self._chosen:
            return
        self.session = await asyncio.to_thread(BatchPickSession, self.replica, list(self._chosen), self.actor)
        await asyncio.to_thread(self._claim_all)
        self.show(Feedback(True, f"Batch of {len(self._chosen)} orders. {self.session.prompt()}", self.session.step))
        self.save()
        await self.update()

    async def _on_back(self, _e: ft.Event) -> None:
        if self.session is not None and self.session.step != "done":
            await asyncio.to_thread(self._release)
        wip.clear(self.replica, self.actor, self.flow)
        await self.who.nav.home()


def _camera_here(who: Who) -> bool:
    """A camera this client can open: a native app with the camera module, never the
    web page (there OpenCV would open a camera on the server, not the handheld's)."""
    page = who.app.page
    if getattr(page, "web", False):
        return False
    # A native build without OpenCV and zxing-cpp (phones: packaging/floor-app) has no camera scanner.
    return all(importlib.util.find_spec(m) is not None for m in ("cv2", "zxingcpp"))
