"""Inventory risk: how many days each location's stock of a SKU lasts at its recent
demand, when it runs out, and transfers from locations with surplus that would help.

Demand is the units picked over the last WINDOW_DAYS, from the pick movements of that
window (a range of the (reason, hlc) index: bounded by time, never the op log).
Available is what the hub may still promise: on hand − reserved − outstanding
allotments − safety stock (hub.domain.stock.Commitments.free). Only (location, SKU)
pairs with demand in the window get a cover; a pair nobody picked from has no risk,
but it may give to one that has (a donor).

`cover_of`, `level_of` and `suggest` are pure; `inventory_risk` reads and calls them."""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable

from hub.access import Access
from hub.errors import Conflict, Invalid
from hub.network_actions import ship_transfer
from hub.store.tx import Tx

__all__ = ["WINDOW_DAYS", "TARGET_DAYS", "LEVELS", "AT_RISK", "Holding", "Cover", "Suggestion", "InventoryRisk",
           "days_of_cover", "stock_out_date", "level_of", "cover_of", "suggest", "rank", "inventory_risk", "since_hlc",
           "covers_page", "ship_suggested", "RiskMemo"]

WINDOW_DAYS = 14  # recent demand: long enough to smooth a week's rhythm
TARGET_DAYS = 14  # cover a location should hold; a transfer brings a receiver up to it
CRITICAL_DAYS = 3
LOW_DAYS = 7
SURPLUS_DAYS = 2 * TARGET_DAYS  # a donor keeps TARGET_DAYS and gives the rest
LEVELS = ("out", "critical", "low", "ok", "surplus")  # worst first
AT_RISK = ("out", "critical", "low")


@dataclass(frozen=True)
class Holding:
    """What one location holds of one SKU and how much of it went out in the window."""

    location: str
    sku: str
    on_hand: int
    reserved: int  # reservations and outstanding handheld allotments
    safety: int
    picked: int  # units picked in the window
    incoming: int = 0  # in transit to here

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.safety


@dataclass(frozen=True)
class Cover:
    location: str
    sku: str
    on_hand: int
    reserved: int
    safety: int
    available: int
    per_day: float
    days: float | None  # None: no demand, no end in sight
    out_by: date | None
    level: str
    incoming: int = 0

    @property
    def reason(self) -> str:
        """The cover in words (built when shown: most covers of a network never are)."""
        where = f"{self.sku} at {self.location}"
        if self.days is None:
            words = f"{where}: no picks in {WINDOW_DAYS} days, {max(self.available, 0)} available"
        elif self.level == "out":
            words = (f"{where}: nothing to promise at {_rate(self.per_day)} (on hand {self.on_hand}, "
                     f"reserved {self.reserved}, safety {self.safety}); out now")
        else:
            words = f"{where}: {self.days:.0f} days of cover at {_rate(self.per_day)}; out by {self.out_by}"
        return words + (f"; {self.incoming} in transit" if self.incoming else "")

    def as_dict(self) -> dict[str, Any]:
        return {"location": self.location, "sku": self.sku, "on_hand": self.on_hand, "reserved": self.reserved,
                "safety_stock": self.safety, "available": self.available, "per_day": round(self.per_day, 2),
                "days_of_cover": None if self.days is None else round(self.days, 1),
                "out_by": self.out_by.isoformat() if self.out_by else None, "level": self.level, "reason": self.reason,
                "in_transit": self.incoming}


@dataclass(frozen=True)
class Suggestion:
    sku: str
    from_location: str
    to_location: str
    qty: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"sku": self.sku, "from_location": self.from_location, "to_location": self.to_location,
                "qty": self.qty, "reason": self.reason}


@dataclass(frozen=True)
class InventoryRisk:
    covers: list[Cover]  # worst first
    suggestions: list[Suggestion]


# -- the arithmetic (pure) ------------------------------------------------------------
def days_of_cover(available: int, per_day: float) -> float | None:
    """Days the available units last at `per_day`; None without demand; 0 when nothing is available."""
    if per_day <= 0:
        return None
    return max(available, 0) / per_day


