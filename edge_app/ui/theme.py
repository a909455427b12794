"""Sizes and colours for a handheld on a cart at 6 a.m.: big targets, high contrast."""

from __future__ import annotations

from typing import Any, Callable

import flet as ft

__all__ = ["OK", "BAD", "WAIT", "CURRENT", "INK", "MUTED", "TARGET", "big_button", "text", "card"]

OK = ft.Colors.GREEN_800
BAD = ft.Colors.RED_800
WAIT = ft.Colors.BLUE_GREY_700
CURRENT = ft.Colors.AMBER_100
INK = ft.Colors.BLACK
MUTED = ft.Colors.BLUE_GREY_800
TARGET = 56  # px: the smallest thing a gloved thumb should have to hit


def text(value: str, size: int = 18, weight: ft.FontWeight | None = None, color: Any = INK, **kw: Any) -> ft.Text:
    return ft.Text(value, size=size, weight=weight, color=color, **kw)


def big_button(label: str, on_click: Callable, icon: Any = None, kind: str = "filled", **kw: Any) -> ft.Button:
    """A button at least TARGET px high whose accessible name is its label."""
    style = ft.ButtonStyle(
        padding=ft.Padding.symmetric(horizontal=16, vertical=12),
        shape=ft.RoundedRectangleBorder(radius=10),
        text_style=ft.TextStyle(size=18, weight=ft.FontWeight.W_600),
    )
    if kind == "filled":
        style.bgcolor, style.color = ft.Colors.INDIGO_800, ft.Colors.WHITE
    cls = {"filled": ft.FilledButton, "outlined": ft.OutlinedButton, "tonal": ft.FilledTonalButton}[kind]
    return cls(content=label, icon=icon, on_click=on_click, style=style, height=TARGET, **kw)


def card(content: ft.Control, bgcolor: Any = ft.Colors.WHITE, **kw: Any) -> ft.Container:
    return ft.Container(
        content=content,
        bgcolor=bgcolor,
        padding=12,
        border_radius=10,
        border=kw.pop("border", ft.Border.all(1, ft.Colors.BLUE_GREY_200)),
        **kw,
    )
