"""Feeding a wedge scanner through a text field (Flet ``TextField``) without losing scans.

A wedge scanner types into whatever has focus; in a Flet app that is usually
a ``TextField``. Field reports from other apps: clearing the field after each
scan, asynchronously, drops the characters of the next scan that were typed
in between; and merging happens when two scans land in one field value.

``TextFieldFeed`` avoids both. It remembers the value it has already seen and
feeds only the new characters (``on_change``), so it never needs the field to
be cleared for correctness; ``on_submit`` (Enter) ends the burst. Clear the
field only when ``may_clear(now)`` says the reader has nothing pending and the
field has been quiet for a while, then call ``cleared()``.

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

    def __init__(self, reader: WedgeReader | None = None, *, quiet_before_clear: float = 1.0) -> None:
        self.reader = reader or WedgeReader()
        self.quiet_before_clear = quiet_before_clear
        self._seen = ""
        self._last_at = float("-inf")

    def on_change(self, value: str, at: float) -> list[Burst]:
        """The field now holds ``value``; feed what was added since the last call."""
        common = _common_prefix(self._seen, value)
        self.reader.retract(len(self._seen) - common)
        self._seen, self._last_at = value, at
        return self.reader.feed_text(value[common:], at)

    def on_submit(self, value: str, at: float) -> list[Burst]:
        """Enter was pressed (or sent by the scanner) with ``value`` in the field."""
        return self.on_change(value, at) + self.reader.feed("\n", at)

    def flush(self, now: float) -> list[Burst]:
        """End a scanner burst that never got its suffix (call from a timer)."""
        return self.reader.flush(now)

    def may_clear(self, now: float) -> bool:
        """True when clearing the field now cannot cut a scan in half."""
        return self.reader.pending() == "" and now - self._last_at >= self.quiet_before_clear

    def cleared(self) -> None:
        """The app has set the field's value to ""."""
        self._seen = ""


def _common_prefix(a: str, b: str) -> int:
    length = min(len(a), len(b))
    for index in range(length):
        if a[index] != b[index]:
            return index
    return length
