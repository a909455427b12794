"""The real-process soak (simulator/real_soak.py) run for 18 seconds with three
devices: two hub instances on a fresh PostgreSQL database behind the lossy proxy,
SIGKILLs, a backup and a restore from it, then the drain and the counts, all 0.
The hour-long run is `make soak-real`; this keeps the machinery from rotting."""

from __future__ import annotations

import os
import random
import shutil

import pytest

from simulator.real_soak import main
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.slow


@pytest.fixture
def postgres_server() -> str:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required in CI and could not be used: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are needed for the hub's backup and restore")
    return PG_ADMIN_URL


def test_a_short_real_soak_loses_doubles_oversells_and_diverges_nothing(postgres_server, tmp_path, capsys):
    seed = int(os.environ.get("BACKROOM_CHAOS_SEED", random.randrange(2**32)))

    code = main(["--minutes", "0.3", "--devices", "3", "--seed", str(seed), "--pg", postgres_server,
                 "--workdir", str(tmp_path / "soak")])

    out = capsys.readouterr().out
    assert "hub restored from backup 1" in out, out
    assert "hub verify: same state" in out, out
    assert code == 0 and "lost 0, doubled 0, oversold 0, diverged 0" in out, out
