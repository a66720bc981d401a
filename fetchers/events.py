"""The event bus that carries contest changes to live pages and reminders.

Redis pub/sub when CONTESTBELL_REDIS_URL is set (so every web process hears every worker), in-process
queues otherwise. Events are small JSON-able dicts.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis

CHANNEL = "contestbell:contest-changes"
log = logging.getLogger(__name__)

Event = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, events: list[Event]) -> None: ...

    def subscribe(self) -> Any:
        """An async context manager yielding an async iterator of events."""

    async def close(self) -> None: ...


class LocalBus:
    """In-process fan-out: every subscriber gets its own queue."""

    def __init__(self, max_pending: int = 10_000) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()
        self._max_pending = max_pending

    async def publish(self, events: list[Event]) -> None:
        for queue in self._queues:
            for event in events:
                if queue.full():
                    log.warning("a slow subscriber dropped an event: %s", event.get("kind"))
                    continue
                queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_pending)
        self._queues.add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues.discard(queue)

    async def close(self) -> None:
        self._queues.clear()


async def _drain(queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    while True:
        yield await queue.get()


class RedisBus:
    """Redis pub/sub on one channel; each event is one JSON message."""

    def __init__(self, redis_url: str) -> None:
        self._redis = aioredis.Redis.from_url(redis_url)

    async def publish(self, events: list[Event]) -> None:
        if not events:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(CHANNEL, json.dumps(event))
            await pipe.execute()

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL)
        try:
            yield _messages(pubsub)
        finally:
            await pubsub.unsubscribe(CHANNEL)
            await pubsub.aclose()

    async def close(self) -> None:
        await self._redis.aclose()


async def _messages(pubsub: Any) -> AsyncIterator[Event]:
    async for message in pubsub.listen():
        if message.get("type") == "message":
            yield json.loads(message["data"])


def make_bus(redis_url: str | None) -> EventBus:
    return RedisBus(redis_url) if redis_url else LocalBus()
