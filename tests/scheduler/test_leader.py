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


async def test_a_leader_that_lets_go_wakes_the_stand_by_at_once(redis_url):
    """SIGTERM: the leader renews while it winds down, then lets go; the stand-by leads in milliseconds, not at its
    next poll (lease / 4 = 1.5 s here)."""
    leader, stand_by = RedisLeadership(redis_url), RedisLeadership(redis_url)
    await leader.acquire()
    async with leader.held() as lost:
        waiting = asyncio.create_task(stand_by.acquire())
        await asyncio.sleep(2.5)  # longer than lease / 3: the leader has renewed meanwhile
        assert not waiting.done() and not lost.done()
    let_go = time.monotonic()
    await asyncio.wait_for(waiting, 5)
    handover = time.monotonic() - let_go
    print(f"handover {handover * 1000:.0f} ms")
    assert handover < 0.2
    client = aioredis.Redis.from_url(redis_url)
    assert await client.pttl(LOCK_KEY) > 5000  # the stand-by holds a fresh lease
    await client.aclose()
    await stand_by.release()
    await leader.release()
