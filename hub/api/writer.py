"""The writer process: pushed ops applied in a process of their own.

In one process the HTTP event loop and the group-commit writer share one GIL:
under 500 pushing devices the writer spent a third of its time waiting for it
(`/proc/…/schedstat`), and every push waits for the writer. `backroom hub serve`
therefore starts this process before its HTTP workers; they check each push
(token, body, device) and hand its raw body over a Unix socket; here it is
applied with `hub.api.push.push` under the same group commit (on SQLite written in this
process's one thread between turns of its event loop: `writes_on_loop`), and the
answer goes back as the JSON the device receives. Nothing else moves here: reads and the
other (rare) writes stay in the HTTP workers, behind the database's write lock.

A frame is two big-endian lengths, a JSON header, then the body:
request  {"id": 7, "device": [id, name, location, role]} + push body
answer   {"id": 7, "status": 200} + PushResponse JSON, or status 500 + why."""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import os
import signal
import socket
import struct
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator

from hub.api.push import push
from hub.credentials import Device
from hub.errors import HubError, StorageFull
from hub.store.db import Database
from sync.models import PushRequest, PushResponse

__all__ = ["SOCKET_ENV", "WriterClient", "WriterUnavailable", "writer_process", "run_writer", "writes_on_loop"]

SOCKET_ENV = "BACKROOM_HUB_WRITER"
_LENGTHS = struct.Struct(">II")
_PARENT_CHECK_S = 0.5


class WriterUnavailable(HubError):
    """The writer process is not answering (restarting, or gone): the device retries."""

    status = 503


def _frame(header: dict, body: bytes) -> bytes:
    head = json.dumps(header).encode()
    return _LENGTHS.pack(len(head), len(body)) + head + body


async def _read_frame(reader: asyncio.StreamReader) -> tuple[dict, bytes]:
    head_len, body_len = _LENGTHS.unpack(await reader.readexactly(_LENGTHS.size))
    head = await reader.readexactly(head_len)
    return json.loads(head), await reader.readexactly(body_len)


# The process side ------------------------------------------------------------

def run_writer(db_url: str, socket_path: str, parent_pid: int) -> None:
    """The writer process's entry point: serve until the hub that started it is gone."""
    asyncio.run(_serve(db_url, socket_path, parent_pid))


async def _serve(db_url: str, socket_path: str, parent_pid: int) -> None:
    db = Database(db_url)
    if writes_on_loop(db):
        db.group_commit.write_on_loop(asyncio.get_running_loop())
    running: set[asyncio.Task] = set()
    server = await asyncio.start_unix_server(lambda r, w: _session(db, r, w, running), path=socket_path)
    os.chmod(socket_path, 0o600)
    gc.freeze()  # as hub.api.asgi does: the long-lived objects are out of the collector's reach
    # A service manager stops the hub by sending SIGTERM to all its processes at once
    # (systemd's default), and uvicorn then ends the hub by that same signal before its
    # clean-up runs: so the writer stops on SIGTERM as on its hub's end, finishing what
    # is queued and removing its socket.
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)  # Unix, as the socket is
    try:
        # Gone with the hub: a killed parent leaves this process to init, and it must not linger.
        while os.getppid() == parent_pid and not stopping.is_set():
            try:
                await asyncio.wait_for(stopping.wait(), _PARENT_CHECK_S)
            except asyncio.TimeoutError:
                pass
    finally:
        server.close()
        db.dispose()
        _remove_socket(socket_path)


def writes_on_loop(db: Database) -> bool:
    """Whether this process writes its groups on its event loop's thread (SQLite) or
    in a writer thread beside it (PostgreSQL).

    On SQLite a group is CPU from start to commit: a writer thread and the loop took
    turns on one GIL, and the writer waited for it. On PostgreSQL a group spends about
    half its time waiting on the server's answers, with the GIL free: on the loop,
    nothing was read or answered meanwhile, and the writer process and PostgreSQL took
    turns. The thread's latencies are lower there (docs/benchmarks.md)."""
    return db.is_sqlite


def _remove_socket(socket_path: str) -> None:
    # By the hub when it stops its writer, and by the writer itself when it outlives a
    # hub killed outright (which never got to clean up).
    for leftover, remove in ((socket_path, os.remove), (os.path.dirname(socket_path), os.rmdir)):
        try:
            remove(leftover)
        except OSError:
            pass


