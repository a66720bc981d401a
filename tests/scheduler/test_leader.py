"""Exactly one scheduler leads; a stand-by takes over within seconds when the leader dies."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from scheduler.leader import LOCK_KEY, RedisLeadership


async def test_stand_by_takes_over_when_the_leader_stops_renewing(redis_url):
    leader, stand_by = RedisLeadership(redis_url, lease=1.5), RedisLeadership(redis_url, lease=1.5)
    await leader.acquire()
    holding = asyncio.create_task(leader.hold())
    waiting = asyncio.create_task(stand_by.acquire())
    await asyncio.sleep(3)
    assert not waiting.done()  # the leader keeps renewing: the stand-by waits
    holding.cancel()  # the leader dies (no release: as with SIGKILL)
    died = time.monotonic()
    await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - died <= 1.5 + 0.5
    await stand_by.release()
    await leader.release()


async def test_a_leader_whose_lock_was_taken_stops_leading(redis_url):
    leader = RedisLeadership(redis_url, lease=1.5)
    await leader.acquire()
    client = aioredis.Redis.from_url(redis_url)
    await client.set(LOCK_KEY, "someone else")
    await asyncio.wait_for(leader.hold(), 3)  # returns: leadership lost
    await client.aclose()
    await leader.release()
