"""`backroom hub jobs list|run`: the scheduled jobs (hub.jobs) seen and run by hand, or
from cron when `hub serve --no-jobs` leaves them out."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import click

__all__ = ["add_jobs_commands"]


def add_jobs_commands(hub: click.Group, db_option: Any, open_db: Any, hub_call: Any) -> None:
    @hub.group()
    def jobs() -> None:
        """Scheduled jobs: re-brokering parked orders, expiring uncollected pickups."""

    @jobs.command("list")
    @db_option
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def list_jobs(db_url: str, as_json: bool) -> None:
        """Each job, its interval, and when it last ran with what result."""
        from hub.jobs import job_report

        try:
            with open_db(db_url).read() as conn:
                report = job_report(conn)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        if as_json:
            click.echo(json.dumps(report, indent=2))
            return
        for row in report:
            every = "off" if row["every_s"] <= 0 else f"every {row['every_s']:g} s"
            last = row["last_finished_at"] or "never"
            click.echo(f"{row['job']:<14} {every:<14} last {last}  runs {row['runs']}, failed {row['failures']}")
            click.echo(f"{'':<14} {row['what']} ({row['env']})")
            if row["last_result"]:
                click.echo(f"{'':<14} result: {row['last_result']}")
            if row["last_error"]:
                click.echo(f"{'':<14} LAST RUN FAILED: {row['last_error']}")

    @jobs.command("run")
    @db_option
    @click.argument("names", nargs=-1)
    def run_jobs(db_url: str, names: tuple[str, ...]) -> None:
        """Run the named jobs now (all when none is named), whether due or not. A job
        another hub instance is running is skipped with a note."""
        from hub.jobs import JOBS, holder_name, run_job

        unknown = [n for n in names if n not in JOBS]
        if unknown:
            raise click.BadParameter(f"no job {', '.join(unknown)} (jobs: {', '.join(JOBS)})", param_hint="NAMES")
        db = open_db(db_url)
        for name in names or tuple(JOBS):
            try:
                result = hub_call(run_job, db, name, datetime.now(timezone.utc), f"cli:{holder_name()}")
            except click.ClickException:
                raise
            except Exception as exc:
                raise click.ClickException(f"{name} failed (recorded; see `hub jobs list`): {exc}") from exc
            click.echo(f"{name}: {result if result is not None else 'skipped: another hub instance is running it'}")
