"""End to end over HTTP: `contestbell scheduler` and `contestbell worker` (taskiq on Redis) fetch every
site from the replay server through CONTESTBELL_FETCH_VIA into the database; sites that answer 500,
time out or return garbage fail alone and remove nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from fetchers.changes import changes_after
from fetchers.events import CHANNEL
from fetchers.registry import all_sites
from models.contest import Contest, Site
from tests.processes import contestbell_env, running, wait_until
from tests.replay import Replay

EXPECTED = {"atcoder": 59, "codechef": 23, "codeforces": 7, "codeforces-gym": 680, "hackerearth": 6,
            "leetcode": 2, "luogu": 20, "nowcoder": 15, "yukicoder": 6, "dmoj": 250, "ctftime": 2,
            "hackerrank": 564, "topcoder": 308}
#: HackerRank's calendar feed lists the rounds of both hackerrank and topcoder: each of them asks for it
SHARED_FEED = "www.hackerrank.com/calendar/cal.ics"
BROKEN = {"codeforces": ("codeforces.com/api/contest.list", "500", "http 500"),
          "atcoder": ("atcoder.jp/contests/?lang=en", "slow", "timeout"),
          "luogu": ("www.luogu.com.cn/contest/list?page=1", "garbage", "parse error")}


async def contest_counts() -> dict[str, int]:
    return {slug: await Contest.filter(site_id=slug).count() for slug in all_sites()}


async def count_rings(redis_url: str, into: list[bytes], ready: asyncio.Event) -> None:
    client = aioredis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    ready.set()
    try:
        async for message in pubsub.listen():
            if message["type"] == "message":
                into.append(message["data"])
    finally:
        await pubsub.aclose()
        await client.aclose()


@pytest.mark.split
async def test_scheduler_and_worker_fetch_all_sites_and_failures_stay_contained(db, redis_url, tmp_path):
    assert sorted(EXPECTED) == sorted(all_sites())
    replay = Replay(slow_seconds=4)
    rings: list[bytes] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(count_rings(redis_url, rings, ready))
    await ready.wait()
    async with TestServer(replay.app, host="127.0.0.1") as mirror:
        env = contestbell_env(database_url=db, redis_url=redis_url, fetch_via=str(mirror.make_url("")),
                              keep_past_days="36500", fetch_timeout="1")
        log = tmp_path / "processes.log"

        async def all_fetched() -> bool:
            return await Site.filter(last_success__isnull=True).count() == 0

        with running("worker", env=env, log=log), running("scheduler", env=env, log=log):
            await wait_until(all_fetched, 60, "every site fetched once")
        assert await contest_counts() == EXPECTED
        assert replay.hits == {route: 2 if route == SHARED_FEED else 1 for route in replay.hits}, replay.hits

        async def every_site_rang() -> bool:
            return len(rings) >= len(EXPECTED)

        await wait_until(every_site_rang, 10, "a wake-up on Redis per site's ingest")
        events = await changes_after(0, limit=10_000)
        assert len(events) == sum(EXPECTED.values())
        assert {e["kind"] for e in events} == {"new"}
        assert {e["site"] for e in events} == set(EXPECTED)

        for route, fault, _ in BROKEN.values():
            replay.break_route(route, fault)
        second_round = datetime.now(UTC)
        await Site.all().update(last_try=None)

        async def all_tried_again() -> bool:
            return await Site.filter(last_try__gte=second_round).count() == len(EXPECTED) and (
                await Site.filter(consecutive_failures=1).count() == len(BROKEN))

        with running("worker", env=env, log=log), running("scheduler", env=env, log=log):
            await wait_until(all_tried_again, 60, "a second round with three broken sites")

    listener.cancel()
    assert await contest_counts() == EXPECTED
    assert await Contest.filter(cancelled=True).count() == 0
    for slug, (_, _, error) in BROKEN.items():
        site = await Site.get(slug=slug)
        assert error in site.last_error, (slug, site.last_error)
        assert site.last_success < second_round
    healthy = await Site.exclude(slug__in=list(BROKEN))
    assert all(site.consecutive_failures == 0 and site.last_success >= second_round for site in healthy)
    assert replay.hits["codeforces.com/api/contest.list"] == 1 + 3  # three tries in the failing round
