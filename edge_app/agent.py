"""The sync agent: push the outbox in order, then pull hub changes past the
cursor. It takes an httpx.AsyncClient, so tests can hand it the hub in-process
through httpx.ASGITransport."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from edge_app.errors import HubRefused, HubUnreachable, OutOfStep
from edge_app.health import device_health
from edge_app.hub_url import checked_hub_url, tls_verify
from edge_app.local import outbox, recovery
from edge_app.local.allotments import release_excess
from edge_app.local.hub_state import apply_changes, skipped_but_known_now
from edge_app.local.replica import Replica
from sync.models import OpStatus, PullResponse, PushRequest, PushResponse

__all__ = ["SyncAgent", "RoundReport", "hub_client"]


@dataclass
class RoundReport:
    """What one sync round did."""

    pushed: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    pulled: int = 0
    cursor: int = 0
    outbox_depth: int = 0
    out_of_step: list[str] = field(default_factory=list)  # reasons the hub gave (hub.api.pull_checks)
    resent: int = 0  # answered ops sent again to a hub restored from a backup
    pruned: int = 0  # answered ops past the retention window, forgotten

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def hub_client(replica: Replica, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 10.0) -> httpx.AsyncClient:
    """An httpx.AsyncClient pointed at this device's hub, carrying its token; raises
    InsecureHub for plain http to another machine the device was not enrolled --insecure for."""
    ident = replica.identity()
    return httpx.AsyncClient(
        base_url=checked_hub_url(ident["hub_url"], bool(replica.get_meta("insecure"))),
        headers={"Authorization": f"Bearer {ident['token']}"},
        transport=transport,
        timeout=timeout,
        verify=tls_verify(replica.get_meta("ca_file")),
    )


class SyncAgent:
    """One device's sync: `sync_once()` pushes everything pending, then pulls."""

    # Pages of 5,000 (the hub's most): a bootstrap of a big store is a few dozen
    # round trips and local commits instead of hundreds.
    def __init__(self, replica: Replica, client: httpx.AsyncClient, batch_size: int = 200, page_size: int = 5000,
                 retention: timedelta = recovery.RETENTION):
        self.replica = replica
        self.client = client
        self.batch_size = batch_size
        self.page_size = page_size
        self.retention = retention
        self._agreed: int | None = None  # the last op number the hub holds as this device does, if in doubt

    async def sync_once(self) -> RoundReport:
        """Raises HubUnreachable when the hub can't be reached; nothing local is lost."""
        report = RoundReport()
        # Escrow units this device should no longer hold go back before anything else.
        release_excess(self.replica)
        for attempt in range(3):
            await self.push(report)
            # Pull only after a complete push, so no answered-but-unrecorded op's effect
            # is counted twice (once in hub state, once in the overlay).
            try:
                await self.pull(report)
                break
            except OutOfStep as step:
                if attempt == 2:
                    raise
                self._step_in(step, report)
        now = datetime.now(timezone.utc)
        with self.replica.transaction() as conn:
            report.pruned = recovery.prune(conn, now, self.retention)
        self.replica.set_meta("last_sync_at", now.isoformat())
        with self.replica.transaction() as conn:
            report.outbox_depth = outbox.depth(conn)
            health = device_health(conn, now)
        await self._call("POST", "/v1/devices/health", json=health.model_dump(mode="json"))
        report.cursor = self.replica.cursor
        return report

    async def push(self, report: RoundReport) -> None:
        while True:
            with self.replica.transaction() as conn:
                ops = outbox.pending_ops(conn, self.batch_size)
            if not ops:
                return
            body = PushRequest(ops=ops).model_dump(mode="json", exclude_none=True)
            answer = PushResponse.model_validate(await self._call("POST", "/v1/ops", json=body))
            with self.replica.transaction() as conn:
                outbox.apply_results(conn, answer.results)
            self._tally(report, answer)
            reused = [r.device_seq for r in answer.results if r.reason_code == "sequence_reused"]
            if reused:  # the hub holds other ops at these numbers: the next pull says up to where
                self._agreed = min(reused) - 1
            if len(answer.results) < len(ops) or any(r.reason_code in outbox.OUT_OF_STEP for r in answer.results):
                return  # the hub stopped at a gap; sending more now would only repeat it

    def _step_in(self, step: OutOfStep, report: RoundReport) -> None:
        """Get back in step with the hub (edge_app.local.recovery), then push and pull again."""
        report.out_of_step.append(step.reason)
        with self.replica.transaction() as conn:
            if step.reason == "hub_behind_device":
                report.resent += recovery.resend_after(conn, step.last_seq)
            elif step.reason == "device_behind_hub":
                recovery.renumber_after(conn, step.last_seq)
            recovery.start_rebootstrap(conn)
        self._agreed = None

    async def pull(self, report: RoundReport) -> None:
        # Where this device is, so the hub can say when it is not where the hub is.
        with self.replica.transaction() as conn:
            if learned := skipped_but_known_now(conn):  # an older app skipped these: pull them now
                conn.execute("DELETE FROM meta WHERE key = 'skipped_entities'")
                recovery.start_rebootstrap(conn)
                report.out_of_step.append(f"app_learned:{','.join(learned)}")
            numbered = recovery.numbered_seq(conn) if self._agreed is None else self._agreed
            where = {"acked": recovery.acked_seq(conn), "numbered": numbered}
        tag = self.replica.get_meta("cursor_tag")  # the cursor's fingerprint, as the hub gave it
        settled: list[int] = []  # a compacted pull's pages: the state is whole up to the least
        # The next page travels while this one is applied (in a thread: SQLite lets go
        # of the GIL while it writes), so a bootstrap waits on the slower of the two.
        fetching = asyncio.ensure_future(self._page(self.replica.cursor, where, tag))
        try:
            while True:
                page = await fetching
                if page.more:
                    fetching = asyncio.ensure_future(self._page(page.cursor, where, page.tag))
                settled.append(page.cursor if page.settled is None else page.settled)
                page.settled = min(settled) if page.more else page.cursor
                await asyncio.to_thread(self._apply_page, page)
                report.pulled += len(page.changes)
                if not page.more:
                    return
        finally:
            if not fetching.done():
                fetching.cancel()
                await asyncio.gather(fetching, return_exceptions=True)

    async def _page(self, since: int, where: dict[str, int], tag: str | None) -> PullResponse:
        params: dict[str, int | str] = {"since": since, "limit": self.page_size, **where}
        if tag is not None:
            params["tag"] = tag
        raw = await self._call("GET", "/v1/changes", raw=True, params=params)
        return PullResponse.model_validate_json(raw)

    def _apply_page(self, page: PullResponse) -> None:
        settled = page.cursor if page.settled is None else page.settled
        with self.replica.transaction() as conn:
            apply_changes(conn, page.changes)
            if recovery.rebootstrapping(conn):
                recovery.note_seen(conn, page.changes)
                if not page.more:
                    recovery.end_rebootstrap(conn)
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [("cursor", str(page.cursor)), ("settled", str(settled)), ("cursor_tag", page.tag)],
            )
            outbox.settle_effects(conn, settled)
            if page.hlc:
                outbox.observe_hub_clock(conn, page.hlc)

    def _tally(self, report: RoundReport, answer: PushResponse) -> None:
        for r in answer.results:
            report.pushed += 1
            if r.status == OpStatus.APPLIED:
                report.applied += 1
            elif r.status == OpStatus.DUPLICATE:
                report.duplicates += 1
            elif r.reason_code not in outbox.OUT_OF_STEP:  # those stay pending: not an answer about the op
                report.rejected.append({"device_seq": r.device_seq, "reason_code": r.reason_code, "message": r.message})

    async def _call(self, method: str, url: str, raw: bool = False, **kwargs: Any) -> Any:
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise HubUnreachable(f"hub not reachable: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 500:
            # A 503 says why (the hub's disk is full, its writer restarting): shown, sent again later.
            raise HubUnreachable(f"hub answered {response.status_code}: {_detail(response)[:200]}")
        if response.status_code == 409 and (step := _out_of_step(response)) is not None:
            raise step
        if response.status_code >= 400:
            detail = _detail(response)
            raise HubRefused(f"hub refused {method} {url}: {response.status_code} {detail}")
        if raw:
            return response.content
        return response.json() if response.content else None


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text


def _out_of_step(response: httpx.Response) -> OutOfStep | None:
    try:
        body = response.json()
        return OutOfStep(str(body["detail"]), str(body["reason"]), int(body["last_seq"]), int(body["head"]))
    except (ValueError, KeyError, TypeError):
        return None
