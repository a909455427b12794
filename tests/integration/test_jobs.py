"""The hub's scheduled jobs (hub.jobs), on both backends: a parked order is routed again
by the clock when what held it back was no op (capacity raised), an uncollected pickup
expires; each job runs when due and only then; one holder at a time, a dead holder's
lease runs out; a failing job is recorded and the others still run; `hub jobs` by hand."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from hub import jobs
from hub.cli import hub as hub_cli
from hub.jobs import JOBS, Job, job_report, run_due, run_job
from hub.verify import replay
from tests.integration.test_floor_pickups_returns import order_by_number, picked_pickup
from tests.integration.test_routing import accept, cmd, network, read, scalar

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
STARTED = NOW - timedelta(hours=1)
EVERY = {"rebroker": 300.0, "sweep-pickups": 300.0}


def test_the_rebroker_job_routes_a_parked_order_once_capacity_is_raised_and_runs_again_only_when_due(hub):
    network(hub, {"ST-1": {"RT-B": 5}}, ST_1={"daily_capacity": 0})
    waiting = accept(hub, "J-1", "ship", [("RT-B", 1)])
    assert waiting["status"] == "awaiting_stock"
    cmd(hub, "location.profile_set", {"code": "ST-1", "lat": 52.39, "lon": 13.06, "daily_capacity": 10})
    assert read(hub, waiting["id"])["status"] == "awaiting_stock"  # no op announces capacity

    done = run_due(hub.db, EVERY, "hub-a", STARTED, NOW)
    assert done["rebroker"] == "1 parked orders routed"
    routed = read(hub, waiting["id"])
    assert (routed["status"], routed["location"]) == ("released", "ST-1")
    assert routed["routing"]["decisions"][-1]["trigger"] == "rebroker"
    assert scalar(hub, "SELECT actor FROM op_log WHERE kind = 'routing.rebrokered'") == "job:rebroker"

    assert run_due(hub.db, EVERY, "hub-b", STARTED, NOW + timedelta(seconds=299)) == {}  # not due yet
    assert set(run_due(hub.db, EVERY, "hub-b", STARTED, NOW + timedelta(seconds=301))) == set(EVERY)
    rebroker_row = next(r for r in _report(hub) if r["job"] == "rebroker")
    assert (rebroker_row["runs"], rebroker_row["failures"], rebroker_row["lease_holder"]) == (2, 0, None)
    assert rebroker_row["last_result"] == "no parked orders"
    assert replay(hub.db).same


def test_a_job_that_never_ran_waits_one_interval_from_the_schedulers_start(hub):
    assert run_due(hub.db, EVERY, "hub-a", NOW - timedelta(seconds=10), NOW) == {}
    assert all(row["runs"] == 0 for row in _report(hub))


@pytest.mark.anyio
async def test_the_sweep_job_expires_a_pickup_nobody_collected(hub, tmp_path):
    _device, order = await picked_pickup(hub, tmp_path, "Q-3001")
    when = datetime.fromisoformat(order["pickup_by"])
    assert run_job(hub.db, "sweep-pickups", when - timedelta(minutes=1), "hub-a") == "expired 0 pickup orders"
    assert run_job(hub.db, "sweep-pickups", when + timedelta(minutes=1), "hub-a") == "expired 1 pickup order: Q-3001"
    assert order_by_number(hub, "Q-3001")["status"] == "expired"
    assert replay(hub.db).same


def test_one_holder_at_a_time_and_a_dead_holders_lease_runs_out(hub):
    assert jobs._take_lease(hub.db, "rebroker", "hub-a", NOW, None)
    assert run_job(hub.db, "rebroker", NOW, "hub-b") is None  # hub-a holds it
    assert run_due(hub.db, EVERY, "hub-b", STARTED, NOW + timedelta(minutes=9)).get("rebroker") is None
    # hub-a died holding it: the lease runs out after ten minutes
    assert run_job(hub.db, "rebroker", NOW + timedelta(minutes=11), "hub-b") == "no parked orders"
    row = next(r for r in _report(hub) if r["job"] == "rebroker")
    assert row["lease_holder"] is None and row["runs"] == 1


def test_a_failing_job_is_recorded_and_the_others_still_run(hub, monkeypatch):
    def broken(_conn, _now):
        raise RuntimeError("the routing policy could not be read")

    monkeypatch.setitem(JOBS, "rebroker", Job("rebroker", "BACKROOM_REBROKER_EVERY_S", 300.0, broken, "broken"))
    done = run_due(hub.db, EVERY, "hub-a", STARTED, NOW)
    assert set(done) == {"sweep-pickups"}
    row = next(r for r in _report(hub) if r["job"] == "rebroker")
    assert (row["runs"], row["failures"], row["lease_holder"]) == (1, 1, None)
    assert row["last_error"] == "RuntimeError: the routing policy could not be read"
    assert run_due(hub.db, EVERY, "hub-a", STARTED, NOW + timedelta(seconds=301)) == {"sweep-pickups": "expired 0 pickup orders"}


def test_hub_jobs_list_and_run_from_the_command_line(hub, hub_db_url, monkeypatch):
    monkeypatch.delenv("BACKROOM_REBROKER_EVERY_S", raising=False)  # the defaults, whatever this process was given
    runner = CliRunner()
    ran = runner.invoke(hub_cli, ["jobs", "run", "rebroker", "--db", hub_db_url])
    assert ran.exit_code == 0, ran.output
    assert ran.output.strip() == "rebroker: no parked orders"
    unknown = runner.invoke(hub_cli, ["jobs", "run", "defrag", "--db", hub_db_url])
    assert unknown.exit_code == 2 and "no job defrag (jobs: rebroker, sweep-pickups)" in unknown.output

    monkeypatch.setenv("BACKROOM_PICKUP_SWEEP_EVERY_S", "0")
    listed = runner.invoke(hub_cli, ["jobs", "list", "--db", hub_db_url])
    assert listed.exit_code == 0, listed.output
    assert "rebroker       every 300 s" in listed.output and "result: no parked orders" in listed.output
    assert "sweep-pickups  off" in listed.output and "last never" in listed.output
    as_json = json.loads(runner.invoke(hub_cli, ["jobs", "list", "--json", "--db", hub_db_url]).output)
    assert [r["job"] for r in as_json] == ["rebroker", "sweep-pickups"]

    monkeypatch.setenv("BACKROOM_REBROKER_EVERY_S", "soon")
    bad = runner.invoke(hub_cli, ["jobs", "list", "--db", hub_db_url])
    assert bad.exit_code == 2 and "BACKROOM_REBROKER_EVERY_S='soon' is not a number of seconds" in bad.output


@pytest.mark.parametrize("value, problem", [("-5", "cannot be negative"), ("x", "is not a number")])
def test_a_bad_interval_names_its_variable(monkeypatch, value, problem):
    monkeypatch.setenv("BACKROOM_REBROKER_EVERY_S", value)
    with pytest.raises(ValueError, match=f"BACKROOM_REBROKER_EVERY_S={value!r}.*{problem}"):
        jobs.intervals_from_env()


def _report(hub) -> list[dict]:
    with hub.db.read() as conn:
        return job_report(conn)
