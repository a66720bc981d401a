"""Database set-up: the Tortoise config for a URL, opening it, and applying migrations."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as run_migrations

MODEL_MODULES = ["models.contest", "models.account"]


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(database_url: str) -> None:
    """Apply every migration not yet applied (same files on PostgreSQL and SQLite).

    Connections are closed even when a migration fails: an open SQLite connection keeps its
    thread alive and the process would never exit.
    """
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


@asynccontextmanager
async def database(database_url: str, *, apply_migrations: bool = True) -> AsyncIterator[None]:
    """Open the database for this process (migrated first unless told not to); close it on exit."""
    if apply_migrations:
        await migrate(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        yield
    finally:
        await Tortoise.close_connections()


class QueryCounter(logging.Handler):
    """Counts the statements Tortoise sends (it logs each one at DEBUG on `tortoise.db_client`), or only those
    that name a table (a web app's change follower reads `contest_change` in the background meanwhile)."""

    def __init__(self, table: str | None = None) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.table = f'"{table}"' if table else None

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg != "%s: %s":  # a statement with its values (other messages are about the pool)
            return
        if self.table is None or self.table in str(record.args[0]):
            self.count += 1


@contextmanager
def count_queries(table: str | None = None) -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter, level = QueryCounter(table), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
