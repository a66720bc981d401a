"""Two `contestbell scheduler` processes; the leader stopped with SIGTERM in the middle of a fan-out settles what it
claimed, reports nothing as interrupted, exits 0 and lets go of the lock at once: the stand-by leads within a
second of the leader's exit (not when the 6 s lease runs out) and sends the rest, nobody twice."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from models.account import Delivery
from scheduler.leader import LOCK_KEY
from tests.fake_telegram import FakeTelegram
from tests.processes import running, wait_until
from tests.scheduler.test_crash import one_contest_for, scheduler_env, slow_telegram

PEOPLE = 1200

LOUD = re.compile(r" (WARNING|ERROR|CRITICAL) |Traceback")


class LockWatch:
    """When the leader process exited and when the lock next had another owner, seen every 5 ms."""

    def __init__(self, redis_url: str, leader: subprocess.Popen[bytes], leader_token: bytes, fake: FakeTelegram
                 ) -> None:
        self.redis, self.leader, self.token, self.fake = aioredis.Redis.from_url(redis_url), leader, leader_token, fake
        self.sent_by_leader = 0  # messages out when the stand-by took over
        self.exited_at: float | None = None
        self.last_held_at: float | None = None  # last seen held by the leader: the release came after this
        self.taken_at: float | None = None

    async def run(self) -> None:
        try:
            while self.exited_at is None or self.taken_at is None:
                owner = await self.redis.get(LOCK_KEY)
                now = time.monotonic()
                if owner == self.token:
                    self.last_held_at = now
                if owner not in (None, self.token) and self.taken_at is None:
                    self.taken_at, self.sent_by_leader = now, len(self.fake.sent())
                if self.exited_at is None and self.leader.poll() is not None:
                    self.exited_at = now
                await asyncio.sleep(0.005)
        finally:
            await self.redis.aclose()


def leads(log: Path) -> bool:
    return log.exists() and "this scheduler leads" in log.read_text()


def stands_by(log: Path) -> bool:
    return log.exists() and "this one stands by" in log.read_text()


@pytest.mark.split
async def test_sigterm_of_the_leader_hands_over_at_once_and_interrupts_nothing(db, redis_url, tmp_path):
    await one_contest_for(PEOPLE)
    fake = slow_telegram()
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    async with TestServer(fake.app, host="127.0.0.1") as api:
        env = scheduler_env(db, redis_url, api)
        with running("scheduler", env=env, log=logs[0]) as first, running("scheduler", env=env, log=logs[1]) as second:
            async def one_leads_one_stands_by() -> bool:
                return sorted([leads(logs[0]), leads(logs[1])]) == [False, True] and \
                    (stands_by(logs[0]) or stands_by(logs[1]))

            await wait_until(one_leads_one_stands_by, 40, "one scheduler to lead and the other to stand by")
            leader, stand_by = (first, second) if leads(logs[0]) else (second, first)
            leader_log, stand_by_log = (logs[0], logs[1]) if leader is first else (logs[1], logs[0])
            await fake.wait_for(count=200, timeout=40)
            client = aioredis.Redis.from_url(redis_url)
            token = await client.get(LOCK_KEY)
            await client.aclose()
            assert token is not None
            watch = LockWatch(redis_url, leader, token, fake)
            watching = asyncio.create_task(watch.run())
            leader.send_signal(signal.SIGTERM)
            await asyncio.wait_for(watching, 30)
            assert leader.returncode == 0
            stopped_at = watch.sent_by_leader
            assert stopped_at < PEOPLE, "the fan-out finished before the stop: make it slower"

            async def settled() -> bool:
                return await Delivery.filter(status="sent").count() == PEOPLE

            await wait_until(settled, 60, "the new leader to finish the fan-out")
            assert stand_by.poll() is None

    assert watch.exited_at is not None and watch.last_held_at is not None and watch.taken_at is not None
    after_exit = watch.taken_at - watch.exited_at
    after_release = watch.taken_at - watch.last_held_at
    print(f"\nleader stopped after {stopped_at} of {PEOPLE}; the stand-by owned the lock within "
          f"{after_release * 1000:.0f} ms of the release and {after_exit * 1000:.0f} ms after the leader exited "
          "(negative: before)")
    assert after_exit < 1.0
    assert leads(stand_by_log) and "scheduler leadership released" in leader_log.read_text()
    per_chat = Counter(call.chat_id for call in fake.sent())
    assert len(per_chat) == PEOPLE and max(per_chat.values()) == 1
    assert await Delivery.exclude(status="sent").count() == 0  # nothing interrupted, nothing skipped
    for log in logs:
        text = log.read_text()
        assert "claimed by a run that stopped" not in text
        assert not [line for line in text.splitlines() if LOUD.search(line)], text
