"""The relay: publishes the outbox to NATS JetStream, and to webhooks, at least once.

JetStream: each page of events past the stream's cursor (`relay_cursors`, named
`jetstream:<stream>`) is published with the event id as the message id
(`Nats-Msg-Id`), every ack awaited, and only then the cursor moved (the next page
goes out while one page's acks are awaited). A relay killed
between the acks and the cursor publishes the page again on restart, under the same
ids: the server drops the copies it has seen within its duplicate window, and a
consumer de-duplicates by id past it. Subjects are `<prefix>.<type without
"backroom.">`, e.g. `backroom.events.order.picked`; the stream takes `<prefix>.>`.

Configuration (flags of `backroom hub relay`, or the environment):
BACKROOM_NATS_URL (nats://127.0.0.1:4222), BACKROOM_EVENTS_STREAM (BACKROOM_EVENTS),
BACKROOM_EVENTS_SUBJECT (backroom.events)."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import time
from collections import deque
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hub.child_process import beside_the_hub
from hub.events.stream import StoredEvent, cursor, envelope_json, page, set_cursor
from hub.events.webhooks import WebhookDeliverer
from hub.store.db import Database

__all__ = ["RelayConfig", "JetStreamPublisher", "subject_of", "run_relay", "relay_main", "relay_process"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelayConfig:
    nats_url: str = "nats://127.0.0.1:4222"
    stream: str = "BACKROOM_EVENTS"
    subject: str = "backroom.events"  # the prefix of every event's subject
    batch: int = 1000  # events per page: published together, acks awaited together
    idle_s: float = 0.05  # how long an idle relay waits before looking again
    jetstream: bool = True
    webhooks: bool = True
    risk_every_s: float = 60.0  # how often SLA risk is refreshed (hub.insight.risk); 0: never

    @classmethod
    def from_env(cls, **given: Any) -> "RelayConfig":
        """The defaults, then the environment, then what is given (None: not given)."""
        config = cls(nats_url=os.environ.get("BACKROOM_NATS_URL", cls.nats_url),
                     stream=os.environ.get("BACKROOM_EVENTS_STREAM", cls.stream),
                     subject=os.environ.get("BACKROOM_EVENTS_SUBJECT", cls.subject))
        return replace(config, **{k: v for k, v in given.items() if v is not None})


def subject_of(prefix: str, event_type: str) -> str:
    return f"{prefix}.{event_type.removeprefix('backroom.')}"


class JetStreamPublisher:
    """Publishes the outbox to one JetStream stream, from its durable cursor."""

    def __init__(self, db: Database, config: RelayConfig):
        self.db, self.config = db, config
        self.cursor_name = f"jetstream:{config.stream}"
        self.published = 0
        self.duplicates = 0  # copies the server dropped: pages sent again after a crash
        self.lags: list[float] = []  # seconds from commit to ack, per event (benchmarks read them)
        self.keep_lags = False
        self._nc: Any = None
        self._js: Any = None
        self._inbox = ""
        self._pages: dict[int, _Acks] = {}
        self._page_no = 0

    async def connect(self) -> None:
        import nats
        from nats.js.errors import BadRequestError

        # Reconnects forever once connected; a first connection that fails raises, and run() tries again.
        nc = await nats.connect(self.config.nats_url, max_reconnect_attempts=-1, allow_reconnect=True,
                                connect_timeout=2)
        try:
            js = nc.jetstream()
            try:
                await js.add_stream(name=self.config.stream, subjects=[f"{self.config.subject}.>"])
            except BadRequestError:
                await js.stream_info(self.config.stream)  # it exists, configured otherwise: use it as it is
            self._inbox = nc.new_inbox()
            await nc.subscribe(f"{self._inbox}.>", cb=self._on_ack)
        except BaseException:
            await nc.close()
            raise
        self._nc, self._js = nc, js

    async def _send(self, events: list[StoredEvent]) -> "asyncio.Future[list[dict[str, Any]]]":
        """Publish a page; the future holds its acks, in order, once all are in. Each
        message asks for its ack at `<inbox>.<page>.<i>`, all read by one subscription
        (nats-py's publish_async spent ~200 µs of Python a message on a busy machine)."""
        self._page_no += 1
        acks = self._pages[self._page_no] = _Acks(len(events))
        prefix = f"{self._inbox}.{self._page_no}."
        for i, e in enumerate(events):
            await self._nc.publish(subject_of(self.config.subject, e.type), envelope_json(e), reply=f"{prefix}{i}",
                                   headers={"Nats-Msg-Id": e.id})
        return acks.done

    async def _on_ack(self, msg: Any) -> None:
        _inbox, page_no, i = msg.subject.rsplit(".", 2)
        acks = self._pages.get(int(page_no))
        if acks is None or acks.done.done():
            return
        try:
            ack = json.loads(msg.data) if msg.data else {"error": {"description": (msg.headers or {}).get("Status", "no ack")}}
        except ValueError:
            ack = {"error": {"description": f"unreadable ack {msg.data[:100]!r}"}}
        if "error" in ack:
            acks.done.set_exception(RuntimeError(f"JetStream refused an event: {ack['error']}"))
            return
        acks.add(int(i), ack)

    async def _acked(self, future: "asyncio.Future[list[dict[str, Any]]]") -> list[dict[str, Any]]:
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=30)
        finally:
            for no in [no for no, acks in self._pages.items() if acks.done is future]:
                del self._pages[no]

    async def _connect_unless(self, stop: asyncio.Event) -> bool:
        """Connect, unless `stop` is set first (nats-py keeps trying a server that is not
        there, when told to reconnect forever); False if stopped."""
        connecting = asyncio.ensure_future(asyncio.wait_for(self.connect(), timeout=60))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not connecting.done():
            connecting.cancel()
            return False
        connecting.result()  # raises if it failed: run() tries again after a pause
        return True

    async def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()

    async def publish_page(self) -> int:
        """Publish the next page past the cursor; returns how many events it held."""
        with self.db.read() as conn:
            events = page(conn, cursor(conn, self.cursor_name), self.config.batch)
        if not events:
            return 0
        self._settled(events, await self._acked(await self._send(events)))
        return len(events)

    async def publish_all(self, stop: asyncio.Event | None = None) -> int:
        """Publish pages until the outbox is exhausted, the next page sent while the last
        one's acks are awaited (the cursor still moves only past acked pages, in order).
        Returns how many events were published."""
        with self.db.read() as conn:
            after = cursor(conn, self.cursor_name)
        inflight: deque[tuple[list[StoredEvent], asyncio.Future[list[dict[str, Any]]]]] = deque()
        sent = 0
        while True:
            events: list[StoredEvent] = []
            if stop is None or not stop.is_set():
                with self.db.read() as conn:
                    events = page(conn, after, self.config.batch)
            if events:
                inflight.append((events, await self._send(events)))
                after = events[-1].position
            if inflight and (len(inflight) > 1 or not events):
                done, future = inflight.popleft()
                self._settled(done, await self._acked(future))
                sent += len(done)
            if not events and not inflight:
                return sent

    def _settled(self, events: list[StoredEvent], acks: list[dict[str, Any]]) -> None:
        acked = time.time()
        with self.db.write() as conn:
            set_cursor(conn, self.cursor_name, events[-1].position)
        self.published += len(events)
        self.duplicates += sum(1 for a in acks if a.get("duplicate"))
        if self.keep_lags:
            self.lags.extend(acked - datetime.fromisoformat(e.time).timestamp() for e in events)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; a failed page is published again after a pause,
        and a server not there yet (or gone) is connected to again."""
        pause = 0.1
        try:
            while not stop.is_set():
                try:
                    if (self._nc is None or self._nc.is_closed) and not await self._connect_unless(stop):
                        return
                    sent = await self.publish_all(stop)
                    pause = 0.1
                except Exception as exc:  # noqa: BLE001 - NATS away or slow: the page waits, nothing is skipped
                    log.warning("relay: publishing to %s failed (%s); trying again in %.1f s", self.config.stream, exc, pause)
                    await _wait(stop, pause)
                    pause = min(pause * 2, 5.0)
                    continue
                if not sent:
                    await _wait(stop, self.config.idle_s)
        finally:
            await self.close()


class _Acks:
    """The acks of one page as they come in; `done` once every one has."""

    def __init__(self, n: int):
        self.acks: list[dict[str, Any]] = [{}] * n
        self.left = n
        self.done: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()

    def add(self, i: int, ack: dict[str, Any]) -> None:
        if not self.acks[i]:
            self.acks[i] = ack
            self.left -= 1
            if self.left == 0:
                self.done.set_result(self.acks)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


async def run_relay(db: Database, config: RelayConfig, stop: asyncio.Event) -> None:
    """JetStream and webhooks side by side, until `stop` is set."""
    tasks = []
    if config.jetstream:
        tasks.append(JetStreamPublisher(db, config).run(stop))
    if config.webhooks:
        tasks.append(WebhookDeliverer(db).run(stop, config.idle_s))
    if config.risk_every_s > 0:
        tasks.append(_refresh_risk(db, stop, config.risk_every_s))
    await asyncio.gather(*tasks)


async def _refresh_risk(db: Database, stop: asyncio.Event, every_s: float) -> None:
    """Devices' online state and SLA risk refreshed every `every_s`: their changes are
    logged hub commands, whose events this relay then publishes."""
    from hub.insight.devices import refresh_devices
    from hub.insight.risk import refresh

    tally: Any = None  # anomalies: the window's facts, kept between rounds
    while not stop.is_set():
        try:
            await asyncio.to_thread(refresh_devices, db)
            counts = await asyncio.to_thread(refresh, db)
            if counts["changed"]:
                log.info("risk: %s", counts)
        except Exception as exc:  # noqa: BLE001 - next round tries again
            log.warning("risk: refresh failed (%s)", exc)
        tally = await _refresh_anomalies(db, tally)
        await _wait(stop, every_s)


async def _refresh_anomalies(db: Database, tally: Any) -> Any:
    """Anomalies found and cleared on the same beat as risk (hub.insight.anomalies);
    returns the tally to fold the next round's events into (a fresh one after a failure)."""
    from hub.insight.anomalies import Tally, refresh

    tally = tally or Tally()
    try:
        counts = await asyncio.to_thread(refresh, db, None, "anomalies", tally)
        if counts["raised"] or counts["cleared"]:
            log.info("anomalies: %s", counts)
        return tally
    except Exception as exc:  # noqa: BLE001 - next round tries again, from the whole window
        log.warning("anomalies: refresh failed (%s)", exc)
        return None


def relay_main(db_url: str, config: RelayConfig) -> None:
    """The relay process's body: runs until SIGTERM or SIGINT."""
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s relay %(levelname)s %(message)s")
    db = Database(db_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_relay(db, config, stop)

    try:
        asyncio.run(main())
    finally:
        db.dispose()


def relay_process(db_url: str,
                  config: RelayConfig) -> AbstractContextManager[multiprocessing.process.BaseProcess]:
    """The relay in a process of its own beside `hub serve` (--relay)."""
    return beside_the_hub(relay_main, (db_url, config), "backroom-hub-relay")
