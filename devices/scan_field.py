"""A wedge scanner read through a text field whose every change carries the field's whole value.

Flet's multiline ``TextField`` sends one change per key with the whole value; the app
clears the field by setting its value, and that lands on the handheld a round trip
later, while the scanner may be typing. Diffing each value against the last one (the
older ``TextFieldFeed``) cannot tell a value typed before a clear landed from one typed
after it: under Wi-Fi latency scans lost characters, a repeat scan was dropped, and past
a 2 s round trip earlier scans came out twice.

``FieldReader`` makes every value say which clear it follows. A clear does not set the
field to "": it sets a one-character, zero-width *epoch mark* (one of eight, in turn), and
the scanner types after it, so a value is read in the epoch its mark names:

* a scan is a finished line (the scanner's Enter ends it); the reader counts the lines
  it has handed on per epoch, so a late value, a repeated value or a value that went
  missing changes nothing, and a repeat scan is a new line, read again;
* within an epoch values only grow, so a value that is a prefix of one already seen is
  old news (events that overtook each other), and a value that is neither (a person's
  edit) replaces the unfinished line;
* a clear that lands mid-scan leaves the scan's start at the end of the old epoch and
  the rest at the start of the new one: the new epoch's first line is held until the
  old epoch has settled (``reorder_window`` after the new one's first value) and then
  read as one line with the old epoch's unfinished end;
* a line is one code, never split by timing (a scanner that stalls mid-code stays one
  code). A line that ends in a scanner-fast burst after characters that came slowly is a
  person's typing run into a scan: it is refused (``IncompleteScan``), not merged, and
  not guessed apart. With a scanner prefix configured the two are told apart exactly.
* timing is read as the app saw it, so a pause the app made itself is not the scanner's:
  while the app's own event loop was held up (``stalled``: a busy handheld, a CPU-starved
  server) keys queue and are then taken all at once, and that much of any gap is not
  counted. Without it, a scan whose first keys were taken before such a stall looked like
  typing run into a scan and was refused (seen in CI at a load average of 5).

The field is cleared rarely (``clear_at_lines`` finished lines, then ``quiet_before_clear``
of quiet) because nothing depends on it any more but the size of each change event.

Wiring (Flet)::

    reader = FieldReader(FieldConfig(wedge=WedgeConfig(gs_substitutes=("<GS>",))))
    field = ft.TextField(value=reader.initial_value, multiline=True, on_change=changed)
    def changed(e): handle(reader.on_change(e.data, time.monotonic()))
    # every 0.2 s while the field is shown:
    handle(reader.flush(now)); mark = reader.clear_value(now)
    if mark is not None: field.value = mark; field.update()

Assumes the transport delivers each change at most ``reorder_window`` out of order, as
Flet's WebSocket (in order) does. A change event lost outright can lose or cut that scan;
see docs/scanning.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from devices.wedge import Burst, WedgeConfig

__all__ = ["MARKS", "FieldConfig", "FieldReader"]

# Zero-width format characters that Flutter keeps in a TextField and draws as nothing.
MARKS = ("\u2060", "\u200b", "\u200c", "\u200d", "\u2061", "\u2062", "\u2063", "\u2064")
_MIXED = "typed characters ran into a scan in one line; clear the field and scan again"
_DROPPED = "the connection dropped while this scan was typed; scan it again"
_TYPED_AHEAD = "characters typed before a scan without Enter were not taken; type them again and press Enter"
_HELD_EPOCHS = 16
_SCANNER_KEY = 0.01  # seconds a wedge scanner needs per character, at most
_KEPT_STALLS = 64  # the app's recent stalls remembered (a line spans a few seconds at most)


@dataclass(frozen=True)
class FieldConfig:
    """How the field is read and when it is cleared."""

    wedge: WedgeConfig = WedgeConfig()  # prefix, GS substitutes, scan options, min_length
    scan_gap: float = 0.25  # the longest pause between two scanner characters as they arrive (+ jitter)
    fast_chars: int = 6  # a run this long with no longer pause is a scanner, not a person
    clear_at_lines: int = 6  # clear once the field holds this many finished lines ...
    quiet_before_clear: float = 1.0  # ... and nothing has arrived for this long
    reorder_window: float = 0.3  # how far change events may overtake each other
    reclear_after: float = 5.0  # a clear not seen to land by then is sent again


@dataclass
class _Epoch:
    """What the field held after one clear: the longest value seen, when each character came."""

    text: str = ""
    times: list[float] = field(default_factory=list)
    done: int = 0  # finished lines handed on (or given to the next epoch)
    first_at: float = 0.0
    closed: bool = False  # its unfinished end went to the next epoch
    opened_at: float = float("-inf")  # when the clear that began it was sent
    updated_at: float = float("-inf")
    recovered: set[int] = field(default_factory=set)  # characters that arrived in bulk after an outage

    def update(self, text: str, now: float, lost_since: bool) -> None:
        """Take a newer value: a prefix of what is known is old news; anything else replaces it.

        ``lost_since``: the connection dropped since the last update, so characters that
        arrive several at once were typed unseen (and their timing is unknown).
        """
        if self.text.startswith(text):
            return
        common = _common_prefix(self.text, text)
        if lost_since and len(text) - common > 1:
            self.recovered.update(range(common, len(text)))
        self.times = self.times[:common] + [now] * (len(text) - common)
        self.text, self.updated_at = text, now
        if not self.closed:  # a person removed a line; a closed epoch's count includes its given-away end
            self.done = min(self.done, self.finished())

    def finished(self) -> int:
        """How many lines end with Enter."""
        return self.text.count("\n")

    def line(self, index: int) -> tuple[str, list[float], bool]:
        """Line ``index`` (without its Enter), the arrival time of each of its characters
        (the Enter's last), and whether any of them came back in bulk after an outage."""
        start = 0
        for _ in range(index):
            start = self.text.index("\n", start) + 1
        end = self.text.find("\n", start)
        end = len(self.text) if end < 0 else end
        recovered = any(start <= i <= end for i in self.recovered)
        return self.text[start:end], self.times[start:end + 1], recovered

    def tail(self) -> tuple[str, list[float], bool]:
        """The unfinished last line, its times, and whether it came back in bulk."""
        return self.line(self.finished())


class FieldReader:
    """Turns the successive values of one text field into whole scans, each once."""

    def __init__(self, config: FieldConfig | None = None) -> None:
        self.config = config or FieldConfig()
        self._epochs: dict[int, _Epoch] = {}
        self._current = 0  # the epoch of the last clear sent
        self._issued_at = float("-inf")
        self._landed = True  # a value carrying the current mark has arrived
        self._last_at = float("-inf")
        self._opened: dict[int, float] = {0: float("-inf")}
        self._lost: list[float] = []  # when the connection dropped
        self._stalls: list[tuple[float, float]] = []  # (from, to): the app took no changes then

    @property
    def last_change_at(self) -> float:
        """When the last change arrived (monotonic seconds; -inf before the first)."""
        return self._last_at

    @property
    def initial_value(self) -> str:
        """What the field should hold when it is created (the first epoch's mark)."""
        return MARKS[0]

    def on_change(self, value: str, now: float) -> list[Burst]:
        """The field now holds ``value`` (the change event's data); returns the scans it finished."""
        epoch, text = self._epoch_of(value)
        if epoch not in self._epochs:
            opened = self._opened.get(epoch, float("-inf"))
            since = opened if opened > float("-inf") else now  # outages before the clear went out count too
            self._epochs[epoch] = _Epoch(first_at=now, opened_at=opened, updated_at=since)
        if epoch == self._current:
            self._landed = True
        known = self._epochs[epoch]
        known.update(text, now, lost_since=any(known.updated_at <= lost <= now for lost in self._lost))
        self._last_at = max(self._last_at, now)
        return self._release(now)

    def connection_lost(self, now: float) -> None:
        """The page lost its connection (Flet ``page.on_disconnect``).

        Changes sent meanwhile are gone; a later change carries the whole value again,
        so only a scan that a clear cut at that moment cannot be put back together:
        it is refused rather than joined from what arrived.
        """
        self._lost.append(now)

    def stalled(self, since: float, until: float) -> None:
        """The app's event loop could not take changes from ``since`` to ``until`` (a timer
        that was due at ``since`` ran at ``until``): keys that came meanwhile were queued,
        so that much of a pause between two of them is the app's, not the scanner's."""
        if until <= since:
            return
        if self._stalls and since <= self._stalls[-1][1]:  # one stall seen twice: count it once
            since = min(since, self._stalls[-1][0])
            until = max(until, self._stalls.pop()[1])
        self._stalls = [*self._stalls[-(_KEPT_STALLS - 1):], (since, until)]

    def flush(self, now: float) -> list[Burst]:
        """Scans held back while an older epoch settled; call from a timer (every 0.1-0.2 s)."""
        return self._release(now)

    def clear_value(self, now: float) -> str | None:
        """The value to set the field to now to clear it, or None when it should not be cleared.

        The reader takes the clear as sent: set the field to the returned mark at once.
        """
        config = self.config
        if now - self._last_at < config.quiet_before_clear or not self._epochs:
            return None
        if self._lost and self._lost[-1] >= self._last_at:
            return None  # keys typed during the outage are not seen yet: a clear would wipe them
        if not self._landed and now - self._issued_at < config.reclear_after:
            return None
        if self._current + 2 - max(self._epochs) >= len(MARKS):
            return None  # the handheld is still before several lost clears: a new mark would repeat one
        newest = self._epochs[max(self._epochs)]
        if newest.finished() < config.clear_at_lines or not newest.text.endswith("\n"):
            return None
        if any(e.done < e.finished() for e in self._epochs.values() if not e.closed):
            return None  # a line is still held: clear once it is out
        self._current += 1
        self._issued_at, self._landed = now, False
        self._opened[self._current] = now
        return MARKS[self._current % len(MARKS)]

    def _epoch_of(self, value: str) -> tuple[int, str]:
        found = [MARKS.index(c) for c in value if c in MARKS]
        text = "".join(c for c in value if c not in MARKS)
        if not found:  # the person deleted the mark: the field they see is the newest one
            return (max(self._epochs) if self._epochs else self._current), text
        back = min((self._current - index) % len(MARKS) for index in found)
        return self._current - back, text

    def _release(self, now: float) -> list[Burst]:
        bursts: list[Burst] = []
        for number in sorted(self._epochs):
            epoch = self._epochs[number]
            if epoch.done == 0 and epoch.finished() and not self._settled(number, epoch, now):
                break  # its first line may continue the previous epoch; later epochs wait too
            while epoch.done < epoch.finished():
                text, times, recovered = epoch.line(epoch.done)
                trusted = not recovered
                if epoch.done == 0:
                    text, times, joined_ok = self._join_previous(number, text, times)
                    trusted = trusted and joined_ok
                epoch.done += 1
                found = self._bursts(text, times)
                bursts += found if trusted else [replace(b, complete=False, problem=_DROPPED) for b in found]
        for number in sorted(self._epochs)[:-_HELD_EPOCHS]:
            del self._epochs[number]
            self._opened.pop(number, None)
        return bursts

    def _settled(self, number: int, epoch: _Epoch, now: float) -> bool:
        earlier = [n for n in self._epochs if n < number]
        return not earlier or now - epoch.first_at >= self.config.reorder_window

    def _join_previous(self, number: int, text: str, times: list[float]) -> tuple[str, list[float], bool]:
        """This epoch's first line with the previous epoch's unfinished end before it, and
        whether that join can be trusted (no connection loss between the clear and now)."""
        epoch = self._epochs[number]
        since = epoch.opened_at - self.config.quiet_before_clear  # the clear went out after this much quiet
        trusted = number == 0 or not any(since <= lost <= epoch.first_at for lost in self._lost)
        earlier = [n for n in self._epochs if n < number]
        if not earlier:
            return text, times, trusted
        previous = self._epochs[max(earlier)]
        if previous.closed:
            return text, times, trusted
        head, head_times, recovered = previous.tail()
        trusted = trusted and not recovered
        previous.closed = True
        # Its unfinished line now belongs to this line; never hand it on by itself.
        previous.done = previous.finished() + (1 if head else 0)
        return head + text, head_times[: len(head)] + times, trusted

    def _bursts(self, line: str, line_times: list[float]) -> list[Burst]:
        kept = [(c, t) for c, t in zip(line, line_times) if c != "\r"]
        text = "".join(c for c, _ in kept)
        times = [t for _, t in kept] + line_times[len(line):]  # the Enter's time stays last
        if not text.strip():
            return []
        if self.config.wedge.prefix:
            return self._by_prefix(text, times)
        return [self._by_timing(text, times)]

    def _by_timing(self, text: str, times: list[float]) -> Burst:
        """One burst for the line; refused when a person's typing ran into a scan."""
        config = self.config
        at, end = min(times), max(times)
        pauses, latest = [], times[0]
        for index in range(1, len(times)):
            if self._gap(latest, times[index]) > config.scan_gap:
                pauses.append(index)
            latest = max(latest, times[index])
        if not pauses:
            return self._burst(text, self._fast(times) and len(text) >= config.wedge.min_length, at, end)
        first, cut = pauses[0], pauses[-1]
        if first >= config.fast_chars and self._fast(times[:first]):
            return self._burst(text, True, at, end)  # begun at scanner speed: a scanner that stalled
        if len(text) - cut < config.fast_chars or not self._fast(times[cut:]):
            return self._burst(text, False, at, end)  # a person typed it
        return self._burst(text, False, at, end, problem=_MIXED)  # typing, then a scan

    def _fast(self, times: list[float]) -> bool:
        """Arrived as fast as a scanner types (a person needs 0.1 s or more a key)."""
        return self._gap(min(times), max(times)) <= self.config.scan_gap + _SCANNER_KEY * len(times)

    def _gap(self, earlier: float, later: float) -> float:
        """Time between two arrivals, less any stall of the app's own between them."""
        stalled = sum(max(0.0, min(to, later) - max(since, earlier)) for since, to in self._stalls)
        return later - earlier - stalled

    def _by_prefix(self, text: str, times: list[float]) -> list[Burst]:
        prefix = self.config.wedge.prefix
        cut = text.rfind(prefix)
        if cut < 0:
            return [self._burst(text, False, times[0], times[-1])]
        bursts = []
        if cut > 0:  # typed without Enter, then a scan: the prefix says exactly where
            bursts.append(self._burst(text[:cut], False, times[0], times[cut - 1], problem=_TYPED_AHEAD))
        bursts.append(self._burst(text[cut + len(prefix):], True, times[cut], times[-1]))
        return bursts

    def _burst(self, text: str, by_scanner: bool, at: float, end: float, problem: str = "") -> Burst:
        wedge = self.config.wedge
        return Burst(text, by_scanner, at, end, wedge.gs_substitutes, complete=not problem, problem=problem,
                     options=wedge.options)


def _common_prefix(a: str, b: str) -> int:
    length = min(len(a), len(b))
    for index in range(length):
        if a[index] != b[index]:
            return index
    return length
