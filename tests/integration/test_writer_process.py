"""hub.api.writer: pushes handed to a writer process are applied exactly once and
answered as in-process pushes are; a gone writer is a 503 the device retries,
and the writer does not outlive the hub that started it."""

from __future__ import annotations

import glob
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import httpx
import pytest

from hub.api.app import create_app
from hub.api.writer import sweep_stale_folders, writer_process
from hub.store.db import Database
from tests.integration.conftest import HUB_URL
from tests.integration.test_hub_api import count, pick_op
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


@pytest.fixture
def worker(hub):
    """An HTTP worker's app over the hub's database, pushing through a writer process."""
    with writer_process(hub.db.url) as socket_path:
        db = Database(hub.db.url)
        yield create_app(db, run_migrations=False, writer=socket_path), socket_path
        db.dispose()


def _client(app, device) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=HUB_URL, transport=httpx.ASGITransport(app=app),
                             headers={"Authorization": f"Bearer {device.replica.get_meta('token')}"})


async def test_a_push_through_the_writer_process_is_applied_once_and_a_resend_is_a_duplicate(hub, worker, tmp_path):
    app, _socket = worker
    order = await post_order(hub, order_body("W-1", [("MILK-1L", 2)]))
    device = await hub.device(tmp_path / "d")
    ops = [pick_op(device.replica.get_meta("device_id"), seq, order) for seq in (1, 2)]
    async with _client(app, device) as client:
        first = (await client.post("/v1/ops", json={"ops": ops})).json()["results"]
        again = (await client.post("/v1/ops", json={"ops": ops})).json()["results"]
    assert [r["status"] for r in first] == ["applied", "applied"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["change_seq"] for r in again] == [r["change_seq"] for r in first] != [0, 0]
    assert await count(hub, f"movements WHERE order_id = '{order['id']}'") == 2


async def test_bad_push_bodies_are_refused_by_the_http_worker_before_the_writer_sees_them(hub, worker, tmp_path):
    app, _socket = worker
    device = await hub.device(tmp_path / "d")
    async with _client(app, device) as client:
        response = await client.post("/v1/ops", json={"ops": [{"op_id": "x"}]})
    assert response.status_code == 422 and "ops.0.op_id" in response.json()["detail"]


async def test_the_push_lane_refuses_as_the_route_does_and_leaves_other_calls_to_the_app(hub, worker, tmp_path):
    # hub.api.push_lane answers pushes past FastAPI; its refusals must read as the route's
    app, _socket = worker
    order = await post_order(hub, order_body("W-3", [("MILK-1L", 1)]))
    device = await hub.device(tmp_path / "d")
    other = await hub.device(tmp_path / "e")
    async with _client(app, device) as client:
        stranger = await client.post("/v1/ops", json={"ops": []}, headers={"Authorization": "Bearer nope"})
        not_mine = await client.post("/v1/ops", json={"ops": [pick_op(other.replica.get_meta("device_id"), 1, order)]})
        huge = await client.post("/v1/ops", content=b'{"ops": [' + b" " * (9 * 1024 * 1024) + b"]}")
        empty = await client.post("/v1/ops", json={"ops": []})
        pulled = await client.get("/v1/changes", params={"since": 0, "limit": 1})
    assert stranger.status_code == 401 and stranger.json()["detail"]
    assert not_mine.status_code == 403 and "ops[0].device_id" in not_mine.json()["detail"]
    assert huge.status_code == 413 and "smaller batches" in huge.json()["detail"]
    assert empty.status_code == 200 and empty.json() == {"results": []}
    assert pulled.status_code == 200 and len(pulled.json()["changes"]) == 1
    assert await count(hub, "op_log WHERE device_id <> 'hub'") == 0


async def test_a_push_while_the_writer_is_gone_is_a_503_and_nothing_is_written(hub, tmp_path):
    order = await post_order(hub, order_body("W-2", [("MILK-1L", 1)]))
    device = await hub.device(tmp_path / "d")
    with writer_process(hub.db.url) as socket_path:
        db = Database(hub.db.url)
        app = create_app(db, run_migrations=False, writer=socket_path)
    async with _client(app, device) as client:  # the writer has been stopped
        response = await client.post("/v1/ops", json={"ops": [pick_op(device.replica.get_meta("device_id"), 1, order)]})
    db.dispose()
    assert response.status_code == 503 and "writer" in response.json()["detail"]
    assert await count(hub, "op_log WHERE device_id <> 'hub'") == 0


