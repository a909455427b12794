"""Walking a pick the way a picker must: the bin, then a unit, then the count."""

from __future__ import annotations

from edge_app.workflows.feedback import Feedback
from edge_app.workflows.picking import PickWalk


def barcode(replica, sku: str) -> str:
    """One barcode of the item, as the replica holds it."""
    return replica.query_one("SELECT code FROM barcodes WHERE sku = ? ORDER BY code", (sku,))["code"]


def take_line(session: PickWalk, qty: int | None = None) -> Feedback:
    """Take `qty` (default: all open) units of the current line: scan its bin (unless this
    stop's bin is scanned already), one unit, then confirm the count if more are open."""
    line = session.current
    assert line is not None, "nothing left to pick"
    qty = line.open_qty if qty is None else qty
    if session.step == "bin":
        assert session.scan(f"BIN:{line.bin}").ok, session.prompt()
    feedback = session.scan(barcode(session.replica, line.sku))
    assert feedback.ok, feedback.message
    if session.step == "count":
        feedback = session.confirm(qty)
    return feedback
