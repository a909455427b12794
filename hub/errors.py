"""Errors of the hub, each with the HTTP status the API edge turns it into.

    HubError
    ├── NotFound            (404) no such order, device, location …
    ├── Invalid             (422) a request that names a thing wrongly (unknown SKU, location)
    ├── Conflict            (409) the request contradicts what is stored
    ├── Unauthorized        (401) no token, or one we don't know
    │   └── DeviceRevoked   (401) a revoked device's token (`device_revoked`)
    ├── Forbidden           (403) a known token used outside its scope
    ├── TooLarge            (413) a request body past its route's limit
    ├── StorageFull         (503) the database's disk is full: nothing was written, retry later
    ├── TooMany             (429) too many calls of one kind from one caller in a minute
    └── InvariantBroken     (500) a request tried to promise stock the hub does not have
"""

__all__ = ["HubError", "NotFound", "Invalid", "Conflict", "Unauthorized", "Forbidden", "TooLarge", "StorageFull",
           "TooMany", "InvariantBroken", "DeviceRevoked"]


class HubError(Exception):
    """Base class of hub errors."""

    status = 500
    reason: str | None = None  # a reason code a client acts on, sent beside the sentence

    def body(self) -> dict[str, str]:
        """What an API answer carries: the sentence, and the reason code if there is one."""
        return {"detail": str(self)} if self.reason is None else {"detail": str(self), "reason": self.reason}


class NotFound(HubError):
    """The thing asked for does not exist."""

    status = 404


class Invalid(HubError):
    """The request is well-formed but names something wrongly."""

    status = 422


class Conflict(HubError):
    """The request contradicts stored state."""

    status = 409


class Unauthorized(HubError):
    """No credentials, or credentials the hub does not know."""

    status = 401


class DeviceRevoked(Unauthorized):
    """A revoked device's token: its unsent ops are not applied; the sentence says why."""

    reason = "device_revoked"


class Forbidden(HubError):
    """Known credentials used for something outside their scope."""

    status = 403


class TooLarge(HubError):
    """A request body past its route's size limit."""

    status = 413


class StorageFull(HubError):
    """The hub database's disk is full: the transaction rolled back whole; send it again later."""

    status = 503
    reason = "hub_storage_full"


class TooMany(HubError):
    """Too many calls of one kind from one caller in the last minute (a device's order look-ups)."""

    status = 429


class InvariantBroken(HubError):
    """A commit would promise more than on-hand less safety stock: a bug, rolled back."""

    status = 500
