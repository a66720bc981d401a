"""Exactly one scheduler leads. With Redis: a lock key with a short lifetime that the leader keeps renewing;
a stand-by takes over within LEASE seconds of the leader's death. Without Redis there is one process."""

from __future__ import annotations

import asyncio
import logging
import uuid

import redis.asyncio as aioredis

LOCK_KEY = "contestbell:scheduler:leader"
LEASE = 6.0
log = logging.getLogger(__name__)

# renew only a lock we still hold (another process may have taken an expired one)
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"


class RedisLeadership:
    def __init__(self, redis_url: str, lease: float = LEASE) -> None:
        self._redis = aioredis.Redis.from_url(redis_url)
        self._token = str(uuid.uuid4())
        self._lease_ms = int(lease * 1000)
        self.lease = lease

    async def acquire(self) -> None:
        """Wait until this process leads."""
        while not await self._redis.set(LOCK_KEY, self._token, nx=True, px=self._lease_ms):
            await asyncio.sleep(self.lease / 4)
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

    async def release(self) -> None:
        try:
            await self._redis.eval(
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
                1, LOCK_KEY, self._token)
        finally:
            await self._redis.aclose()


class SoleLeadership:
    """The embedded process: nobody else to lead."""

    async def acquire(self) -> None:
        return None

    async def hold(self) -> None:
        await asyncio.Event().wait()

    async def release(self) -> None:
        return None


def make_leadership(redis_url: str | None) -> RedisLeadership | SoleLeadership:
    return RedisLeadership(redis_url) if redis_url else SoleLeadership()
