"""Errors raised by ``devices``: scanning, decoding, labels and printing.

Every error names what was wrong, so the floor app can show it to a person as is::

    DeviceError
    ├── ScanError                 a scanned or typed code was not usable
    │   ├── EmptyScan
    │   ├── ScanTooLong
    │   ├── NonPrintableInput
    │   ├── CheckDigitError
    │   ├── MalformedLabel        one of our own BIN:/TOTE:/... codes, badly formed
    │   ├── IncompleteScan        a scan cut short, or typing and a scan run together
    │   ├── AmbiguousScan         digits that are validly two codes, not settled by the catalogue
    │   └── GS1Error
    │       ├── TruncatedGS1
    │       ├── UnknownAI
    │       └── InvalidGS1Value
    ├── DecoderError
    │   └── DecoderUnavailable
    ├── CameraError
    │   └── CameraUnavailable
    ├── LabelError
    └── PrinterError
        ├── PrinterUnreachable
        └── PrintJobNotFound
"""

from __future__ import annotations

__all__ = [
    "CameraError",
    "CameraUnavailable",
    "CheckDigitError",
    "DecoderError",
    "DecoderUnavailable",
    "AmbiguousScan",
    "DeviceError",
    "EmptyScan",
    "GS1Error",
    "IncompleteScan",
    "InvalidGS1Value",
    "LabelError",
    "MalformedLabel",
    "NonPrintableInput",
    "PrintJobNotFound",
    "PrinterError",
    "PrinterUnreachable",
    "ScanError",
    "ScanTooLong",
    "TruncatedGS1",
    "UnknownAI",
]


class DeviceError(Exception):
    """Base of every error raised by the devices package."""


class ScanError(DeviceError):
    """A scanned or typed code could not be turned into a usable scan."""


class EmptyScan(ScanError):
    """The scan held no data (or only whitespace and control characters)."""


class ScanTooLong(ScanError):
    """The scan is longer than any code we print or accept (often a paste)."""


class NonPrintableInput(ScanError):
    """The scan holds a control or unprintable character other than the GS separator."""


class CheckDigitError(ScanError):
    """A GTIN, UPC or SSCC check digit does not match its other digits."""


class MalformedLabel(ScanError):
    """A code with one of our own prefixes (BIN:, TOTE:, ...) is badly formed."""


class IncompleteScan(ScanError):
    """The input ended before the scan did, or a person's typing and a scan ran together."""


class AmbiguousScan(ScanError):
    """Digits that are validly more than one code, and neither configuration nor catalogue settles which."""


class GS1Error(ScanError):
    """A GS1 element string could not be parsed."""


class TruncatedGS1(GS1Error):
    """A GS1 element string ends before an application identifier's data is complete."""


class UnknownAI(GS1Error):
    """A GS1 element string names an application identifier that does not exist."""


class InvalidGS1Value(GS1Error):
    """A GS1 application identifier carries data of the wrong form (bad date, letters in digits...)."""


class DecoderError(DeviceError):
    """An image decoder failed or was configured wrongly."""


class DecoderUnavailable(DecoderError):
    """The configured decoder's library (or its system library) is not installed."""


class CameraError(DeviceError):
    """The camera failed while capturing frames."""


class CameraUnavailable(CameraError):
    """No camera could be opened at the configured index or path."""


class LabelError(DeviceError):
    """A label could not be built from the given data."""


class PrinterError(DeviceError):
    """A printer or the print queue failed."""


class PrinterUnreachable(PrinterError):
    """The printer did not accept a connection or the data (it is off, offline or busy)."""


class PrintJobNotFound(PrinterError):
    """No print job with this id exists in the queue."""
