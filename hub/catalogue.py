"""Items with their barcodes, and bins along a location's pick path."""

from __future__ import annotations

from sqlalchemy import Connection, text

from hub.feed import ALL_LOCATIONS, emit

__all__ = ["upsert_item", "add_bin"]


def upsert_item(conn: Connection, sku: str, name: str, unit_weight_g: int | None, barcodes: list[str]) -> None:
    """Create or update an item; its barcodes are added (never taken from another SKU silently)."""
    conn.execute(
        text(
            "INSERT INTO items (sku, name, unit_weight_g) VALUES (:s, :n, :w) "
            "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, unit_weight_g = excluded.unit_weight_g"
        ),
        {"s": sku, "n": name, "w": unit_weight_g},
    )
    for code in barcodes:
        conn.execute(
            text("INSERT INTO barcodes (code, sku) VALUES (:c, :s) ON CONFLICT (code) DO NOTHING"),
            {"c": code, "s": sku},
        )
    codes = [r.code for r in conn.execute(text("SELECT code FROM barcodes WHERE sku = :s ORDER BY code"), {"s": sku})]
    emit(conn, ALL_LOCATIONS, "item", sku, {"sku": sku, "name": name, "unit_weight_g": unit_weight_g, "barcodes": codes})


def add_bin(conn: Connection, location: str, code: str, seq: int) -> None:
    conn.execute(
        text("INSERT INTO bins (location, code, seq) VALUES (:l, :c, :s)"),
        {"l": location, "c": code, "s": seq},
    )
    emit(conn, location, "bin", code, {"code": code, "seq": seq})
