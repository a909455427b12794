"""Keyboard-wedge scanners: key events in, whole scans out, in order, none merged.

A wedge scanner "types" its data. ``WedgeReader`` receives characters with their
arrival time (seconds, any monotonic clock) and cuts them into ``Burst``s:

* a burst ends at the configured suffix (Enter by default, ``\\r`` or ``\\n``);
  when a prefix is configured, a new prefix also starts a new burst, so two
  scans can never merge even when a suffix is lost;
* a burst is *by scanner* when its keys came faster than ``scanner_max_gap``
  (median gap) and it has at least ``min_length`` characters, or, with a prefix
  configured, when it began with the prefix; otherwise a person typed it;
* when a person had typed something, paused (``reset_gap``), and a scanner
  burst follows before Enter, the typed part and the scan come out as two bursts;
* with a suffix configured, a pause inside a scan does not end it (Bluetooth
  scanners stall for a few hundred ms): a scanner burst whose suffix has not come
  after ``suffix_timeout`` is ended by ``flush(now)`` or the next key as an
  *incomplete* burst, which ``to_scan`` refuses (``IncompleteScan``) instead of
  reading ``BIN:A-`` or half a GS1 serial as a code;
* without a suffix, a pause of ``reset_gap`` ends a scanner burst.

Scanners that cannot send 0x1D through the keyboard path send a substitute
(``gs_substitutes``, e.g. ``"~"`` or ``("<GS>",)``); ``Burst.to_scan`` turns it back into GS.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field, replace

from devices.errors import IncompleteScan
from devices.parse import DEFAULT_OPTIONS, ScanOptions, parse_scan
from devices.scan import Scan, ScanSource

__all__ = ["Burst", "WedgeConfig", "WedgeReader", "key_to_char"]

_ENTER = "\r\n"
_NO_SUFFIX = "the scan stopped before its end (no Enter came): scan it again"


@dataclass(frozen=True)
class WedgeConfig:
    """How the site's scanners are set up (Zebra DataWedge "Basic Data Formatting" etc.)."""

    prefix: str = ""
    suffix: str = "\n"  # "\n", "\r" and "\r\n" all mean Enter; "" for no suffix
    gs_substitutes: str | tuple[str, ...] = ""  # "~|": each character; ("<GS>",): each string
    scanner_max_gap: float = 0.040  # median seconds between a scanner's keys, at most
    reset_gap: float = 0.25  # a pause this long ends a burst without suffix, and parts typing from a scan
    suffix_timeout: float = 1.5  # a scanner burst still without its suffix after this is incomplete
    min_length: int = 3  # shorter bursts are never taken for scans
    options: ScanOptions = DEFAULT_OPTIONS  # how the data is read (UPC-E handling, label rules ...)


@dataclass(frozen=True)
class Burst:
    """A run of characters that belong together: one scan, or what a person typed."""

    text: str
    by_scanner: bool
    started_at: float
    ended_at: float
    gs_substitutes: str | tuple[str, ...] = ""
    complete: bool = True  # False: the scan was cut short or ran into typing; never read as a code
    problem: str = ""  # why it is not complete, in words a person can act on
    options: ScanOptions = DEFAULT_OPTIONS

    def to_scan(self, scanned_at: dt.datetime | None = None) -> Scan:
        """Parse this burst. Raises a ``ScanError`` subclass when it is not a usable code
        (``IncompleteScan`` for an incomplete burst)."""
        if not self.complete:
            raise IncompleteScan(self.problem or f"the scan {self.text[:40]!r} is incomplete; scan it again")
        source = ScanSource.WEDGE if self.by_scanner else ScanSource.KEYBOARD
        return parse_scan(
            self.text, source=source, scanned_at=scanned_at, gs_substitutes=self.gs_substitutes, options=self.options
        )


@dataclass
class _Buffer:
    chars: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    prefixed: bool = False


