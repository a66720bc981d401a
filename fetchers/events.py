"""The wake-up bus: ingest rings it after it committed changes, and every follower of the change stream
(fetchers/changes.py) looks in the database at once instead of at its next poll.

The bus carries no changes, only "look again": the `contest_change` rows are the stream. So a wake-up lost to a
Redis outage (or to a Redis that accepts connections and never answers) costs a follower at most one poll
interval, never a change. Redis pub/sub when CONTESTBELL_REDIS_URL is set (every web process and the scheduler
hear every worker), in-process otherwise. Ringing never raises and never waits long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis

CHANNEL = "contestbell:contest-changes"
#: how long ringing or a health check may wait for Redis
REDIS_TIMEOUT = 2.0
log = logging.getLogger(__name__)


class EventBus(Protocol):
    uses_redis: bool

    async def wake(self) -> None:
        """Tell every follower that new changes are in the database (best effort: never raises)."""

    def wake_ups(self) -> Any:
        """An async context manager yielding an async iterator: each item means "look again"."""

    async def healthy(self) -> bool: ...

    async def close(self) -> None: ...


class LocalBus:
    """In-process: every subscriber has its own flag."""

    uses_redis = False

    def __init__(self) -> None:
        self._flags: set[asyncio.Event] = set()

    async def wake(self) -> None:
        for flag in self._flags:
            flag.set()

    @asynccontextmanager
    async def wake_ups(self) -> AsyncIterator[AsyncIterator[None]]:
        flag = asyncio.Event()
        self._flags.add(flag)
        try:
            yield _rung(flag)
        finally:
            self._flags.discard(flag)

    async def healthy(self) -> bool:
        return True

    async def close(self) -> None:
        self._flags.clear()


async def _rung(flag: asyncio.Event) -> AsyncIterator[None]:
    while True:
        await flag.wait()
        flag.clear()
        yield


class RedisBus:
    """Redis pub/sub on one channel."""

    uses_redis = True

    def __init__(self, redis_url: str) -> None:
        self._redis = aioredis.Redis.from_url(redis_url, socket_timeout=REDIS_TIMEOUT,
                                              socket_connect_timeout=REDIS_TIMEOUT)
        self._url = redis_url

    async def wake(self) -> None:
        try:
            async with asyncio.timeout(REDIS_TIMEOUT):
                await self._redis.publish(CHANNEL, b"1")
        except (TimeoutError, OSError, aioredis.RedisError) as error:
            log.warning("could not ring the followers over Redis (%s): they find the changes at their next look",
                        type(error).__name__)

    @asynccontextmanager
    async def wake_ups(self) -> AsyncIterator[AsyncIterator[None]]:
        # its own connection without a read timeout: a quiet channel is not a dead one (health_check_interval
        # pings it instead)
        listener = aioredis.Redis.from_url(self._url, socket_connect_timeout=REDIS_TIMEOUT, health_check_interval=30)
        pubsub = listener.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            yield _messages(pubsub)
        finally:
            try:
                await pubsub.aclose()
            finally:
                await listener.aclose()

    async def healthy(self) -> bool:
        try:
            async with asyncio.timeout(REDIS_TIMEOUT / 2):
                return bool(await self._redis.ping())
        except (TimeoutError, OSError, aioredis.RedisError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()


async def _messages(pubsub: Any) -> AsyncIterator[None]:
    async for message in pubsub.listen():
        if message.get("type") == "message":
            yield


def make_bus(redis_url: str | None) -> EventBus:
    return RedisBus(redis_url) if redis_url else LocalBus()
