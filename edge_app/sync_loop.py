"""The background sync loop: a round soon after each local action, one every
`interval` seconds otherwise, backing off (with jitter) while the hub is away."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from edge_app.agent import RoundReport, SyncAgent
from edge_app.errors import HubRefused, HubUnreachable, StorageFull
from edge_app.local import outbox

__all__ = ["SyncStatus", "SyncLoop", "backoff_delay"]


@dataclass
class SyncStatus:
    """What the status bar shows."""

    online: bool | None = None  # None until the first round has run
    last_sync_at: datetime | None = None
    last_error: str | None = None
    outbox_depth: int = 0
    last_report: RoundReport | None = None
    rounds: int = 0  # rounds run since start, whatever their outcome


def backoff_delay(failures: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [base/2, min(cap, base·2^failures)]."""
    ceiling = min(cap, base * (2 ** failures))
    return rng.uniform(min(base / 2, ceiling), ceiling)


class SyncLoop:
    def __init__(
        self,
        agent: SyncAgent,
        interval: float = 5.0,
        max_backoff: float = 60.0,
        on_status: Callable[[SyncStatus], None] | None = None,
        rng: random.Random | None = None,
    ):
        self.agent = agent
        self.interval = interval
        self.max_backoff = max_backoff
        self.on_status = on_status or (lambda _status: None)
        self.status = SyncStatus()
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._failures = 0
        self._stopped = False

    def kick(self) -> None:
        """Sync soon: a local action has just been recorded."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopped:
            await self.round()
            delay = self.interval if not self._failures else backoff_delay(self._failures, 1.0, self.max_backoff, self._rng)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def round(self) -> None:
        """One sync round; never raises for network trouble or a full disk, it records it."""
        try:
            report = await self.agent.sync_once()
        except (HubUnreachable, HubRefused) as exc:
            self._failures += 1
            self.status.online = False
            self.status.last_error = str(exc)
        except StorageFull as exc:  # the replica's disk: the round is tried again, nothing was lost
            self._failures += 1
            self.status.last_error = str(exc)
        else:
            self._failures = 0
            self.status.online = True
            self.status.last_error = None
            self.status.last_sync_at = datetime.now(timezone.utc)
            self.status.last_report = report
        with self.agent.replica.transaction() as conn:
            self.status.outbox_depth = outbox.depth(conn)
        self.status.rounds += 1
        self.on_status(self.status)
