"""An in-process hub (httpx.ASGITransport) seeded with the demo store, and
enrolled devices that talk to it."""

from __future__ import annotations

import httpx
import pytest

from edge_app.agent import SyncAgent, hub_client
from edge_app.enroll import enroll
from edge_app.local.replica import Replica
from hub.api.app import create_app
from hub.credentials import create_api_token, create_enrollment_code
from hub.seed import DEMO_LOCATION, seed_demo
from hub.store.db import Database

HUB_URL = "https://hub.test"  # in-process (ASGI); https, as devices insist on


class Hub:
    """The hub app, its database, an admin client and a way to enroll devices."""

    def __init__(self, db: Database):
        self.db = db
        self.app = create_app(db)
        self.transport = httpx.ASGITransport(app=self.app)
        with db.write() as conn:
            self.admin_token = create_api_token(conn, "admin", "tests")

    def admin(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=HUB_URL, transport=self.transport, headers={"Authorization": f"Bearer {self.admin_token}"}
        )

    def code(self, location: str = DEMO_LOCATION, role: str = "picker") -> str:
        with self.db.write() as conn:
            return create_enrollment_code(conn, location, role)

    async def device(self, data_dir, location: str = DEMO_LOCATION, name: str = "handheld", role: str = "picker") -> "Device":
        replica = Replica(data_dir)
        await enroll(replica, HUB_URL, self.code(location, role), name, transport=self.transport)
        return Device(replica, SyncAgent(replica, hub_client(replica, transport=self.transport)))


class Device:
    def __init__(self, replica: Replica, agent: SyncAgent):
        self.replica = replica
        self.agent = agent

    async def sync(self):
        return await self.agent.sync_once()


@pytest.fixture
def hub(hub_db_url):
    db = Database(hub_db_url)
    the_hub = Hub(db)
    seed_demo(db)
    yield the_hub
    db.dispose()
