"""What a handler is given and what it answers: the sender of an op and the
handler's verdict. Kept apart from the log so the domain never imports the log
(the log imports the handler table, which imports the domain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Context", "Outcome", "HUB_DEVICE", "HUB_ROLE", "LEGACY_ROLE"]

HUB_DEVICE = "hub"  # the device id of hub commands in the log
HUB_ROLE = "hub"  # the sender role of hub commands
# The role a replay gives ops logged before the hub recorded senders' roles: they
# were applied unchecked then, and a replay must reach the same state.
LEGACY_ROLE = "legacy"


@dataclass(frozen=True)
class Context:
    """Who an op came from: a device at a location with its role, or the hub
    (location None, role HUB_ROLE)."""

    device_id: str
    location: str | None
    role: str

    @property
    def here(self) -> str:
        """The sending device's location: a device op always has one (hub commands don't)."""
        if self.location is None:
            raise ValueError(f"{self.device_id} sent a floor op without a location")
        return self.location


@dataclass(frozen=True)
class Outcome:
    """A handler's verdict: `refusal` set means refused; otherwise applied."""

    refusal: str | None = None
    message: str = ""
    compensations: list[dict[str, Any]] | None = None

    @classmethod
    def refused(cls, code: str, message: str) -> "Outcome":
        return cls(refusal=code, message=message)
