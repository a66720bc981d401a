"""One fetch end to end in-process: health is recorded, changes reach the in-process event bus, and a
failing site changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from fetchers.changes import changes_after
from fetchers.events import LocalBus
from fetchers.http import FetchError, SiteClient, new_session
from fetchers.ingest import ShrunkFetch
from fetchers.pipeline import FetchContext, fetch_and_ingest
from fetchers.registry import get_site
from models.contest import Contest, ContestChange, Site
from tests.replay import Replay

EVERYTHING = timedelta(days=36500)


async def test_success_records_health_writes_each_change_and_rings_the_bus(db):
    bus = LocalBus()
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror, new_session(5) as session, \
            bus.wake_ups() as rings:
        context = FetchContext(SiteClient(session, fetch_via=str(mirror.make_url(""))), bus, keep_past=EVERYTHING)
        report = await fetch_and_ingest(get_site("leetcode"), context)
        await asyncio.wait_for(anext(rings), 1)
    heard = await changes_after(0)
    assert sorted(report.summary()["new"]) == ["biweekly-contest-193", "weekly-contest-523"]
    assert {(e["kind"], e["site"], e["key"]) for e in heard} == {
        ("new", "leetcode", "biweekly-contest-193"), ("new", "leetcode", "weekly-contest-523")}
    weekly = next(e for e in heard if e["key"] == "weekly-contest-523")
    assert weekly["title"] == "Weekly Contest 523" and weekly["start"] == "2026-10-11T02:30:00Z"
    site = await Site.get(slug="leetcode")
    assert site.last_success == site.last_try and site.consecutive_failures == 0 and site.last_error is None


async def test_regular_fetch_keeps_only_recent_contests(db):
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror, new_session(5) as session:
        context = FetchContext(SiteClient(session, fetch_via=str(mirror.make_url(""))), LocalBus())
        report = await fetch_and_ingest(get_site("codeforces-gym"), context)
    assert report.summary()["new"] == []  # the 2023 gym capture ended long before the default 31 days
    assert await Site.filter(slug="codeforces-gym", consecutive_failures=0).exists()


@pytest.mark.parametrize(("fault", "error"), [("500", FetchError), ("garbage", Exception)])
async def test_failures_count_in_a_row_and_change_nothing(db, fault, error):
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror, new_session(5) as session:
        client = SiteClient(session, fetch_via=str(mirror.make_url("")), retry_wait=0.01)
        context = FetchContext(client, LocalBus(), keep_past=EVERYTHING)
        await fetch_and_ingest(get_site("leetcode"), context)
        replay.break_route("leetcode.com/graphql", fault)
        for attempt in (1, 2):
            with pytest.raises(error):
                await fetch_and_ingest(get_site("leetcode"), context)
            site = await Site.get(slug="leetcode")
            assert site.consecutive_failures == attempt and site.last_error
    assert await Contest.filter(site_id="leetcode").count() == 2
    assert await ContestChange.exclude(kind="new").count() == 0


async def test_a_site_that_suddenly_lists_nothing_is_a_failure(db):
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror, new_session(5) as session:
        context = FetchContext(SiteClient(session, fetch_via=str(mirror.make_url(""))), LocalBus(),
                               keep_past=EVERYTHING)
        await fetch_and_ingest(get_site("leetcode"), context)
        # both contests are in the past now; pretend they are upcoming to exercise the guard
        await Contest.filter(site_id="leetcode").update(start=datetime(2999, 1, 1, tzinfo=UTC))
        with pytest.raises(ShrunkFetch):
            await fetch_and_ingest(get_site("leetcode"), context)
    site = await Site.get(slug="leetcode")
    assert site.consecutive_failures == 1 and site.last_error == "too few contests"
    assert await Contest.filter(site_id="leetcode", cancelled=False, misses=0).count() == 2