def stock_out_date(today: date, available: int, per_day: float) -> date | None:
    """The day the available units are gone at `per_day` (today if none are left)."""
    days = days_of_cover(available, per_day)
    return None if days is None else today + timedelta(days=math.floor(days))


def level_of(days: float | None, available: int) -> str:
    if days is None:
        return "surplus" if available > 0 else "ok"
    if available <= 0:
        return "out"
    if days < CRITICAL_DAYS:
        return "critical"
    if days < LOW_DAYS:
        return "low"
    return "ok" if days <= SURPLUS_DAYS else "surplus"


def cover_of(h: Holding, today: date, window_days: int = WINDOW_DAYS) -> Cover:
    per_day = max(h.picked, 0) / window_days
    days = days_of_cover(h.available, per_day)
    out_by = stock_out_date(today, h.available, per_day)
    level = level_of(days, h.available)
    return Cover(h.location, h.sku, h.on_hand, h.reserved, h.safety, h.available, per_day, days, out_by, level,
                 h.incoming)


def _rate(per_day: float) -> str:
    return f"{per_day:.1f}".rstrip("0").rstrip(".") + "/day"


def _target(per_day: float) -> int:
    return math.ceil(TARGET_DAYS * per_day)


def suggest(covers: Iterable[Cover]) -> list[Suggestion]:
    """Transfers that bring at-risk (location, SKU) up to TARGET_DAYS of cover from
    locations holding more than SURPLUS_DAYS (or stock nobody picks), each donor keeping
    TARGET_DAYS of its own; units in transit to a receiver count as there. Neediest
    receiver first, the donor with most to give first."""
    by_sku: dict[str, list[Cover]] = {}
    for c in covers:
        by_sku.setdefault(c.sku, []).append(c)
    out: list[Suggestion] = []
    for sku, same in sorted(by_sku.items()):
        spare = {c.location: c.available - _target(c.per_day) for c in same if c.level == "surplus"}
        for need in sorted((c for c in same if c.level in AT_RISK), key=lambda c: (c.days or 0.0, c.location)):
            # promised beyond what is held (negative available) is wanted too: those orders need the units
            wanted = _target(need.per_day) - need.available - need.incoming
            for donor in sorted(spare, key=lambda loc: (-spare[loc], loc)):
                if wanted <= 0:
                    break
                qty = min(wanted, spare[donor])
                if qty <= 0:
                    continue
                spare[donor] -= qty
                wanted -= qty
                why = f"{need.reason}; {donor} can spare {qty + spare[donor]} and keep {TARGET_DAYS} days"
                out.append(Suggestion(sku, donor, need.location, qty, why))
    return out


def rank(c: Cover) -> tuple[int, float, str, str]:
    """The order covers are listed in: worst level first, then fewest days."""
    return (LEVELS.index(c.level), c.days if c.days is not None else math.inf, c.location, c.sku)


# -- reading the hub --------------------------------------------------------------------
def since_hlc(now: datetime, days: int = WINDOW_DAYS) -> str:
    """The smallest HLC of the window (HLCs start with the fixed-width wall time in ms)."""
    return f"{int((now - timedelta(days=days)).timestamp() * 1000):015d}"


_COMMITTED = (
    "(SELECT COALESCE(SUM(on_hand), 0) FROM stock s WHERE s.location = d.location AND s.sku = d.sku), "
    "(SELECT COALESCE(SUM(qty), 0) FROM reservations r WHERE r.location = d.location AND r.sku = d.sku) + "
    "(SELECT COALESCE(SUM(granted - used - released), 0) FROM allotments a "
    "WHERE a.location = d.location AND a.sku = d.sku), "
    "COALESCE((SELECT safety_stock FROM stock_policy p WHERE p.location = d.location AND p.sku = d.sku), 0)"
)


def _in_transit(conn: Tx) -> dict[tuple[str, str], int]:
    """Units on their way to each (location, SKU): transfers shipped and not yet received."""
    incoming: dict[tuple[str, str], int] = {}
    for to, lines in conn.execute("SELECT to_location, lines FROM transfers WHERE status = 'in_transit'").tuples():
        for line in json.loads(lines):
            incoming[(to, line["sku"])] = incoming.get((to, line["sku"]), 0) + int(line["qty"])
    return incoming


