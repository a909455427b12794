"""The batch pick screen: choose up to six orders, give each a scanned tote, then
one walk through the bins: bin → units → the order's tote. Handheld: one column.
Terminal: the pick list beside the scan panel.

Every decision is the workflow's (`BatchPickSession`); this module only shows it."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who
from edge_app.ui.words import REASON_WORDS, line_progress
from edge_app.workflows import wip
from edge_app.workflows.batch_picking import MAX_BATCH, BatchPickSession
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.picking import PickLine, open_orders
from sync.kinds import ShortReason

__all__ = ["BatchView", "STEP_WORDS"]

STEP_WORDS = {"tote": "STEP 0 · TOTES", "bin": "STEP 1 · BIN", "item": "STEP 2 · ITEM", "put": "STEP 3 · INTO THE TOTE",
              "done": "BATCH DONE"}


class BatchView(Screen):
    title = "Batch pick"

    def __init__(self, who: Who, session: BatchPickSession | None = None):
        super().__init__(who)
        self.actor = who.operator_id
        self.session = session
        self._chosen: list[str] = []
        self.qty = ft.TextField(label="Qty", width=110, text_size=22, keyboard_type=ft.KeyboardType.NUMBER,
                                input_filter=ft.NumbersOnlyInputFilter(), content_padding=14,
                                tooltip="Units taken; leave empty to use the units scanned")
        self._buttons = ft.Column([
            ft.Row([self.qty, theme.big_button("Confirm count", self._on_confirm, ft.Icons.CHECK, expand=True)]),
            ft.Row([theme.big_button("Short", self._on_short, ft.Icons.REPORT_PROBLEM, kind="tonal", expand=True),
                    theme.big_button("Skip line", self._on_skip, ft.Icons.SKIP_NEXT, kind="outlined", expand=True)]),
        ], spacing=10)
        self._totes = ft.Row(wrap=True, spacing=8, run_spacing=8)
        self._lines = ft.Column(spacing=8)
        self._choices = ft.Column(spacing=8)
        self._start = theme.big_button("Start batch", self._on_start, ft.Icons.PLAY_ARROW)
        self._done = theme.big_button("Back to home", self._on_home, ft.Icons.HOME, visible=False)
        self._list_title = theme.text("Pick list · all orders", size=20, weight=ft.FontWeight.BOLD)
        self.render()
        self.arrange()

    @classmethod
    def resume(cls, who: Who, state: dict[str, Any]) -> "BatchView":
        """The operator's saved batch, at the step they left it."""
        return cls(who, BatchPickSession.restore(who.replica, state, who.operator_id))

    # -- showing ------------------------------------------------------------------------
    def render(self) -> None:
        if self.session is None:
            self._render_choice()
            return
        s = self.session
        self.card.show(STEP_WORDS.get(s.step, ""), s.prompt())
        self._buttons.visible = s.step in ("bin", "item", "put")
        self.scan.field.visible = s.step != "done"
        self._totes.controls = [self._tote_chip(o) for o in s.order_ids]
        self._lines.controls = [self._line_row(line) for line in s.lines()]
        self._done.visible = s.step == "done"
        self.actions.controls = [self._buttons, self._done, self._totes]
        self.body.controls = [self._list_title, self._lines]

    def _render_choice(self) -> None:
        orders = open_orders(self.replica)
        self.card.show("CHOOSE ORDERS", f"Tick up to {MAX_BATCH} orders for one walk, then start.")
        self._choices.controls = [ft.Checkbox(
            label=f"{o.number} · {o.customer_name} · {o.open_units} units", value=o.id in self._chosen,
            on_change=lambda e, oid=o.id: self._toggle(oid, e.control.value), label_style=ft.TextStyle(size=19),
        ) for o in orders] or [theme.text("No orders to pick.", size=18, color=theme.MUTED)]
        self._start.content = f"Start batch ({len(self._chosen)})"
        self._start.disabled = not self._chosen
        self.scan.field.visible = False
        self.actions.controls = [self._choices, self._start]
        self.body.controls = []

    def _tote_chip(self, order_id: str) -> ft.Control:
        tote = self.session.tote_for(order_id)
        current = self.session.current is not None and self.session.current.order_id == order_id and self.session.step == "put"
        return theme.card(theme.text(f"{self.session.numbers[order_id]}: {'tote ' + tote if tote else 'no tote yet'}",
                                     size=16, weight=ft.FontWeight.W_600),
                          bgcolor=theme.CURRENT if current else ft.Colors.WHITE)

    def _line_row(self, line: PickLine) -> ft.Control:
        s = self.session
        current = s.current is not None and (line.order_id, line.line_no) == (s.current.order_id, s.current.line_no)
        finished = line.open_qty == 0
        icon = (ft.Icons.WARNING_AMBER if finished and line.short else ft.Icons.CHECK_CIRCLE if finished
                else ft.Icons.ARROW_FORWARD if current else ft.Icons.RADIO_BUTTON_UNCHECKED)
        colour = theme.BAD if finished and line.short else theme.OK if finished else theme.INK if current else theme.MUTED
        tote = s.tote_for(line.order_id) or "—"
        return theme.card(ft.Row([ft.Icon(icon, color=colour, size=28), ft.Column([
            ft.Row([theme.text(line.bin or "no bin", size=20, weight=ft.FontWeight.BOLD),
                    theme.text(line_progress(line), size=16, weight=ft.FontWeight.W_600)],
                   alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
            theme.text(f"{line.name} · {s.numbers[line.order_id]} · tote {tote}", size=16),
        ], spacing=2, expand=True)]), bgcolor=theme.CURRENT if current else ft.Colors.WHITE,
            border=ft.Border.all(3 if current else 1, ft.Colors.AMBER_800 if current else ft.Colors.BLUE_GREY_200))

    # -- doing --------------------------------------------------------------------------
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
        self.scan.field.visible = True
        self.show(Feedback(True, f"Batch of {len(self._chosen)} orders. {self.session.prompt()}", self.session.step))
        self.save()
        await self.update()

    def on_code(self, code: str) -> Feedback | None:
        return self.session.scan(code) if self.session is not None else None

    async def _on_confirm(self, _e: ft.Event) -> None:
        typed = (self.qty.value or "").strip()
        await self.act(lambda: self.session.confirm(int(typed) if typed.isdigit() else None))

    async def _on_skip(self, _e: ft.Event) -> None:
        await self.act(self.session.skip)

    async def _on_short(self, e: ft.Event) -> None:
        typed = (self.qty.value or "").strip()
        picked = int(typed) if typed.isdigit() else None

        def reason_button(reason: ShortReason) -> ft.Control:
            async def chose(_e: ft.Event) -> None:
                e.page.pop_dialog()
                await self.act(lambda: self.session.short(reason, picked))
            return theme.big_button(REASON_WORDS[reason], chose, kind="tonal", width=260)

        async def cancel(_e: ft.Event) -> None:
            e.page.pop_dialog()
            await self.focus_scan()

        line = self.session.current
        e.page.show_dialog(ft.AlertDialog(
            modal=True, title=theme.text("Why is it short?", size=24, weight=ft.FontWeight.BOLD),
            content=ft.Column([theme.text(f"{line.name if line else ''} in bin {line.bin if line else ''}", size=17),
                               *(reason_button(r) for r in ShortReason)], tight=True, spacing=12),
            actions=[theme.big_button("Cancel", cancel, kind="outlined")]))

    async def _on_home(self, _e: ft.Event) -> None:
        await self.who.nav.home()

    def show(self, feedback: Feedback | None) -> None:
        self.qty.value = ""
        super().show(feedback)

    def save(self) -> None:
        """Keep the batch's position in the replica, so a restart resumes it at the same step."""
        if self.session is None or self.session.step == "done":
            wip.clear(self.replica, self.actor, "batch")
        else:
            wip.save(self.replica, self.actor, "batch", self.session.state())
