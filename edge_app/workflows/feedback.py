"""What a workflow says back after a scan or an action: taken or refused, in a
sentence for the person, and the step the workflow is at now."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Feedback"]


@dataclass(frozen=True)
class Feedback:
    """What the screen shows after a scan or an action."""

    ok: bool
    message: str
    step: str  # "bin", "item", "qty" or "done"