class WedgeReader:
    """Turns timed key characters into ``Burst``s; keeps no thread and no clock of its own."""

    def __init__(self, config: WedgeConfig | None = None) -> None:
        self.config = config or WedgeConfig()
        self._buf = _Buffer()

    def feed(self, char: str, at: float) -> list[Burst]:
        """Add one character that arrived at ``at``; returns bursts completed by it."""
        done = self._expire(at)
        if self._is_suffix(char):
            return done + self._end(at)
        self._buf.chars.append(char)
        self._buf.times.append(at)
        return done + self._split_at_prefix()

    def feed_text(self, text: str, at: float) -> list[Burst]:
        """Feed several characters that arrived together (one text-field change)."""
        bursts: list[Burst] = []
        for char in text:
            bursts += self.feed(char, at)
        return bursts

    def feed_key(self, key: str, at: float, *, shift: bool = False) -> list[Burst]:
        """Feed a key by its name (Flet/Flutter ``KeyboardEvent.key``); modifier keys are ignored."""
        char = key_to_char(key, shift=shift)
        return self.feed(char, at) if char else []

    def flush(self, now: float) -> list[Burst]:
        """End a pending scanner burst once ``reset_gap`` has passed; call it from a timer."""
        return self._expire(now)

    def retract(self, count: int) -> None:
        """Forget the last ``count`` pending characters (a person pressed backspace)."""
        count = min(count, len(self._buf.chars))
        if count > 0:
            del self._buf.chars[-count:]
            del self._buf.times[-count:]

    def pending(self) -> str:
        """Characters received but not yet part of a finished burst."""
        return "".join(self._buf.chars)

    def _is_suffix(self, char: str) -> bool:
        suffix = self.config.suffix
        if suffix and set(suffix) <= set(_ENTER):
            return char in _ENTER
        return bool(suffix) and char == suffix[-1] and self.pending().endswith(suffix[:-1])

    def _expire(self, now: float) -> list[Burst]:
        buf, config = self._buf, self.config
        if not buf.chars:
            return []
        quiet = now - buf.times[-1]
        if not config.suffix:
            return self._end(buf.times[-1]) if quiet > config.reset_gap else []
        if quiet > config.suffix_timeout and self._scanner_like(buf.times, buf.prefixed):
            # The suffix never came: what arrived may be any part of the code.
            return [replace(burst, complete=False, problem=_NO_SUFFIX) for burst in self._end(buf.times[-1])]
        return []

    def _end(self, at: float) -> list[Burst]:
        buf, self._buf = self._buf, _Buffer()
        text = "".join(buf.chars)
        if self.config.suffix and not set(self.config.suffix) <= set(_ENTER):
            text = text[: len(text) - (len(self.config.suffix) - 1)]
        if not text:
            return []
        if buf.prefixed or self.config.prefix:
            return [self._burst(text, buf.times, buf.prefixed, at)]
        return self._split_typed_from_scanned(text, buf.times, at)

    def _split_typed_from_scanned(self, text: str, times: list[float], at: float) -> list[Burst]:
        start = self._fast_tail_start(times)
        paused = start > 0 and times[start] - times[start - 1] > self.config.reset_gap
        # A fast tail only counts as a separate scan after a real pause: quick key
        # rollover at the end of someone's typing must not become a "scan". And only
        # after a person's typing: a scanner that stalls mid-code is still one scan.
        typed_head = paused and not self._scanner_like(times[:start], False)
        if typed_head and len(text) - start >= self.config.min_length:
            head = self._burst(text[:start], times[:start], False, times[start - 1])
            return [head, self._burst(text[start:], times[start:], False, at)]
        return [self._burst(text, times, False, at)]

    def _fast_tail_start(self, times: list[float]) -> int:
        start = len(times) - 1
        while start > 0 and times[start] - times[start - 1] <= self.config.scanner_max_gap:
            start -= 1
        return start

    def _split_at_prefix(self) -> list[Burst]:
        prefix = self.config.prefix
        if not prefix or not self.pending().endswith(prefix):
            return []
        buf, self._buf = self._buf, _Buffer(prefixed=True)
        cut = len(buf.chars) - len(prefix)
        if cut == 0:
            return []
        return [self._burst("".join(buf.chars[:cut]), buf.times[:cut], buf.prefixed, buf.times[cut - 1])]

    def _burst(self, text: str, times: list[float], prefixed: bool, at: float) -> Burst:
        if self.config.prefix:
            by_scanner = prefixed
        else:
            by_scanner = self._scanner_like(times, False) and len(text) >= self.config.min_length
        return Burst(text, by_scanner, times[0] if times else at, at, self.config.gs_substitutes,
                     options=self.config.options)

    def _scanner_like(self, times: list[float], prefixed: bool) -> bool:
        if prefixed:
            return True
        gaps = [b - a for a, b in zip(times, times[1:])]
        return bool(gaps) and statistics.median(gaps) <= self.config.scanner_max_gap


_NAMED_KEYS = {
    "Enter": "\n", "Numpad Enter": "\n", "Tab": "\t", "Space": " ", " ": " ",
    "Numpad Decimal": ".", "Numpad Subtract": "-", "Numpad Add": "+",
    "Numpad Divide": "/", "Numpad Multiply": "*", "Numpad Equal": "=",
}
_US_SHIFTED = dict(zip("1234567890-=;',./[]\\`", "!@#$%^&*()_+:\"<>?{}|~"))


def key_to_char(key: str, *, shift: bool = False) -> str:
    """The character a key name types ("" for modifiers and other non-typing keys).

    Numpad keys count as their digits: some apps ignore numpad key codes and lose
    digits from scanners that emulate the numpad.
    """
    if key in _NAMED_KEYS:
        return _NAMED_KEYS[key]
    if key.startswith("Numpad ") and key[-1:].isdigit():
        return key[-1]
    if len(key) != 1:
        return ""
    if key.isalpha():
        return key.upper() if shift else key.lower()
    return _US_SHIFTED.get(key, key) if shift else key
