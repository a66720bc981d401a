"""Exactly one scheduler leads. With Redis: a lock key with a short lifetime that the leader keeps renewing;
a stand-by takes over within LEASE seconds of the leader's death. Without Redis there is one process.

A leader that stops (SIGTERM) keeps renewing until its reminders in hand are settled, then deletes the lock and
publishes that on RELEASED; the stand-bys listen there, so one of them leads within milliseconds instead of at
its next poll."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

LOCK_KEY = "contestbell:scheduler:leader"
#: stand-bys hear here that the leader let go (a channel is not per Redis database: a stray wake only costs a SET)
RELEASED = f"{LOCK_KEY}:released"
LEASE = 6.0
log = logging.getLogger(__name__)

# renew only a lock we still hold (another process may have taken an expired one)
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
# delete only a lock we still hold, and wake the stand-bys
_RELEASE = ("if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]); "
            "redis.call('publish', KEYS[2], ARGV[1]); return 1 end return 0")


class RedisLeadership:
    def __init__(self, redis_url: str, lease: float = LEASE) -> None:
        self._redis = aioredis.Redis.from_url(redis_url)
        self._token = str(uuid.uuid4())
        self._lease_ms = int(lease * 1000)
        self.lease = lease

    async def _take(self) -> bool:
        return bool(await self._redis.set(LOCK_KEY, self._token, nx=True, px=self._lease_ms))

    async def acquire(self) -> None:
        """Wait until this process leads: woken by a leader's release, or polling for a lock that expired."""
        if not await self._take():
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(RELEASED)  # before the next try: a release in between is not missed
                log.info("another scheduler leads; this one stands by")
                while not await self._take():
                    await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.lease / 4)
            finally:
                await pubsub.aclose()
        log.info("this scheduler leads")

    async def hold(self) -> None:
        """Keep renewing; returns when the lock was lost (the process must then stop leading)."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self._redis.eval(_RENEW, 1, LOCK_KEY, self._token, self._lease_ms):
                    log.error("scheduler leadership lost")
                    return
            except (OSError, aioredis.RedisError):
                log.exception("could not renew the scheduler lock")
                return

    @asynccontextmanager
    async def held(self) -> AsyncIterator[asyncio.Task[None]]:
        """Renew while the block runs (also while it winds down); yields the renewing task, which ends if the lock
        is lost. On exit the lock is let go at once, so that a stand-by leads without waiting for it to expire."""
        renewing = asyncio.create_task(self.hold())
        try:
            yield renewing
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            await self._let_go()

    async def _let_go(self) -> None:
        try:
            if await self._redis.eval(_RELEASE, 2, LOCK_KEY, RELEASED, self._token):
                log.info("scheduler leadership released")
        except (OSError, aioredis.RedisError) as error:
            log.warning("could not release the scheduler lock (a stand-by leads when it expires): %s", error)

    async def release(self) -> None:
        try:
            await self._let_go()
        finally:
            await self._redis.aclose()


class SoleLeadership:
    """The embedded process: nobody else to lead."""

    async def acquire(self) -> None:
        return None

    async def hold(self) -> None:
        await asyncio.Event().wait()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[asyncio.Task[None]]:
        never_lost = asyncio.create_task(self.hold())
        try:
            yield never_lost
        finally:
            never_lost.cancel()
            await asyncio.gather(never_lost, return_exceptions=True)

    async def release(self) -> None:
        return None


def make_leadership(redis_url: str | None) -> RedisLeadership | SoleLeadership:
    return RedisLeadership(redis_url) if redis_url else SoleLeadership()
