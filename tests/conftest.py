"""Shared fixtures: hub databases on both backends, an in-process hub, devices."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("BACKROOM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_url_or_skip() -> str:
    """A fresh schema on the test PostgreSQL; in CI an unreachable server fails the run."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        engine = create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required in CI and could not be used: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    return f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite hub file with every migration applied, made once a session: each test
    copies it (milliseconds) instead of running the migrations again (most of a second)."""
    from hub.store.db import Database
    from hub.store.migrations import migrate

    path = tmp_path_factory.mktemp("template") / "hub.db"
    db = Database(f"sqlite:///{path}")
    migrate(db)
    db.dispose()
    with sqlite3.connect(path) as conn:  # everything in the main file: the copy takes no -wal
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str | None]:
    """A PostgreSQL database with every migration applied, made once a session, that each
    test's database is created from (CREATE DATABASE … TEMPLATE: a file copy, where the
    migrations' DDL takes seconds). None when PostgreSQL can't be reached."""
    from sqlalchemy import create_engine, text

    from hub.store.db import Database
    from hub.store.migrations import migrate

    name = f"backroom_tmpl_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(_psycopg(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception:  # noqa: BLE001 - unreachable: the tests that need it skip or fail
        yield None
        return
    db = Database(_database_url(name))
    migrate(db)
    db.dispose()
    yield name
    with admin.connect() as conn:  # the tests' copies, then the template (a drop waits on the disk: once, here)
        for copy in [*_PG_COPIES, name]:
            conn.execute(text(f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)"))
    admin.dispose()


_PG_COPIES: list[str] = []


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://")


def _database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_db_url(request, tmp_path, migrated_sqlite) -> Iterator[str]:
    """The hub database URL, once per backend, already migrated."""
    if request.param == "sqlite":
        shutil.copyfile(migrated_sqlite, tmp_path / "hub.db")
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    template = request.getfixturevalue("migrated_postgres")
    if template is None:
        yield _postgres_url_or_skip()
        return
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_psycopg(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    admin.dispose()
    _PG_COPIES.append(name)
    yield _database_url(name)


@pytest.fixture
def sqlite_hub_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