def _demanded(conn: Tx, since: str, scope: list[str] | None, sku: str | None,
              incoming: dict[tuple[str, str], int], only: list[str] | None = None) -> list[Holding]:
    """Each (location, SKU) picked from since `since` (of the SKUs `only`, if given), with
    what it holds (index look-ups per pair)."""
    where = " AND location IN :scope" if scope is not None else ""
    where += " AND sku = :sku" if sku else ""
    outer = " WHERE d.sku IN :only" if only is not None else ""
    rows = conn.execute(
        f"SELECT d.location, d.sku, {_COMMITTED}, d.picked FROM (SELECT location, sku, -SUM(qty) AS picked "
        f"FROM movements WHERE reason = 'pick' AND hlc >= :since{where} GROUP BY location, sku) d{outer}",
        {"since": since, "scope": scope or [], "sku": sku, "only": only or []}).tuples()
    return [Holding(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]), incoming.get((r[0], r[1]), 0))
            for r in rows]


def _donors(conn: Tx, skus: list[str], have: set[tuple[str, str]]) -> list[Holding]:
    """The DONORS locations holding most of each of these SKUs, other than `have` (picked
    from in the window), with what they may still promise. Grouped reads by SKU (each
    table has a (sku, location) index); the ranking is the database's: reading every
    holder of 4,000 SKUs across 200 locations into Python took seconds."""
    held: dict[tuple[str, str], list[int]] = {}
    for start in range(0, len(skus), 500):
        chunk = {"skus": skus[start:start + 500], "k": DONORS + 1}
        for loc, sku, n in conn.execute(_FULLEST, chunk).tuples():
            if (loc, sku) not in have and n > 0:
                held[(loc, sku)] = [int(n), 0, 0]
        for sql, at in ((_RESERVED, 1), (_ALLOTTED, 1), (_SAFETY, 2)):
            for loc, sku, n in conn.execute(sql, chunk).tuples():
                if (loc, sku) in held:
                    held[(loc, sku)][at] += int(n or 0)
    return [Holding(loc, sku, on_hand, reserved, safety, 0) for (loc, sku), (on_hand, reserved, safety) in held.items()
            if on_hand > reserved + safety]


DONORS = 10  # per SKU: the fullest holders; the suggestion draws on the one with most to spare
_FULLEST = ("SELECT location, sku, n FROM (SELECT location, sku, SUM(on_hand) AS n, ROW_NUMBER() OVER "
            "(PARTITION BY sku ORDER BY SUM(on_hand) DESC, location) AS place FROM stock WHERE sku IN :skus "
            "GROUP BY sku, location) ranked WHERE place <= :k")
_RESERVED = "SELECT location, sku, SUM(qty) FROM reservations WHERE sku IN :skus GROUP BY sku, location"
_ALLOTTED = ("SELECT location, sku, SUM(granted - used - released) FROM allotments WHERE sku IN :skus "
             "GROUP BY sku, location")
_SAFETY = "SELECT location, sku, safety_stock FROM stock_policy WHERE sku IN :skus"


def inventory_risk(conn: Tx, access: Access, now: datetime, sku: str | None = None,
                   location: str | None = None) -> InventoryRisk:
    """Covers of every (location, SKU) with demand that `access` sees (at `location` only, if
    given), worst first, and the transfers that would help them (only between locations
    it sees). Raises NotFound for a location it does not see."""
    if location:
        access.require_read(location, "location")
    scope = frozenset({location}) if location else access.scope()
    today = now.date()
    incoming = _in_transit(conn)
    demanded = _demanded(conn, since_hlc(now), sorted(scope) if scope is not None else None, sku, incoming)
    covers = [cover_of(h, today) for h in demanded]
    at_risk = sorted({c.sku for c in covers if c.level in AT_RISK})
    pool = covers
    if at_risk:
        if scope is not None:  # receivers beyond the caller's locations compete for the same donors
            only = at_risk if len(at_risk) <= 10_000 else None  # within any database's parameter limit
            pool = [cover_of(h, today) for h in _demanded(conn, since_hlc(now), None, sku, incoming, only)]
        known = {(c.location, c.sku) for c in pool}
        pool = pool + [cover_of(h, today) for h in _donors(conn, at_risk, known)]
    suggestions = [s for s in suggest(pool) if access.sees(s.from_location) and access.sees(s.to_location)]
    return InventoryRisk(sorted(covers, key=rank), suggestions)


