"""A scratch PostgreSQL database for a benchmark: created empty, dropped afterwards.

CONTESTBELL_BENCH_PG names the server's admin database (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from fetchers.health import ensure_sites
from fetchers.registry import all_sites
from models.db import database

ADMIN = os.environ.get("CONTESTBELL_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@asynccontextmanager
async def scratch_url() -> AsyncIterator[str]:
    """The URL of a new empty database, dropped on exit."""
    name = f"cbbench_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A new database, migrated, opened for this process and with the site rows; yields its URL."""
    async with scratch_url() as url, database(url):
        await ensure_sites(site.info for site in all_sites().values())
        yield url
