"""ASGI entry for uvicorn workers: `uvicorn --factory hub.api.asgi:app_from_env`.
The database URL comes from BACKROOM_HUB_DB, the writer process's socket (if
any) from BACKROOM_HUB_WRITER; `backroom hub serve` migrates and starts the
writer before starting workers, so workers don't race each other to migrate."""

from __future__ import annotations

import gc
import os

from fastapi import FastAPI

from hub.api.app import create_app
from hub.api.request_log import configure_logging
from hub.api.writer import SOCKET_ENV
from hub.store.db import Database

__all__ = ["app_from_env", "DB_ENV", "LOG_LEVEL_ENV"]

DB_ENV = "BACKROOM_HUB_DB"
LOG_LEVEL_ENV = "BACKROOM_LOG_LEVEL"


def app_from_env() -> FastAPI:
    configure_logging(os.environ.get(LOG_LEVEL_ENV, "info"))
    app = create_app(Database(os.environ[DB_ENV]), run_migrations=False, writer=os.environ.get(SOCKET_ENV))
    # What exists now lives as long as the worker: out of the collector's reach, so
    # collections during a busy minute walk only what requests allocate.
    gc.freeze()
    return app