def covers_page(covers: list[Cover], location: str | None = None, level: str | None = None,
                after: str | None = None, limit: int = 200) -> tuple[list[Cover], str | None]:
    """One page of `covers` (already worst first) after the cursor, and the next cursor."""
    wanted = [c for c in covers if (not location or c.location == location) and (not level or c.level == level)]
    if after:
        key = _decode(after)
        wanted = [c for c in wanted if _key(c) > key]
    page = wanted[:limit]
    return page, (_encode(_key(page[-1])) if len(wanted) > limit else None)


def _key(c: Cover) -> tuple[int, float, str, str]:
    level, days, location, sku = rank(c)
    return (level, days if days != math.inf else 1e18, location, sku)


def _encode(key: tuple[int, float, str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, float, str, str]:
    try:
        level, days, location, sku = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return (int(level), float(days), str(location), str(sku))
    except (ValueError, TypeError) as exc:
        raise Invalid("after: not a cursor this list gave") from exc


def ship_suggested(conn: Tx, access: Access, now: datetime, sku: str, from_location: str, to_location: str,
                   qty: int | None = None) -> dict[str, Any]:
    """Ship a suggested transfer now, through the logged `transfer.shipped` command
    (hub.network_actions.ship_transfer), from the source's fullest bins. Raises Conflict
    when no such transfer is suggested any more, Invalid for more than suggested."""
    access.require_change(to_location, "location")
    found = [s for s in inventory_risk(conn, access, now, sku, to_location).suggestions
             if (s.from_location, s.to_location) == (from_location, to_location)]
    if not found:
        raise Conflict(f"no transfer of {sku} from {from_location} to {to_location} is suggested now")
    qty = found[0].qty if qty is None else qty
    if qty > found[0].qty:
        raise Invalid(f"qty: at most {found[0].qty} {sku} are suggested, not {qty}")
    lines = _from_bins(conn, from_location, sku, qty)
    transfer_id = ship_transfer(conn, access, {"from_location": from_location, "to_location": to_location,
                                               "lines": lines})
    return {"transfer_id": transfer_id, "sku": sku, "from_location": from_location, "to_location": to_location,
            "qty": qty, "lines": lines, "status": "in_transit"}


def _from_bins(conn: Tx, location: str, sku: str, qty: int) -> list[dict[str, Any]]:
    lines, left = [], qty
    fullest = conn.execute("SELECT bin, on_hand FROM stock WHERE location = :l AND sku = :s AND on_hand > 0 "
                           "ORDER BY on_hand DESC, bin", {"l": location, "s": sku}).tuples()
    for bin_code, on_hand in fullest:
        take = min(left, int(on_hand))
        lines.append({"bin": bin_code, "sku": sku, "qty": take})
        left -= take
        if left <= 0:
            break
    if left > 0:
        raise Conflict(f"the bins of {location} hold fewer than {qty} {sku}")
    return lines


class RiskMemo:
    """Answers of `inventory_risk` kept for `ttl` seconds per (who sees what, location, SKU):
    paging a network-wide list recomputed all of it for every page (5-10 s on 200
    locations x 10,000 SKUs). `forget` after this process ships a transfer; another
    process's list may show a shipped suggestion until its answer ages out, and shipping
    it again is refused (Conflict: no longer suggested)."""

    def __init__(self, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic, size: int = 64):
        self.ttl, self.clock, self.size = ttl, clock, size
        self._kept: dict[tuple[Any, ...], tuple[float, InventoryRisk]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Callable[[], InventoryRisk]) -> InventoryRisk:
        now = self.clock()
        with self._lock:
            hit = self._kept.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        answer = compute()
        with self._lock:
            if len(self._kept) >= self.size:
                self._kept.clear()
            self._kept[key] = (now, answer)
        return answer

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()
