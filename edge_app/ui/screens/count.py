"""A blind cycle count: scan the bin, scan an item, enter what is on the shelf.
The expected number is never shown; a count far off is counted again; a
difference asks for a reason before it is sent.

Every decision is the workflow's (`CountSession`); this module only shows it."""

from __future__ import annotations

import flet as ft

from edge_app.ui import theme
from edge_app.ui.screen import Screen, Who, number_field, read_int
from edge_app.workflows.stock import CountSession
from sync.kinds import CountReason

__all__ = ["CountView", "COUNT_REASON_WORDS"]

COUNT_REASON_WORDS = {CountReason.DAMAGED: "Damaged, thrown away", CountReason.LOST: "Lost or stolen",
                      CountReason.FOUND: "Found extra", CountReason.MISPLACED: "Was in the wrong bin",
                      CountReason.MISCOUNTED_BEFORE: "Counted wrong before"}
_STEPS = {"bin": "STEP 1 · BIN", "item": "STEP 2 · ITEM", "count": "STEP 3 · COUNT", "recount": "COUNT AGAIN",
          "reason": "WHY IS IT DIFFERENT?"}


class CountView(Screen):
    title = "Cycle count"
    scan_hint = "Scan a bin or an item"

    def __init__(self, who: Who):
        super().__init__(who)
        self.session = CountSession(self.replica, who.actor)
        self.counted = number_field("Counted", width=140)
        self.back = theme.big_button("Back to counts and tasks", self._on_back, ft.Icons.ARROW_BACK, kind="outlined")
        self.render()
        self.arrange()

    def on_code(self, code: str):
        return self.session.scan(code)

    def render(self) -> None:
        s = self.session
        self.card.show(_STEPS[s.step], s.prompt())
        controls: list[ft.Control] = []
        if s.step in ("count", "recount"):
            controls.append(ft.Row([self.counted, theme.big_button("Send count", self._on_count, ft.Icons.CHECK, expand=True)]))
        if s.step == "reason":
            controls += [self._reason_button(r) for r in CountReason]
        if s.step in ("count", "recount", "reason"):
            controls.append(theme.big_button("Cancel this item", self._on_cancel, ft.Icons.CLOSE, kind="outlined"))
        self.actions.controls = [*controls, self.back]

    def _reason_button(self, reason: CountReason) -> ft.Control:
        async def chose(_e: ft.Event) -> None:
            await self.act(lambda: self.session.reason(reason))
        return theme.big_button(COUNT_REASON_WORDS[reason], chose, kind="tonal")

    async def _on_count(self, _e: ft.Event) -> None:
        counted = read_int(self.counted)
        self.counted.value = ""
        await self.act(lambda: self.session.submit(counted))

    async def _on_cancel(self, _e: ft.Event) -> None:
        await self.act(self.session.cancel)

    async def _on_back(self, _e: ft.Event) -> None:
        await self.who.nav.open("tasks")