async def _session(db: Database, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   running: set[asyncio.Task]) -> None:
    """One HTTP worker's connection: its pushes are answered as they commit, in any order."""
    try:
        while True:
            header, body = await _read_frame(reader)
            task = asyncio.create_task(_answer(db, header, body, writer))
            running.add(task)
            task.add_done_callback(running.discard)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def _answer(db: Database, header: dict, body: bytes, writer: asyncio.StreamWriter) -> None:
    try:
        results = await push(db, Device(*header["device"]), PushRequest.model_validate_json(body).ops)
        status, answer = 200, PushResponse(results=results).model_dump_json().encode()
    except StorageFull as exc:  # the worker answers it as the hub does in-process: 503, retry later
        status, answer = exc.status, str(exc).encode()
    except Exception as exc:  # noqa: BLE001 - the worker turns it into a 500 for this push alone
        status, answer = 500, f"{exc.__class__.__name__}: {exc}".encode()
    if not writer.is_closing():
        writer.write(_frame({"id": header["id"], "status": status}, answer))


_FOLDER_PREFIX = "backroom-writer-"
_SOCKET_NAME = "writer.sock"
# A folder without a socket yet is a writer starting up, unless it is older than this.
_STARTING_S = 300.0


def sweep_stale_folders(parent: str | None = None) -> list[str]:
    """Remove the socket folders of writers that are gone; returns what was removed.

    A hub killed outright with its writer (SIGKILL to the whole service, the OOM
    killer) never cleans up, and each start made a new folder in /tmp. A folder is
    stale when its socket refuses a connection (nothing listens on it any more), or
    when it has had no socket for `_STARTING_S`. Live writers' folders are left alone."""
    parent = parent or tempfile.gettempdir()
    removed = []
    for name in os.listdir(parent):
        folder = os.path.join(parent, name)
        if name.startswith(_FOLDER_PREFIX) and os.path.isdir(folder) and _is_stale(folder):
            _remove_socket(os.path.join(folder, _SOCKET_NAME))
            if not os.path.exists(folder):
                removed.append(folder)
    return removed


def _is_stale(folder: str) -> bool:
    path = os.path.join(folder, _SOCKET_NAME)
    try:
        if not os.path.exists(path):
            return time.time() - os.stat(folder).st_mtime > _STARTING_S
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1)
            probe.connect(path)
        return False
    except (ConnectionRefusedError, FileNotFoundError):
        return True
    except OSError:  # another user's folder, a full backlog: not ours to judge
        return False


@contextmanager
def writer_process(db_url: str, start_timeout: float = 60.0) -> Iterator[str]:
    """Start the writer process; yields the socket path the HTTP workers use."""
    sweep_stale_folders()
    folder = tempfile.mkdtemp(prefix=_FOLDER_PREFIX)
    path = os.path.join(folder, _SOCKET_NAME)
    child = multiprocessing.get_context("spawn").Process(
        target=run_writer, args=(db_url, path, os.getpid()), name="backroom-hub-writer", daemon=True)
    child.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not os.path.exists(path):
            if not child.is_alive():
                raise RuntimeError(f"the hub's writer process exited with {child.exitcode} before it was ready")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the hub's writer process was not ready in {start_timeout:.0f} s")
            time.sleep(0.02)
        yield path
    finally:
        child.terminate()
        child.join(10)
        _remove_socket(path)


# The HTTP worker side -----------------------------------------------------------

class WriterClient:
    """An HTTP worker's connection to the writer process, made on first use."""

    def __init__(self, socket_path: str):
        self.socket_path = socket_path
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._connecting: asyncio.Lock | None = None

    async def push(self, device: Device, body: bytes) -> bytes:
        """The PushResponse JSON for a checked push body; raises WriterUnavailable."""
        writer = await self._connected()
        self._next_id += 1
        answer = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = answer
        writer.write(_frame({"id": self._next_id, "device": [device.id, device.name, device.location, device.role]}, body))
        status, payload = await answer
        if status == StorageFull.status:
            raise StorageFull(payload.decode(errors="replace"))
        if status != 200:
            raise HubError(f"the push could not be applied: {payload.decode(errors='replace')}")
        return payload

    async def _connected(self) -> asyncio.StreamWriter:
        if self._writer is not None and not self._writer.is_closing():
            return self._writer
        self._connecting = self._connecting or asyncio.Lock()
        async with self._connecting:
            if self._writer is None or self._writer.is_closing():
                try:
                    reader, self._writer = await asyncio.open_unix_connection(self.socket_path)
                except OSError as exc:
                    raise WriterUnavailable(f"the hub's writer is not reachable: {exc}") from exc
                asyncio.get_running_loop().create_task(self._read_answers(reader, self._writer))
        return self._writer

    async def _read_answers(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header, payload = await _read_frame(reader)
                answer = self._pending.pop(header["id"], None)
                if answer is not None and not answer.done():
                    answer.set_result((header["status"], payload))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:  # the writer went away: every push still waiting fails, and is sent again by its device
            writer.close()
            if self._writer is writer:
                self._writer = None
            waiting, self._pending = self._pending, {}
            for answer in waiting.values():
                if not answer.done():
                    answer.set_exception(WriterUnavailable("the hub's writer went away before answering"))
