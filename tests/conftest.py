"""Shared test fixtures: a fresh migrated database (PostgreSQL or SQLite), Redis, a replay server.

`CONTESTBELL_TEST_DB` picks the database: `postgres` (default) or `sqlite`. Tortoise must not use both
dialects in one process (STACK_NOTES), so `./dev test` runs the database tests once per backend.
Under CI=true an unreachable PostgreSQL or Redis fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from fetchers.health import ensure_sites
from fetchers.registry import all_sites
from models.db import database

TEST_DB = os.environ.get("CONTESTBELL_TEST_DB", "postgres")
PG_ADMIN_URL = os.environ.get("CONTESTBELL_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")
BASE_REDIS_URL = os.environ.get("CONTESTBELL_TEST_REDIS", "redis://127.0.0.1:6379/15")


def redis_of_this_worker(base: str) -> str:
    """With pytest-xdist each worker empties its own Redis database: the base one for gw0, the ones below for the
    others (`…/15`, `…/14`, …)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    prefix, _, number = base.rpartition("/")
    return f"{prefix}/{int(number or 0) - int(worker.removeprefix('gw'))}"


REDIS_URL = redis_of_this_worker(BASE_REDIS_URL)


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def create_pg_database(template: str | None = None) -> str:
    name = f"cbtest_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(PG_ADMIN_URL)
    except (OSError, asyncpg.PostgresError) as error:
        unavailable("PostgreSQL", error)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await admin.close()
    return name


async def drop_pg_database(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db_url(tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a fresh, empty database (not yet migrated)."""
    if TEST_DB == "sqlite":
        yield f"sqlite://{tmp_path / 'test.sqlite3'}"
        return
    name = await create_pg_database()
    try:
        yield pg_url(name)
    finally:
        await drop_pg_database(name)


async def prepare(url: str) -> None:
    """Every migration applied and the site rows in place."""
    async with database(url):
        await ensure_sites(site.info for site in all_sites().values())


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database prepared once per test run, that each test's database is a copy of (migrating one for every
    test cost about half a second each: most of the suite's time). PostgreSQL copies it as a TEMPLATE, SQLite as
    a file."""
    if TEST_DB == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        asyncio.run(prepare(f"sqlite://{path}"))
        yield str(path)
        return
    name = asyncio.run(create_pg_database())
    try:
        asyncio.run(prepare(pg_url(name)))
        yield name
    finally:
        asyncio.run(drop_pg_database(name))


@pytest.fixture
async def db(migrated_template: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database with every migration applied and the site rows in place; yields its URL."""
    if TEST_DB == "sqlite":
        copy = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_template, copy)
        async with database(f"sqlite://{copy}", apply_migrations=False):
            yield f"sqlite://{copy}"
        return
    name = await create_pg_database(template=migrated_template)
    try:
        async with database(pg_url(name), apply_migrations=False):
            yield pg_url(name)
    finally:
        await drop_pg_database(name)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A Redis database for this test, emptied before and after."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as error:
        await client.aclose()
        unavailable("Redis", error)
    await client.flushdb()
    try:
        yield REDIS_URL
    finally:
        await client.flushdb()
        await client.aclose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that use the database are marked `db`, so `-m db` selects the per-backend suite. The `stack` tests
    share one running stack (its port, database and Redis): under pytest-xdist's `--dist loadgroup` they all go to
    one worker, in their order."""
    for item in items:
        if {"db", "db_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if item.get_closest_marker("stack"):
            item.add_marker(pytest.mark.xdist_group("stack"))
