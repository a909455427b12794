"""Errors of the shared protocol.

    SyncError
    ├── UnknownOpKind          the op's kind is not in the op table
    ├── UnsupportedSchema      the op was written under a schema version we don't read
    ├── MalformedPayload       the op's payload does not fit its kind
    └── BadReturnCode          a scanned return code (sync.return_codes) does not read
"""

__all__ = ["SyncError", "UnknownOpKind", "UnsupportedSchema", "MalformedPayload", "BadReturnCode"]


class SyncError(Exception):
    """Base class of protocol errors; `code` is the reason code sent on the wire."""

    code = "sync_error"


class UnknownOpKind(SyncError):
    """The op names a kind this side does not know."""

    code = "unknown_kind"


class UnsupportedSchema(SyncError):
    """The op was written under a schema version this side cannot read."""

    code = "unsupported_schema_version"


class MalformedPayload(SyncError):
    """The op's payload is missing a field or has one of the wrong type."""

    code = "malformed_payload"


class BadReturnCode(SyncError):
    """A return code (sync.return_codes) that does not read as one."""

    code = "return_code_unreadable"
