"""The pick screen: the current step in big text, a scan field that keeps the
focus, a green or red banner after every scan, the actions, and the pick list
in bin order with per-line progress.

Every decision is the workflow's (`PickSession`); this module only shows it."""

from __future__ import annotations

import asyncio
import importlib.util

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who
from edge_app.ui.words import REASON_WORDS, line_progress
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.picking import OrderSummary, PickLine, PickSession
from sync.kinds import ShortReason

__all__ = ["PickView"]

class PickView(Screen):
    """One order being picked on one tab."""

    def __init__(self, who: Who, order: OrderSummary):
        super().__init__(who)
        self.order = order
        self.session = PickSession(who.replica, order.id, who.actor)
        self.heading.value = order.number
        self.subheading.value, self.subheading.visible = order.customer_name, True
        self.qty = ft.TextField(label="Qty", width=110, text_size=22, keyboard_type=ft.KeyboardType.NUMBER,
                                input_filter=ft.NumbersOnlyInputFilter(), content_padding=14,
                                tooltip="Units taken; leave empty to use the units scanned")
        self._buttons = ft.Column(
            [
                ft.Row([self.qty, theme.big_button("Confirm qty", self._on_confirm, ft.Icons.CHECK, expand=True)]),
                ft.Row(
                    [
                        theme.big_button("Short", self._on_short, ft.Icons.REPORT_PROBLEM, kind="tonal", expand=True),
                        theme.big_button("Skip line", self._on_skip, ft.Icons.SKIP_NEXT, kind="outlined", expand=True),
                    ]
                ),
            ],
            spacing=10,
        )
        self._camera = theme.big_button(
            "Camera", self._on_camera, ft.Icons.PHOTO_CAMERA, kind="outlined", tooltip="Scan with the camera",
            visible=importlib.util.find_spec("edge_app.ui.camera_scan") is not None,
        )
        self._done = theme.big_button("Back to orders", self._on_back, ft.Icons.LIST, visible=False)
        self._lines = ft.Column(spacing=8)
        self.actions.controls = [self._buttons, self._camera, self._done,
                                 theme.big_button("Back to orders", self._on_back, ft.Icons.ARROW_BACK, kind="outlined")]
        self.body.controls = [theme.text("Pick list", size=20, weight=ft.FontWeight.BOLD), self._lines]
        self.render()
        self.arrange()

    # -- showing ------------------------------------------------------------------
    def render(self) -> None:
        """Re-read the session and the pick list into the controls."""
        s = self.session
        done = s.current is None
        self.card.show("ORDER DONE" if done else {"bin": "STEP 1 · BIN", "item": "STEP 2 · ITEM",
                                                   "qty": "STEP 3 · COUNT"}.get(s.step, ""), s.prompt())
        self._buttons.visible = self._camera.visible = not done
        self.scan.field.visible = not done
        self._done.visible = done
        self._lines.controls = [self._line_row(line) for line in s.lines()]

    def _line_row(self, line: PickLine) -> ft.Control:
        current = self.session.current is not None and line.line_no == self.session.current.line_no
        finished = line.open_qty == 0
        icon = (ft.Icon(ft.Icons.WARNING_AMBER, color=theme.BAD, size=28) if finished and line.short
                else ft.Icon(ft.Icons.CHECK_CIRCLE, color=theme.OK, size=28) if finished
                else ft.Icon(ft.Icons.ARROW_FORWARD, color=theme.INK, size=28) if current
                else ft.Icon(ft.Icons.RADIO_BUTTON_UNCHECKED, color=theme.MUTED, size=28))
        row = ft.Row(
            [
                icon,
                ft.Column(
                    [
                        ft.Row([theme.text(line.bin or "no bin", size=20, weight=ft.FontWeight.BOLD),
                                theme.text(line_progress(line), size=16, weight=ft.FontWeight.W_600)],
                               alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
                        theme.text(f"{line.name} · {line.sku}", size=16),
                        ft.ProgressBar(value=(line.picked + line.short) / line.qty if line.qty else 1,
                                       color=theme.BAD if line.short else theme.OK, bgcolor=ft.Colors.BLUE_GREY_100,
                                       bar_height=8, border_radius=4),
                    ],
                    spacing=4,
                    expand=True,
                ),
            ],
        )
        return theme.card(row, bgcolor=theme.CURRENT if current else ft.Colors.WHITE,
                          border=ft.Border.all(3 if current else 1, ft.Colors.AMBER_800 if current else ft.Colors.BLUE_GREY_200))

    # -- doing --------------------------------------------------------------------
    def on_code(self, code: str) -> Feedback:
        return self.session.scan(code)

    async def _on_confirm(self, _e: ft.Event) -> None:
        qty = self._typed_qty()
        await self.act(lambda: self.session.confirm(qty))

    async def _on_skip(self, _e: ft.Event) -> None:
        await self.act(self.session.skip)

    async def _on_short(self, e: ft.Event) -> None:
        picked = self._typed_qty()

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
            modal=True,
            title=theme.text("Why is it short?", size=24, weight=ft.FontWeight.BOLD),
            content=ft.Column(
                [theme.text(f"{line.name if line else ''} in bin {line.bin if line else ''}", size=17),
                 *(reason_button(r) for r in ShortReason)],
                tight=True, spacing=12,
            ),
            actions=[theme.big_button("Cancel", cancel, kind="outlined")],
        ))

    async def _on_camera(self, e: ft.Event) -> None:
        """The camera as a second scanner: each code it reads goes through the same scan call."""
        from edge_app.ui.camera_scan import camera_scan_view  # OpenCV and zxing load only when asked for

        loop = asyncio.get_running_loop()

        def on_scan(scan) -> None:
            loop.create_task(self.act(lambda: self.session.scan(scan.data)))

        async def close(_e: ft.Event) -> None:
            e.page.pop_dialog()
            await self.focus_scan()

        e.page.show_dialog(ft.AlertDialog(
            content=ft.Container(camera_scan_view(on_scan, preview_width=320), width=340, height=420),
            actions=[theme.big_button("Close camera", close, kind="outlined")],
        ))

    async def _on_back(self, _e: ft.Event) -> None:
        await self.who.nav.open("orders")

    def show(self, feedback: Feedback | None) -> None:
        self.qty.value = ""
        super().show(feedback)

    def _typed_qty(self) -> int | None:
        value = (self.qty.value or "").strip()
        return int(value) if value.isdigit() else None
