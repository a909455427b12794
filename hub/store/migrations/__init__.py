"""Numbered, named schema migrations for the hub, run on SQLite and PostgreSQL alike.

Each migration is a module `mNNNN_name.py` with `upgrade(conn)`. It is recorded in
`_migrations` inside the same transaction, so a failed migration leaves nothing
behind. Never edit a shipped migration: add the next number.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import datetime, timezone

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from hub.store.db import Database

__all__ = ["migrate", "applied_migrations"]

_meta = MetaData()
_migrations = Table(
    "_migrations",
    _meta,
    Column("number", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("applied_at", String(40), nullable=False),
)


def _available() -> list[tuple[int, str]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            found.append((int(info.name[1:5]), info.name))
    return sorted(found)


def applied_migrations(db: Database) -> list[int]:
    with db.write() as tx:
        _meta.create_all(tx.sa, checkfirst=True)
        return [row.number for row in tx.sa.execute(select(_migrations.c.number))]


def migrate(db: Database) -> list[str]:
    """Bring the schema up to date; returns the names of migrations it ran."""
    done = set(applied_migrations(db))
    ran = []
    for number, module_name in _available():
        if number in done:
            continue
        module = importlib.import_module(f"{__name__}.{module_name}")
        with db.write() as tx:  # schema work speaks SQLAlchemy: the migrations are written in it
            module.upgrade(tx.sa)
            tx.sa.execute(
                _migrations.insert().values(
                    number=number,
                    name=module_name,
                    applied_at=datetime.now(timezone.utc).isoformat(),
                )
            )
        ran.append(module_name)
    return ran
