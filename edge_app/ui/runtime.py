"""What every browser session of one floor-app process shares: the replica,
the one background sync loop, and a board that tells each open screen when the
sync status changes.

One process, one sync loop: sessions subscribe to the board, they never start
loops of their own."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Callable

import httpx

from edge_app.agent import SyncAgent, hub_client
from edge_app.hub_lookups import blocking
from edge_app.errors import NotEnrolled
from edge_app.health import describe_health, device_health
from edge_app.local import outbox
from edge_app.local.replica import Replica
from edge_app.sync_loop import SyncLoop, SyncStatus

__all__ = ["StatusBoard", "FloorRuntime"]

log = logging.getLogger(__name__)

Listener = Callable[[SyncStatus], None]


class StatusBoard:
    """Fans the latest sync status out to every open screen."""

    def __init__(self) -> None:
        self.status = SyncStatus()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the call that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, status: SyncStatus) -> None:
        self.status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # noqa: BLE001 - a closed tab must not stop the others
                log.exception("status listener failed; dropping it")
                self._listeners.remove(listener)


class FloorRuntime:
    """The replica, its identity and (once enrolled) the sync loop of this process."""

    def __init__(self, data_dir: str, sync_interval: float = 5.0):
        self.data_dir = data_dir
        self.sync_interval = sync_interval
        self.replica = Replica(data_dir)
        self.board = StatusBoard()
        self.board.status = self._status_at_start()
        self.loop: SyncLoop | None = None
        self._task: asyncio.Task | None = None
        self._client: httpx.AsyncClient | None = None

    def _status_at_start(self) -> SyncStatus:
        """What the replica knows before the first round: after a restart the bar says
        when the device last synced and what waits, not "not synced yet" and 0."""
        status = SyncStatus()
        last = self.replica.get_meta("last_sync_at")
        status.last_sync_at = datetime.fromisoformat(last) if last else None
        with self.replica.transaction() as conn:
            status.outbox_depth = outbox.depth(conn)
        return status

    @property
    def enrolled(self) -> bool:
        return bool(self.replica.get_meta("device_id"))

    @property
    def actor(self) -> str:
        """Who the ops are recorded for: the device's name on the hub."""
        return self.replica.get_meta("device_name") or self.replica.get_meta("role") or "picker"

    def identity(self) -> dict[str, str]:
        return self.replica.identity()

    def start_sync(self) -> bool:
        """Start the one sync loop on the running event loop; False if not enrolled."""
        if self.loop is not None:
            return True
        try:
            self._client = hub_client(self.replica)
        except NotEnrolled:
            return False
        self.loop = SyncLoop(SyncAgent(self.replica, self._client), interval=self.sync_interval,
                             on_status=self.board.publish)
        self.loop.status = self.board.status  # carry on from what the replica said at start
        self._task = asyncio.get_running_loop().create_task(self.loop.run(), name="backroom-sync-loop")
        return True

    async def stop(self) -> None:
        if self.loop is not None:
            self.loop.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        if self._client is not None:
            await self._client.aclose()
        self.replica.close()

    def return_lookup(self) -> Callable[[dict[str, str]], dict] | None:
        """Returns from any channel: a blocking hub look-up for a screen's worker thread
        (edge_app.hub_lookups), or None while this device does not sync."""
        if self._client is None or self._task is None:
            return None
        return blocking(self._task.get_loop(), self._client)

    def recorded(self) -> None:
        """A person's action was just saved: show the new outbox depth, sync soon."""
        with self.replica.transaction() as conn:
            self.board.status.outbox_depth = outbox.depth(conn)
        self.board.publish(self.board.status)
        self.sync_now()

    def sync_now(self) -> None:
        if self.loop is not None:
            self.loop.kick()

    def rejections(self) -> list[dict]:
        with self.replica.transaction() as conn:
            return outbox.rejections(conn)

    def refusals(self, actor: str | None = None) -> list[dict]:
        """What the hub refused, not yet read: `actor`'s only, or everyone's (None)."""
        with self.replica.transaction() as conn:
            return outbox.refusals(conn, actor)

    def follow_ups(self, actor: str | None = None) -> list[dict]:
        """Routine outcomes with work for someone (a short's task), not yet read."""
        with self.replica.transaction() as conn:
            return outbox.follow_ups(conn, actor)

    def dismiss(self, device_seq: int) -> None:
        with self.replica.transaction() as conn:
            outbox.dismiss(conn, device_seq)

    def health_lines(self) -> list[str]:
        """The sync status screen's summary, in the floor's words."""
        now = datetime.now(timezone.utc)
        with self.replica.transaction() as conn:
            return describe_health(device_health(conn, now), now)

    async def tick(self, every: float = 1.0) -> None:
        """Re-publish the status now and then so "synced 12 s ago" keeps counting."""
        while True:
            await asyncio.sleep(every)
            self.board.publish(self.board.status)
