"""Imports every module that registers op handlers, so the log knows them all.
Importing registers functions only: no I/O."""

from hub import catalogue, escrow, floor, pickups, operators, orders, packing, picking  # noqa: F401

__all__ = ["catalogue", "escrow", "floor", "pickups", "operators", "orders", "packing", "picking"]
