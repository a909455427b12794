"""A small TCP proxy on 127.0.0.1 that stands between real devices and the real hub
and misbehaves on purpose: it drops requests, drops or cuts responses after the hub
has acted on the request, replays a request to the hub, delays, and partitions.

It speaks just enough HTTP/1.1 to see request boundaries: it reads one request
(headers + Content-Length body), rewrites it to `Connection: close`, sends it over
a fresh upstream connection and reads the response to EOF. One request per client
connection keeps the proxy simple and every fault aimed at exactly one request;
httpx sees `Connection: close` and opens a new connection for the next one.

    proxy = ChaosProxy(hub_port, seed=7).start()
    proxy.set_faults(Faults(drop_response=0.2, duplicate=0.2))
    proxy.partition("refuse"); …; proxy.heal()
    proxy.stop(); print(proxy.fired)

Given several hub ports (`ChaosProxy([port_a, port_b], seed=7)`) it is also the load
balancer in front of hub instances on one database: each request goes to one drawn
at random, and to the next if that one refuses the connection (it is down).

Faults are drawn from `random.Random(seed)`; threads interleave as the OS likes,
so the seed reproduces the fault mix and its order, not the exact schedule.
`requests_from(authorization)` counts the requests a caller got through to the
proxy, so a test can crash a device in the middle of its traffic."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields

__all__ = ["ChaosProxy", "Faults", "PARTITION_MODES"]

PARTITION_MODES = ("refuse", "blackhole")
_MAX_HEADER = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024
_IO_TIMEOUT = 20.0  # longer than the edge's 10 s client timeout, bounded all the same


@dataclass(frozen=True)
class Faults:
    """Per-request probabilities; at most one fault hits a request."""

    drop_request: float = 0.0  # close before forwarding: the hub never sees it
    drop_response: float = 0.0  # forward, read the hub's answer, close without it
    cut_response: float = 0.0  # forward, send half the answer, close
    duplicate: float = 0.0  # forward twice; the client gets one of the two answers
    delay: float = 0.0  # sleep up to `max_delay` before forwarding
    max_delay: float = 0.4

    def choose(self, rng: random.Random) -> str | None:
        roll = rng.random()
        for f in fields(self):
            if f.name == "max_delay":
                continue
            roll -= getattr(self, f.name)
            if roll < 0:
                return f.name
        return None


class ChaosProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`upstream_port`, with faults.
    `fired` counts what happened to requests (`passed` included)."""

    def __init__(self, upstream_port: int | Sequence[int], seed: int, blackhole_hold: float = 2.0):
        self.upstream_ports = [upstream_port] if isinstance(upstream_port, int) else list(upstream_port)
        self.upstream_port = self.upstream_ports[0]
        self._balance = random.Random(seed ^ 0xBA1A)  # its own, so one upstream leaves the fault draws as they were
        self.seed = seed
        self.blackhole_hold = blackhole_hold
        self.fired: Counter[str] = Counter()
        self._callers: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._faults = Faults()
        self._partition: str | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- control -----------------------------------------------------------------------
    def start(self) -> "ChaosProxy":
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
        if self._listener is not None:
            self._listener.close()

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults

    def partition(self, mode: str) -> None:
        """`refuse`: close every new connection at once; `blackhole`: hold it silently
        (up to `blackhole_hold` s), as a dead uplink would."""
        assert mode in PARTITION_MODES, mode
        with self._lock:
            self._partition = mode

    def requests_from(self, authorization: str) -> int:
        """How many whole requests carrying this Authorization header the proxy has read."""
        with self._lock:
            return self._callers[authorization]

    def heal(self) -> None:
        """No faults, no partition: every request goes through untouched."""
        with self._lock:
            self._faults = Faults()
            self._partition = None

    # -- inside ------------------------------------------------------------------------
    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _addr = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._spawn(self._serve, client)

    def _count(self, what: str) -> None:
        with self._lock:
            self.fired[what] += 1

    def _draw(self) -> tuple[str | None, float, bool]:
        with self._lock:
            fault = self._faults.choose(self._rng)
            return fault, self._rng.uniform(0, self._faults.max_delay), self._rng.random() < 0.5

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(_IO_TIMEOUT)
            with self._lock:
                partition = self._partition
            if partition == "refuse":
                self._count("partition_refused")
                return
            if partition == "blackhole":
                self._count("partition_blackholed")
                self._hold()
                return
            try:
                request = _read_request(client)
            except (OSError, ValueError):
                self._count("bad_request")
                return
            if request is None:
                return  # the client gave up before sending anything
            with self._lock:
                self._callers[_header(request, b"authorization")] += 1
            self._forward_with_fault(client, request)

    def _hold(self) -> None:
        deadline = time.monotonic() + self.blackhole_hold
        while time.monotonic() < deadline and not self._stopping.is_set():
            with self._lock:
                if self._partition != "blackhole":
                    return
            time.sleep(0.05)

    def _forward_with_fault(self, client: socket.socket, request: bytes) -> None:
        fault, delay, second_answer = self._draw()
        if fault == "drop_request":
            self._count(fault)
            return
        if fault == "delay":
            time.sleep(delay)
        response = self._upstream(request)
        if response is None:
            self._count("hub_unreachable")
            return
        if fault == "duplicate":
            again = self._upstream(request)
            if second_answer and again is not None:
                response = again  # the client gets the answer to the replay
        if fault == "drop_response":
            self._count(fault)
            return
        if fault == "cut_response":
            self._count(fault)
            _send(client, response[: len(response) // 2])
            return
        self._count(fault or "passed")
        _send(client, response)

    def _upstream(self, request: bytes) -> bytes | None:
        """The hub's whole answer to `request`, or None if the hub did not give one."""
        try:
            with self._connect_upstream() as up:
                up.sendall(request)
                chunks, size = [], 0
                while chunk := up.recv(65536):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > _MAX_BODY:
                        return None
        except OSError:
            return None
        response = b"".join(chunks)
        return response if response.startswith(b"HTTP/") and b"\r\n\r\n" in response else None

    def _connect_upstream(self) -> socket.socket:
        """A connection to one upstream, drawn at random; the next if it refuses."""
        ports = list(self.upstream_ports)
        if len(ports) > 1:
            with self._lock:
                start = self._balance.randrange(len(ports))
            ports = ports[start:] + ports[:start]
        for port in ports[:-1]:
            try:
                return socket.create_connection(("127.0.0.1", port), timeout=_IO_TIMEOUT)
            except OSError:
                continue
        return socket.create_connection(("127.0.0.1", ports[-1]), timeout=_IO_TIMEOUT)


def _send(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:
        pass  # the client went away; that is its business


def _header(request: bytes, name: bytes) -> str:
    for line in request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return ""


def _read_request(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 request, rewritten to `Connection: close`; None on a clean EOF.
    Raises ValueError for what this proxy does not speak (chunked bodies)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None if not buf else _raise("connection closed inside the request head")
        buf += chunk
        if len(buf) > _MAX_HEADER:
            _raise("request head too large")
    head, body = buf.split(b"\r\n\r\n", 1)
    request_line, *header_lines = head.split(b"\r\n")
    kept, length = [], 0
    for line in header_lines:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"transfer-encoding":
            _raise("chunked request bodies are not supported")
        if key == b"content-length":
            length = int(value.strip())
            if length > _MAX_BODY:
                _raise("request body too large")
        if key in (b"connection", b"keep-alive"):
            continue
        kept.append(line)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            _raise("connection closed inside the request body")
        body += chunk
    return b"\r\n".join([request_line, *kept, b"Connection: close"]) + b"\r\n\r\n" + body[:length]


def _raise(message: str):
    raise ValueError(message)
