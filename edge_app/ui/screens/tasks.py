"""Counts and tasks: the open tasks of this location (put back, recount, refund
review, reroute) with a Done button each, and the ways into a stock look-up, a
blind count and a bin move. Scanning an item here looks it up.

Every decision is the workflow's (`edge_app.workflows.tasks`); this module only shows it."""

from __future__ import annotations

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who
from edge_app.workflows.tasks import KIND_WORDS, Task, mark_done, open_tasks

__all__ = ["TasksView"]

_ICONS = {"put_back": ft.Icons.UNDO, "recount": ft.Icons.FACT_CHECK, "refund_review": ft.Icons.PAYMENTS, "reroute": ft.Icons.ALT_ROUTE,
          "quarantine": ft.Icons.REPORT_GMAILERRORRED}


class TasksView(Screen):
    title = "Counts and tasks"
    scan_hint = "Scan an item to look it up"

    def __init__(self, who: Who):
        super().__init__(who)
        self.render()
        self.arrange()

    def render(self) -> None:
        tasks = open_tasks(self.replica, self.who.role)
        self.card.show("COUNTS AND TASKS", "Scan an item to see its stock, or choose what to do.")
        tools = ft.Row([
            theme.big_button("Count a bin", self._on_count, ft.Icons.FACT_CHECK, expand=True),
            theme.big_button("Move stock", self._on_move, ft.Icons.MOVE_UP, kind="tonal", expand=True),
        ])
        self.body.controls = [
            tools,
            theme.text(f"Open tasks ({len(tasks)})", size=20, weight=ft.FontWeight.BOLD),
            *([theme.text("No open tasks at this store.", color=theme.MUTED)] if not tasks else []),
            *(self._task_card(t) for t in tasks),
        ]

    def _task_card(self, task: Task) -> ft.Control:
        async def done(_e: ft.Event, t: Task = task) -> None:
            if t.needs_bin:
                self._bin_dialog(t)
            else:
                await self.act(lambda: mark_done(self.replica, t.id, self.who.actor, self.who.role))

        return theme.card(ft.Row([
            ft.Icon(_ICONS.get(task.kind, ft.Icons.TASK_ALT), size=30, color=ft.Colors.INDIGO_900),
            ft.Column([theme.text(f"{KIND_WORDS.get(task.kind, task.kind)} · for {task.for_role}", size=15,
                                  weight=ft.FontWeight.W_600, color=theme.MUTED),
                       theme.text(task.sentence, size=18)], spacing=2, expand=True),
            theme.big_button("Done", done, ft.Icons.CHECK, kind="tonal", tooltip=f"Done: {task.sentence}"),
        ], vertical_alignment=ft.CrossAxisAlignment.CENTER))

    def _bin_dialog(self, task: Task) -> None:
        field = ft.TextField(label="Bin", hint_text="Scan the bin label", autofocus=True, text_size=22)

        async def done(_e: ft.Event) -> None:
            await self.close_dialog()
            await self.act(lambda: mark_done(self.replica, task.id, self.who.actor, self.who.role, field.value or ""))

        self.dialog("Which bin did the units go to?", [theme.text(task.sentence, size=17), field],
                    [theme.big_button("Cancel", self.close_dialog, kind="outlined"), theme.big_button("Done", done, ft.Icons.CHECK)])

    async def _on_code(self, code: str) -> None:
        """A scan here looks the item up on the stock screen."""
        await self.who.nav.open("stock", code)

    async def _on_count(self, _e: ft.Event) -> None:
        await self.who.nav.open("count")

    async def _on_move(self, _e: ft.Event) -> None:
        await self.who.nav.open("move")
