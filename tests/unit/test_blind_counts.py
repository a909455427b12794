"""Counts are blind: whoever may count a bin never sees what the books hold for it,
not on the stock look-up beside the count, not in a refusal, not in a task."""

from __future__ import annotations

import flet as ft
import pytest

from edge_app.ui.screen import Who
from edge_app.ui.screens.stock import StockView
from edge_app.workflows.signin import Operator
from edge_app.workflows.stock import MoveSession
from tests.unit.floor_store import MILK, store


class _Nav:
    def __init__(self, role):
        self.operator = Operator("X1", "Xan", role)
        self.runtime = None


class _App:
    def __init__(self, replica, role):
        self.runtime = type("Runtime", (), {"replica": replica})()
        self.nav = _Nav(role)
        self.page = type("Page", (), {"width": 412})()


def texts(control) -> list[str]:
    found = []
    stack = [control]
    while stack:
        c = stack.pop()
        if isinstance(c, ft.Text):
            found.append(str(c.value))
        for attr in ("controls", "content"):
            child = getattr(c, attr, None)
            stack.extend(child if isinstance(child, list) else [child] if child is not None else [])
    return found


@pytest.mark.parametrize("role, sees", [("picker", False), ("associate", False), ("supervisor", True)])
def test_the_stock_look_up_shows_the_books_quantity_to_supervisors_only(tmp_path, role, sees):
    replica = store(tmp_path / "d")  # 20 × MILK-1L in A-01-1
    view = StockView(Who(_App(replica, role)), MILK)
    shown = " | ".join(texts(view.control) + [view.banner.text.value])
    assert ("20" in shown) is sees, shown
    assert "A-01-1" in shown  # where it is, for everyone


def test_moving_more_than_the_books_hold_is_refused_without_saying_how_many(tmp_path):
    replica = store(tmp_path / "d")
    move = MoveSession(replica, "X1")
    move.scan("BIN:A-01-1"), move.scan(MILK)
    refused = move.quantity(25)
    assert not refused.ok and "20" not in refused.message
