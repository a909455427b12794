"""The print queue against a fake raw-TCP printer on 127.0.0.1: offline, restarts, retries, order."""

import socket
import socketserver
import threading
import time

import pytest

from devices.errors import PrinterUnreachable, PrintJobNotFound
from devices.gs1 import make_sscc
from devices.labels import carton_label
from devices.printing import Backoff, PrintQueue, PrintSpooler, RawTcpPrinter
from devices.zpl import to_zpl


class FakePrinter:
    """A raw 9100-style printer: records each connection's bytes until the sender closes."""

    def __init__(self, port=0):
        self.received: list[bytes] = []
        received = self.received

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                chunks = []
                while data := self.request.recv(65536):
                    chunks.append(data)
                received.append(b"".join(chunks))

        socketserver.TCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.address = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received


def free_port():
    """A port nothing listens on (yet): connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Clock:
    """A settable clock so backoff is tested without sleeping."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def printer():
    fake = FakePrinter()
    yield fake
    fake.stop()


@pytest.fixture
def zpl():
    return to_zpl(carton_label(make_sscc(0, "0614141", 1234), "SO-1", 1, 1))


def test_raw_tcp_printer_delivers_exactly_the_bytes_sent(printer, zpl):
    RawTcpPrinter.from_address(printer.address).send(zpl.encode())
    assert printer.wait_for(1) == [zpl.encode()]


def test_raw_tcp_printer_that_is_off_raises_printer_unreachable():
    with pytest.raises(PrinterUnreachable, match="did not take the job"):
        RawTcpPrinter("127.0.0.1", free_port(), timeout=1).send(b"^XA^XZ")


def test_a_queued_job_is_printed_and_marked_printed(tmp_path, printer, zpl):
    queue = PrintQueue(tmp_path / "print.db")
    job_id = queue.submit(printer.address, zpl, description="carton 1/1")
    (job,) = queue.deliver_due()
    assert job.id == job_id and job.status == "printed" and job.attempts == 1
    assert printer.wait_for(1) == [zpl.encode()] and queue.pending() == []


def test_a_job_for_a_printer_that_is_down_is_delivered_after_it_comes_up(tmp_path, zpl):
    port, clock = free_port(), Clock()
    queue = PrintQueue(tmp_path / "print.db", clock=clock, backoff=Backoff(base=2, factor=2, maximum=60))
    job_id = queue.submit(f"127.0.0.1:{port}", zpl)

    (failed,) = queue.deliver_due()
    assert failed.status == "queued" and failed.attempts == 1 and "did not take" in failed.last_error
    assert failed.next_attempt_at == clock.now + 2
    clock.now += 1
    assert queue.deliver_due() == []  # still backing off: no attempt
    clock.now += 1
    (again,) = queue.deliver_due()
    assert again.attempts == 2 and again.next_attempt_at == clock.now + 4

    fake = FakePrinter(port)
    try:
        clock.now += 4
        (printed,) = queue.deliver_due()
        assert printed.id == job_id and printed.status == "printed" and printed.attempts == 3
        assert fake.wait_for(1) == [zpl.encode()]
    finally:
        fake.stop()


def test_queued_jobs_survive_reopening_the_queue_and_are_then_printed(tmp_path, zpl):
    port = free_port()
    path = tmp_path / "print.db"
    first = PrintQueue(path, backoff=Backoff(base=0.0))
    ids = [first.submit(f"127.0.0.1:{port}", f"{zpl}#{n}") for n in range(3)]
    first.deliver_due()
    del first  # the app stops while the printer is off

    fake = FakePrinter(port)
    try:
        reopened = PrintQueue(path, backoff=Backoff(base=0.0))
        assert [j.id for j in reopened.pending()] == ids
        reopened.deliver_due()
        assert fake.wait_for(3) == [f"{zpl}#{n}".encode() for n in range(3)]
        assert reopened.pending() == []
    finally:
        fake.stop()


def test_after_a_failure_newer_jobs_for_that_printer_wait_but_other_printers_print(tmp_path, printer):
    dead = f"127.0.0.1:{free_port()}"
    queue = PrintQueue(tmp_path / "print.db", clock=Clock())
    first = queue.submit(dead, "A")
    second = queue.submit(dead, "B")
    elsewhere = queue.submit(printer.address, "C")
    results = {job.id: job for job in queue.deliver_due()}
    assert results[first].attempts == 1 and second not in results
    assert results[elsewhere].status == "printed" and printer.wait_for(1) == [b"C"]
    assert queue.job(second).attempts == 0


def test_the_spooler_thread_prints_jobs_as_they_are_submitted(tmp_path, printer):
    queue = PrintQueue(tmp_path / "print.db")
    spooler = PrintSpooler(queue, idle_poll=0.05)
    spooler.start()
    try:
        for n in range(5):
            queue.submit(printer.address, f"label {n}")
            spooler.wake()
        assert printer.wait_for(5) == [f"label {n}".encode() for n in range(5)]
    finally:
        spooler.stop()


def test_the_spooler_retries_until_a_late_printer_answers(tmp_path):
    port = free_port()
    queue = PrintQueue(tmp_path / "print.db", backoff=Backoff(base=0.05, maximum=0.1))
    spooler = PrintSpooler(queue, idle_poll=0.05)
    spooler.start()
    try:
        job_id = queue.submit(f"127.0.0.1:{port}", "late")
        deadline = time.monotonic() + 5
        while queue.job(job_id).attempts < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # let it fail and retry at least once while the printer is off
        fake = FakePrinter(port)
        try:
            assert fake.wait_for(1) == [b"late"]
        finally:
            fake.stop()
        deadline = time.monotonic() + 5
        while queue.job(job_id).status != "printed" and time.monotonic() < deadline:
            time.sleep(0.02)  # the spooler records "printed" just after the printer has the bytes
        assert queue.job(job_id).attempts >= 3 and queue.job(job_id).status == "printed"
    finally:
        spooler.stop()


def test_a_cancelled_job_is_not_printed_and_an_unknown_job_is_an_error(tmp_path, printer):
    queue = PrintQueue(tmp_path / "print.db")
    job_id = queue.submit(printer.address, "never")
    queue.cancel(job_id)
    assert queue.deliver_due() == [] and queue.job(job_id).status == "cancelled"
    with pytest.raises(PrintJobNotFound):
        queue.cancel(999)


def test_the_queue_file_records_its_migration_once_however_often_it_is_opened(tmp_path):
    import sqlite3

    path = tmp_path / "print.db"
    for _ in range(3):
        PrintQueue(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM _migrations").fetchall() == [("0001_print_jobs",)]
