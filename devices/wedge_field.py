"""Feeding a wedge scanner through a text field (Flet ``TextField``): the older, diffing design.

Superseded by ``devices.scan_field.FieldReader``, which reads every scan whole and once
whatever the round trip; this one loses or repeats scans when a clear and typing cross
on a slow network (docs/scanning.md). It stays until the scan panel has moved over.

A wedge scanner types into whatever has focus; in a Flet app that is usually
a ``TextField``. Field reports from other apps: clearing the field after each
scan, asynchronously, drops the characters of the next scan that were typed
in between; and merging happens when two scans land in one field value.

``TextFieldFeed`` avoids both. It remembers the value it has already seen and
feeds only the new characters (``on_change``), so it never needs the field to
be cleared for correctness; ``on_submit`` (Enter) ends the burst. Clear the
field only when ``may_clear(now)`` says the reader has nothing pending and the
field has been quiet for a while, then call ``cleared(now)``.

A clear set by the app reaches the field a moment later (a round trip in Flet's web
and desktop clients), and a scan that starts in that moment is typed onto the old
value: the app first gets that value with the scan's first characters after it, then,
once the clear has landed, a value holding only the characters typed since. Both are
the same scan. So after ``cleared()`` the feed keeps diffing against the old value while
changes still start with it (within ``landing_window`` seconds of the clear), and reads
the first change that does not as the rest of what was being typed, retracting nothing.

Wiring in a Flet view::

    feed = TextFieldFeed(WedgeReader(WedgeConfig(gs_substitutes="~")))
    field.on_change = lambda e: handle(feed.on_change(e.control.value, time.monotonic()))
    field.on_submit = lambda e: handle(feed.on_submit(e.control.value, time.monotonic()))
"""

from __future__ import annotations

from devices.wedge import Burst, WedgeReader

__all__ = ["TextFieldFeed"]


class TextFieldFeed:
    """Turns successive values of one text field into wedge bursts."""

    def __init__(self, reader: WedgeReader | None = None, *, quiet_before_clear: float = 1.0,
                 landing_window: float = 2.0) -> None:
        self.reader = reader or WedgeReader()
        self.quiet_before_clear = quiet_before_clear
        self.landing_window = landing_window
        self._seen = ""
        self._last_at = float("-inf")
        self._before_clear: str | None = None  # the value the app cleared, until the clear has landed
        self._cleared_at = float("-inf")

    def on_change(self, value: str, at: float) -> list[Burst]:
        """The field now holds ``value``; feed what was added since the last call."""
        if self._before_clear is not None and not self._typed_before_the_clear_landed(value, at):
            # The clear has landed: the field holds only what was typed since, all of it new
            # (a scan begun on the old value goes on where its first characters left off).
            self._before_clear, self._seen = None, ""
        common = _common_prefix(self._seen, value)
        self.reader.retract(len(self._seen) - common)
        self._seen, self._last_at = value, at
        return self.reader.feed_text(value[common:], at)

    def _typed_before_the_clear_landed(self, value: str, at: float) -> bool:
        old = self._before_clear
        if old is None:
            return False
        return len(value) > len(old) and value.startswith(old) and at - self._cleared_at <= self.landing_window

    def on_submit(self, value: str, at: float) -> list[Burst]:
        """Enter was pressed (or sent by the scanner) with ``value`` in the field."""
        return self.on_change(value, at) + self.reader.feed("\n", at)

    def flush(self, now: float) -> list[Burst]:
        """End a scanner burst that never got its suffix (call from a timer)."""
        return self.reader.flush(now)

    def may_clear(self, now: float) -> bool:
        """True when clearing the field now cannot cut a scan in half."""
        return self.reader.pending() == "" and now - self._last_at >= self.quiet_before_clear

    def cleared(self, at: float | None = None) -> None:
        """The app has set the field's value to "" (at ``at``; by default, at the last change)."""
        self._before_clear = self._seen
        self._cleared_at = self._last_at if at is None else at


def _common_prefix(a: str, b: str) -> int:
    length = min(len(a), len(b))
    for index in range(length):
        if a[index] != b[index]:
            return index
    return length
