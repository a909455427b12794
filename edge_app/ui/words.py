"""The floor's words for what workflows report, shared by several screens."""

from __future__ import annotations

from datetime import datetime

from edge_app.workflows.pick_list import PickLine
from sync.kinds import ShortReason

__all__ = ["REASON_WORDS", "FULFILMENT_WORDS", "line_progress", "promised_words"]

REASON_WORDS = {ShortReason.EMPTY_BIN: "Empty bin", ShortReason.DAMAGED: "Damaged", ShortReason.NOT_FOUND: "Not found"}


def line_progress(line: PickLine) -> str:
    """'1 of 2 picked', with shorts named."""
    words = f"{line.picked} of {line.qty} picked"
    return f"{words}, {line.short} short" if line.short else words


FULFILMENT_WORDS = {"ship": "Ship", "pickup": "Pickup", "quick": "Quick delivery"}


def promised_words(promised_by: str) -> str:
    """'by 10:30' in this device's local time; the raw value if it is not a timestamp."""
    try:
        when = datetime.fromisoformat(promised_by).astimezone()
    except ValueError:
        return f"by {promised_by}"
    return f"by {when:%H:%M}" if when.date() == datetime.now().astimezone().date() else f"by {when:%a %d %b %H:%M}"


# The hub's SLA risk of an order, as the pick lists show it (hub.insight.risk).
RISK_WORDS = {"late": "LATE", "at_risk": "AT RISK"}


def risk_words(level: str | None, reason: str | None) -> str:
    """'AT RISK: 42 orders ahead at 30/h', or '' for an order the hub sees on time."""
    if level not in RISK_WORDS:
        return ""
    return f"{RISK_WORDS[level]}: {reason}" if reason else RISK_WORDS[level]
