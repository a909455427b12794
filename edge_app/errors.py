"""Errors of the device side. Each carries the sentence a person on the floor sees.

    EdgeError
    ├── NotEnrolled        this data directory has no device identity yet
    ├── EnrollmentFailed   the hub refused the enrollment code
    ├── HubUnreachable     the hub could not be reached (the device stays usable)
    ├── HubRefused         the hub answered with a 4xx (revoked token, bad request)
    │   └── OutOfStep      the hub and the device disagree on where they are (409 + reason)
    ├── InsecureHub        a hub address that would send secrets in clear (plain http)
    ├── StorageFull        the handheld's storage is full: the action was not saved
    └── Refused            a workflow refused a scan or an action
        ├── UnknownBarcode     no item, bin or order has this code
        ├── WrongBin           the bin scanned is not the one asked for
        ├── WrongItem          the item scanned is not the one asked for
        └── BadQuantity        a quantity above what is asked, or below one
"""

__all__ = [
    "EdgeError",
    "NotEnrolled",
    "EnrollmentFailed",
    "HubUnreachable",
    "HubRefused",
    "OutOfStep",
    "InsecureHub",
    "StorageFull",
    "Refused",
    "UnknownBarcode",
    "WrongBin",
    "WrongItem",
    "BadQuantity",
]


class EdgeError(Exception):
    """Base class of device-side errors."""


class NotEnrolled(EdgeError):
    """The data directory holds no device identity; run `backroom edge enroll`."""


class EnrollmentFailed(EdgeError):
    """The hub refused the enrollment code."""


class HubUnreachable(EdgeError):
    """The hub did not answer; work continues offline."""


class HubRefused(EdgeError):
    """The hub answered but refused the call; retrying will not help by itself."""


class OutOfStep(HubRefused):
    """The hub was restored, or this replica was: `reason` says which (hub.api.pull_checks)."""

    def __init__(self, message: str, reason: str, last_seq: int, head: int):
        super().__init__(message)
        self.reason, self.last_seq, self.head = reason, last_seq, head


class InsecureHub(EdgeError):
    """The hub address is plain http to another machine; use https, or say --insecure."""


class StorageFull(EdgeError):
    """The replica's disk is full: the transaction rolled back whole, what was saved stays."""


class Refused(EdgeError):
    """A workflow refused what the person did; nothing was saved."""


class UnknownBarcode(Refused):
    """No item, bin or order has this code."""


class WrongBin(Refused):
    """The bin scanned is not the one the line is picked from."""


class WrongItem(Refused):
    """The item scanned is not the one the line asks for."""


class BadQuantity(Refused):
    """The quantity is above what is open on the line, or below one."""
