"""What an enrolment QR holds, for the hub that prints it and the device that reads it:
`BACKROOM-ENROL:<one-time code>:<hub address>`. A handheld's scanner types it into the
enrolment form's code field as it would any barcode; the form fills both fields."""

from __future__ import annotations

__all__ = ["PREFIX", "enrolment_qr", "read_enrolment_qr"]

PREFIX = "BACKROOM-ENROL:"


def enrolment_qr(code: str, hub_url: str) -> str:
    return f"{PREFIX}{code}:{hub_url.rstrip('/')}"


def read_enrolment_qr(text: str) -> tuple[str, str] | None:
    """(code, hub address) from a scanned enrolment QR; None when `text` is not one."""
    text = text.strip()
    if not text.upper().startswith(PREFIX):
        return None
    code, _sep, hub_url = text[len(PREFIX):].partition(":")
    if not code or not hub_url.startswith(("http://", "https://")):
        return None
    return code, hub_url
