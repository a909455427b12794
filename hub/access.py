"""What an administrator may see and change: one rule set for the JSON API and the
admin console, so a page never shows what the API would refuse, nor the reverse.

    network_admin   everything, every location, and the network's shape
    store_manager   reads and changes the locations they run (their orders, stock,
                    devices, operators, exceptions); nothing of other locations
    viewer          reads everything, changes nothing

An admin API token acts as a network admin. Another location's order, device or bin
is answered as if it did not exist (404), the way a device is answered."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.errors import Forbidden, NotFound

__all__ = ["ADMIN_ROLES", "Access", "network_admin"]

ADMIN_ROLES = ("network_admin", "store_manager", "viewer")


@dataclass(frozen=True)
class Access:
    role: str
    actor: str  # how the log and the audit trail name who acted: "console:kim", "admin:cli"
    locations: frozenset[str] = field(default_factory=frozenset)  # a store manager's

    @property
    def everywhere(self) -> bool:
        return self.role in ("network_admin", "viewer")

    def sees(self, location: str | None) -> bool:
        """May read what lies at `location` (None: something of the whole network)."""
        return self.everywhere or (location is not None and location in self.locations)

    def changes(self, location: str | None) -> bool:
        """May change what lies at `location` (None: the network's shape)."""
        if self.role == "network_admin":
            return True
        return self.role == "store_manager" and location is not None and location in self.locations

    def scope(self) -> frozenset[str] | None:
        """The locations lists are filtered to; None: all of them."""
        return None if self.everywhere else self.locations

    def require_read(self, location: str | None, what: str = "that") -> None:
        if not self.sees(location):
            raise NotFound(f"no {what} here")  # another location's things do not exist for this caller

    def require_change(self, location: str | None, what: str = "that") -> None:
        self.require_read(location, what)
        if not self.changes(location):
            raise Forbidden(f"a {self.role.replace('_', ' ')} may not change {what}")

    def require_network(self) -> None:
        if self.role != "network_admin":
            raise Forbidden("only a network admin may change the network's shape or its administrators")


def network_admin(actor: str) -> Access:
    """A network admin's access, for an admin API token or the CLI."""
    return Access("network_admin", actor)
