"""The hub's scheduled jobs: what must happen on the clock, not on an op.

- `rebroker`: parked (`awaiting_stock`) orders are routed again. Stock arriving through
  a receipt, a return or a count re-brokers at once (hub.domain.brokering); this pass
  catches what no op announces: a store opening, capacity freed at midnight, a policy
  change, devices syncing again.
- `sweep-pickups`: ready pickup orders nobody collected by their pickup-by time expire,
  and their units get put-back tasks.

`hub serve` runs them in a process beside the HTTP workers (`--no-jobs` to leave them to
cron: `backroom hub jobs run`). Each job's row in `job_runs` is its lease: the update that
takes it also checks the job is due, so of several hub instances on one PostgreSQL database
one runs it, and a holder that died frees it when its lease runs out. Each pass is a logged
hub command, so `hub verify` replays what the jobs did like anything else."""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from hub.child_process import beside_the_hub
from hub.store.db import Database
from hub.store.tx import Tx

__all__ = ["Job", "JOBS", "every_from_env", "intervals_from_env", "run_due", "run_job", "job_report", "jobs_main", "jobs_process"]

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than any pass takes; a dead holder's lease runs out


def _rebroker(conn: Tx, now: datetime) -> str:
    from hub.routing_actions import rebroker

    if conn.execute("SELECT 1 FROM orders WHERE status = 'awaiting_stock' LIMIT 1").first() is None:
        return "no parked orders"  # nothing to log: a quiet hub's op log is not a clock
    return rebroker(conn, now, actor="job:rebroker")


def _sweep_pickups(conn: Tx, now: datetime) -> str:
    from hub.actions import sweep_pickups

    expired = sweep_pickups(conn, now)
    return f"expired {len(expired)} pickup order{'s' if len(expired) != 1 else ''}" + (
        f": {', '.join(expired[:20])}" if expired else "")


@dataclass(frozen=True)
class Job:
    name: str
    every_env: str  # the environment variable that sets its interval in seconds
    default_every_s: float
    run: Callable[[Tx, datetime], str]
    what: str


JOBS: dict[str, Job] = {job.name: job for job in (
    Job("rebroker", "BACKROOM_REBROKER_EVERY_S", 300.0, _rebroker, "route parked orders again"),
    Job("sweep-pickups", "BACKROOM_PICKUP_SWEEP_EVERY_S", 300.0, _sweep_pickups,
        "expire pickups nobody collected by their pickup-by time"),
)}


def every_from_env(job: Job) -> float:
    """The job's interval: its environment variable, else its default; 0 turns it off."""
    raw = os.environ.get(job.every_env)
    if raw is None:
        return job.default_every_s
    try:
        every = float(raw)
    except ValueError:
        raise ValueError(f"{job.every_env}={raw!r} is not a number of seconds") from None
    if every < 0:
        raise ValueError(f"{job.every_env}={raw!r}: an interval cannot be negative")
    return every


def intervals_from_env() -> dict[str, float]:
    """Every job's interval; raises ValueError naming a bad variable."""
    return {name: every_from_env(job) for name, job in JOBS.items()}


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat()


def _take_lease(db: Database, job: str, holder: str, now: datetime, due_before: datetime | None) -> bool:
    """Take the job's lease if nobody holds it (and, with `due_before`, if it last started
    before then). One statement: two instances cannot both win."""
    with db.write() as conn:
        conn.execute("INSERT INTO job_runs (job, runs, failures) VALUES (:j, 0, 0) ON CONFLICT (job) DO NOTHING",
                     {"j": job})
        due = "" if due_before is None else " AND (last_started_at IS NULL OR last_started_at <= :due)"
        taken = conn.execute(
            "UPDATE job_runs SET lease_holder = :h, lease_until = :until, last_started_at = :now "
            f"WHERE job = :j AND (lease_until IS NULL OR lease_until < :now){due}",
            {"j": job, "h": holder, "until": _iso(now + LEASE), "now": _iso(now),
             "due": _iso(due_before) if due_before else None},
        )
        return taken.rowcount == 1


def _release(db: Database, job: str, result: str | None, error: str | None) -> None:
    with db.write() as conn:
        conn.execute(
            "UPDATE job_runs SET lease_holder = NULL, lease_until = NULL, last_finished_at = :at, "
            "runs = runs + 1, failures = failures + :failed, "
            "last_result = COALESCE(:result, last_result), last_error = :error WHERE job = :j",
            {"j": job, "at": _iso(datetime.now(timezone.utc)), "failed": int(error is not None),
             "result": result, "error": error},
        )


def run_job(db: Database, name: str, now: datetime, holder: str, due_before: datetime | None = None) -> str | None:
    """Run job `name` at `now` if its lease can be taken; its result, or None when another
    holder has it (or it is not due). A failing pass is recorded and raised."""
    job = JOBS[name]
    if not _take_lease(db, name, holder, now, due_before):
        return None
    try:
        with db.write() as conn:
            result = job.run(conn, now)
    except Exception as exc:
        _release(db, name, None, f"{type(exc).__name__}: {exc}"[:500])
        raise
    _release(db, name, result, None)
    return result


def run_due(db: Database, intervals: dict[str, float], holder: str, started: datetime,
            now: datetime | None = None) -> dict[str, str]:
    """Run every job whose interval has passed since it last started (or since `started`,
    the scheduler's start, for a job that never ran: a hub restarted often still runs it,
    a test's fresh hub is not swept the moment it starts). A failing job is logged, and
    the others still run."""
    now = now or datetime.now(timezone.utc)
    done = {}
    for name, every in intervals.items():
        if every <= 0 or now - started < timedelta(seconds=every):
            continue
        try:
            result = run_job(db, name, now, holder, due_before=now - timedelta(seconds=every))
        except Exception as exc:  # noqa: BLE001 - recorded in job_runs; the next tick tries again
            log.warning("job %s failed: %s", name, exc)
            continue
        if result is not None:
            log.info("job %s: %s", name, result)
            done[name] = result
    return done


def job_report(conn: Tx) -> list[dict[str, Any]]:
    """Each job with its interval and its last run, for `hub jobs list` and the console."""
    rows = {r["job"]: r for r in conn.execute("SELECT * FROM job_runs").mappings()}
    report = []
    for name, job in JOBS.items():
        row = rows.get(name, {})
        report.append({"job": name, "what": job.what, "every_s": every_from_env(job), "env": job.every_env,
                       **{k: row.get(k) for k in ("last_started_at", "last_finished_at", "last_result",
                                                  "last_error", "lease_holder", "lease_until")},
                       "runs": row.get("runs", 0), "failures": row.get("failures", 0)})
    return report


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def jobs_main(db_url: str, intervals: dict[str, float], tick_s: float = 5.0) -> None:
    """The jobs process's body: look for due jobs every `tick_s` until SIGTERM or SIGINT."""
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s jobs %(levelname)s %(message)s")
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    db, holder, started = Database(db_url), holder_name(), datetime.now(timezone.utc)
    try:
        while not stopping:
            run_due(db, intervals, holder, started)
            deadline = time.monotonic() + tick_s
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        db.dispose()


def jobs_process(db_url: str,
                 intervals: dict[str, float]) -> AbstractContextManager[multiprocessing.process.BaseProcess]:
    """The scheduled jobs in a process of their own beside `hub serve`."""
    return beside_the_hub(jobs_main, (db_url, intervals), "backroom-hub-jobs")
