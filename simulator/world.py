"""One schedule's world: a hub on its own SQLite file (restartable) and devices
with their own replica files (crashable), joined by the simulated network."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx

from edge_app.agent import SyncAgent
from edge_app.enroll import enroll
from edge_app.errors import EdgeError
from edge_app.local.replica import Replica
from hub.api.app import create_app
from hub.credentials import create_api_token, create_enrollment_code
from hub.seed import seed_demo
from hub.store.db import Database
from simulator.network import Network
from simulator.sites import add_sites

__all__ = ["HubTemplate", "SimHub", "SimDevice", "HUB_URL"]

HUB_URL = "https://hub.sim"  # in-process (ASGI); https, as devices insist on


class SimHub:
    """The hub of one schedule, started from a copy of a seeded template database."""

    def __init__(self, folder: Path, template: "HubTemplate"):
        shutil.copyfile(template.path, folder / "hub.db")
        self.path, self.backup = folder / "hub.db", folder / "hub-backup.db"
        self.restores = 0
        self.decisions_checked = 0  # routing decisions explained so far (simulator.routing_checks)
        self.url = f"sqlite:///{folder / 'hub.db'}"
        self.admin_token = template.admin_token
        self.db = Database(self.url)
        self.app = create_app(self.db)
        self.transport = httpx.ASGITransport(app=self.app)

    def restart(self) -> None:
        """Stop and start the hub process: in-memory state gone, the file stays."""
        self.db.dispose()
        self.db = Database(self.url)
        self.app = create_app(self.db)
        self.transport = httpx.ASGITransport(app=self.app)

    def back_up(self) -> None:
        """Take a backup of the live hub file, as `sqlite3 .backup` (or a nightly job) does."""
        source, target = sqlite3.connect(self.path), sqlite3.connect(self.backup)
        source.backup(target)
        source.close()
        target.close()

    def restore(self) -> None:
        """Stop the hub, put the backup back, start again: what it acknowledged since is gone."""
        self.db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.backup, self.path)
        self.restores += 1
        self.decisions_checked = 0
        self.restart()

    def admin(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=HUB_URL, transport=self.transport,
                                 headers={"Authorization": f"Bearer {self.admin_token}"})

    def close(self) -> None:
        self.db.dispose()


class HubTemplate:
    """A migrated, seeded hub database built once per process: seeding every
    schedule's hub from scratch would cost more than the schedule itself."""

    def __init__(self, folder: Path):
        self.path = folder / "template-hub.db"
        db = Database(f"sqlite:///{self.path}")
        create_app(db)  # migrates
        seed_demo(db)
        with db.write() as conn:
            add_sites(conn)
            self.admin_token = create_api_token(conn, "admin", "simulator")
        db.dispose()
        # Fold the WAL into the main file so a plain file copy holds everything.
        plain = sqlite3.connect(self.path)
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        plain.close()


class SimDevice:
    def __init__(self, name: str, folder: Path, location: str, role: str):
        self.name, self.folder, self.location, self.role = name, folder, location, role
        self.replica: Replica | None = None
        # The hub was restored from a backup since this device's last complete round: until
        # it syncs, ops it holds as answered may be missing at the hub (it sends them again).
        self.behind_restore = False
        # Swapped and revoked: the hub's last op of it then (its log must never grow past it).
        self.revoked_seq: int | None = None
        self.refusals = 0  # syncs the hub refused since
        # Reset (replica restored or app reinstalled): ops up to this number may be at the hub
        # and not on the device (nothing else may); until it syncs it may number over them.
        self.reset_mark: int | None = None
        self.reset_unsynced = False
        self.has_copy = False
        self.ops_before_reset = self.held_after_reset = 0  # so the work done before a reset still counts
        self.agent: SyncAgent | None = None
        self.client: httpx.AsyncClient | None = None

    async def enroll(self, hub: SimHub, network: Network) -> None:
        with hub.db.write() as conn:
            code = create_enrollment_code(conn, self.location, self.role)
        self.replica = Replica(self.folder)
        await enroll(self.replica, HUB_URL, code, self.name, transport=hub.transport)
        self.connect(network)

    def connect(self, network: Network) -> None:
        token = self.replica.get_meta("token")
        self.client = httpx.AsyncClient(base_url=HUB_URL, transport=network.transport(self.name),
                                        headers={"Authorization": f"Bearer {token}"})
        self.agent = SyncAgent(self.replica, self.client, batch_size=7, page_size=50)

    async def bootstrap(self, tries: int) -> bool:
        """A first sync through the faulty network, tried a few times; False if none got through."""
        for _ in range(tries):
            try:
                await self.agent.sync_once()
                return True
            except EdgeError:
                continue
        return False

    async def crash(self, network: Network) -> None:
        """The app dies: nothing in memory survives; the SQLite file does."""
        await self.client.aclose()
        self.replica.close()
        self.replica = Replica(self.folder)
        self.connect(network)

    async def close(self) -> None:
        await self.client.aclose()
        self.replica.close()

    @property
    def device_id(self) -> str:
        return self.replica.get_meta("device_id")