def test_the_writer_process_ends_when_the_hub_that_started_it_is_killed(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    script = (
        "import multiprocessing, sys, time\n"
        "from hub.cli import open_db\n"
        "from hub.api.writer import writer_process\n"
        f"open_db({url!r}).dispose()\n"
        f"with writer_process({url!r}) as socket_path:\n"
        "    print(multiprocessing.active_children()[0].pid, socket_path, flush=True)\n"
        "    time.sleep(60)\n"
    )
    hub = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    pid, socket_path = hub.stdout.readline().split()
    writer_pid = int(pid)
    os.kill(hub.pid, signal.SIGKILL)
    hub.wait(10)
    deadline = time.monotonic() + 10
    while _alive(writer_pid):
        assert time.monotonic() < deadline, "the writer process outlived the hub by 10 s"
        time.sleep(0.1)
    assert not os.path.exists(os.path.dirname(socket_path)), "the writer left its socket folder behind"


def test_sigterm_to_the_whole_hub_leaves_no_writer_socket_behind(tmp_path):
    # systemd stops a service with SIGTERM to every process of it; uvicorn then ends the
    # hub by re-raising the signal, before the hub's own clean-up runs
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "backroom-writer-*")))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hub = subprocess.Popen([sys.executable, "-m", "backroom_cli", "hub", "serve", "--db", f"sqlite:///{tmp_path / 'hub.db'}",
                            "--port", str(port)], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline and hub.poll() is None, "the hub did not come up"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        started = set(glob.glob(os.path.join(tempfile.gettempdir(), "backroom-writer-*"))) - before
        assert len(started) == 1
        folder = started.pop()
        os.killpg(hub.pid, signal.SIGTERM)
        hub.wait(20)
        deadline = time.monotonic() + 10
        while os.path.exists(folder):
            assert time.monotonic() < deadline, "the writer's socket folder outlived the hub by 10 s"
            time.sleep(0.1)
    finally:
        if hub.poll() is None:
            os.killpg(hub.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_new_writer_sweeps_away_the_folders_of_writers_that_are_gone(tmp_path):
    # A hub killed outright with its writer never cleans up: its socket stays, with nothing listening.
    gone = tmp_path / "backroom-writer-gone"
    gone.mkdir()
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(gone / "writer.sock"))
    live = tmp_path / "backroom-writer-live"
    live.mkdir()
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(live / "writer.sock"))
    listening.listen()
    starting = tmp_path / "backroom-writer-starting"  # no socket yet, just made
    starting.mkdir()
    abandoned = tmp_path / "backroom-writer-abandoned"  # no socket, made long ago
    abandoned.mkdir()
    os.utime(abandoned, (time.time() - 3600, time.time() - 3600))
    other = tmp_path / "not-a-writer"
    other.mkdir()
    try:
        removed = sweep_stale_folders(str(tmp_path))
    finally:
        listening.close()
    assert sorted(removed) == sorted([str(gone), str(abandoned)])
    assert live.exists() and starting.exists() and other.exists()


async def test_the_writer_process_refuses_hub_commands_and_poison_ops_and_goes_on(hub, worker, tmp_path):
    """Authority and bounds hold on the writer process's path too (issue 17)."""
    app, _socket = worker
    order = await post_order(hub, order_body("W-9", [("MILK-1L", 2)]))
    device = await hub.device(tmp_path / "d")
    device_id = device.replica.get_meta("device_id")
    forged = pick_op(device_id, 1, order, kind="stock.received",
                     payload={"location": "DEMO-1", "bin": "A-01-1", "sku": "MILK-1L", "qty": 500})
    huge = pick_op(device_id, 2, order, qty=2**63)
    ops = [forged, huge, pick_op(device_id, 3, order)]
    async with _client(app, device) as client:
        results = (await client.post("/v1/ops", json={"ops": ops})).json()["results"]
    assert [r["reason_code"] for r in results] == ["hub_only", "malformed_payload", None]
    assert results[2]["status"] == "applied"
