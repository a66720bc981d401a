"""Fetch kicks: the backoff rule, when a site is due, and kicks through a real taskiq broker and APScheduler.

`backoff` and `is_due` run on Site instances built in memory; the kick tests use the database fixture
(PostgreSQL by default, CONTESTBELL_TEST_DB=sqlite for SQLite) and an InMemoryBroker whose task under
FETCH_TASK only records the slugs it receives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from taskiq import InMemoryBroker

from fetchers.contest import SiteInfo
from fetchers.tasks import FETCH_TASK
from models.contest import Site
from scheduler.fetch_kicks import BACKOFF_CAP, backoff, is_due, kick_if_due, new_scheduler, schedule_fetches

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TEN_MINUTES = timedelta(minutes=10)


def site(every_seconds: int = 600, last_try: datetime | None = None, failures: int = 0) -> Site:
    return Site(slug="codeforces", name="Codeforces", url="https://codeforces.com",
                every_seconds=every_seconds, last_try=last_try, consecutive_failures=failures)


# --- backoff ----------------------------------------------------------------------------------------


def test_backoff_without_failures_is_the_interval():
    assert backoff(TEN_MINUTES, 0) == TEN_MINUTES
    assert backoff(TEN_MINUTES, -1) == TEN_MINUTES


@pytest.mark.parametrize(("failures", "minutes"), [(1, 20), (2, 40), (3, 80), (4, 160), (5, 320)])
def test_backoff_doubles_with_each_failure(failures, minutes):
    assert backoff(TEN_MINUTES, failures) == timedelta(minutes=minutes)


@pytest.mark.parametrize("failures", [6, 7, 16, 17, 100, 10_000])
def test_backoff_is_capped(failures):
    assert timedelta(hours=6) == BACKOFF_CAP
    assert backoff(TEN_MINUTES, failures) == BACKOFF_CAP


def test_backoff_cap_applies_to_a_long_interval_too():
    assert backoff(timedelta(hours=1), 2) == timedelta(hours=4)
    assert backoff(timedelta(hours=1), 3) == BACKOFF_CAP


def test_backoff_is_never_shorter_than_the_interval():
    day = timedelta(days=1)
    assert backoff(day, 0) == day
    assert backoff(day, 5) == day


# --- is_due -----------------------------------------------------------------------------------------


def test_never_tried_site_is_due():
    assert is_due(site(last_try=None), NOW)
    assert is_due(site(last_try=None, failures=4), NOW)


def test_healthy_site_is_due_even_just_after_a_try():
    assert is_due(site(last_try=NOW - timedelta(seconds=1), failures=0), NOW)


def test_site_that_failed_3_times_a_minute_ago_is_not_due():
    assert not is_due(site(last_try=NOW - timedelta(minutes=1), failures=3), NOW)


def test_failing_site_is_due_once_its_backoff_has_passed():
    failed = site(every_seconds=600, last_try=NOW, failures=3)  # backoff 80 min, slack 1 min
    assert not is_due(failed, NOW + timedelta(minutes=78, seconds=59))
    assert is_due(failed, NOW + timedelta(minutes=79))
    assert is_due(failed, NOW + timedelta(hours=7))


def test_one_failure_waits_twice_the_interval_less_the_slack():
    failed = site(every_seconds=600, last_try=NOW, failures=1)  # backoff 20 min, slack 1 min
    assert not is_due(failed, NOW + timedelta(minutes=18, seconds=59))
    assert is_due(failed, NOW + timedelta(minutes=19))


def test_a_site_failing_for_long_is_retried_at_the_cap():
    failed = site(every_seconds=600, last_try=NOW, failures=40)
    assert not is_due(failed, NOW + timedelta(hours=5, minutes=58))
    assert is_due(failed, NOW + BACKOFF_CAP)


# --- kicks through a real broker --------------------------------------------------------------------


@pytest.fixture
async def recording_broker() -> AsyncIterator[tuple[InMemoryBroker, list[str]]]:
    """An in-memory broker whose fetch task records the slugs it is kicked with."""
    broker = InMemoryBroker()
    received: list[str] = []

    async def fetch_site(slug: str) -> dict[str, str]:
        received.append(slug)
        return {"site": slug}

    broker.register_task(fetch_site, task_name=FETCH_TASK)
    await broker.startup()
    try:
        yield broker, received
    finally:
        await broker.wait_all()
        await broker.shutdown()


async def test_kick_if_due_kicks_a_healthy_site_but_not_one_backing_off(db, recording_broker):
    broker, received = recording_broker
    now = datetime.now(UTC)
    await Site.filter(slug="atcoder").update(consecutive_failures=3, last_try=now - timedelta(minutes=1))
    await Site.filter(slug="codeforces").update(consecutive_failures=0, last_try=now - timedelta(minutes=1))

    await kick_if_due(broker, "codeforces")
    await kick_if_due(broker, "atcoder")
    await broker.wait_all()
    assert received == ["codeforces"]

    # once its backoff has passed the failing site is kicked again
    await Site.filter(slug="atcoder").update(last_try=now - timedelta(hours=7))
    await kick_if_due(broker, "atcoder")
    await broker.wait_all()
    assert received == ["codeforces", "atcoder"]


async def test_schedule_fetches_kicks_a_site_at_its_interval(db, recording_broker):
    broker, received = recording_broker
    every_second = SiteInfo("ticker", "Ticker", "https://ticker.example", every=timedelta(seconds=1))
    backing_off = SiteInfo("stalled", "Stalled", "https://stalled.example", every=timedelta(seconds=1))
    await Site.create(slug="ticker", name="Ticker", url="https://ticker.example", every_seconds=1)
    await Site.create(slug="stalled", name="Stalled", url="https://stalled.example", every_seconds=60,
                      consecutive_failures=3, last_try=datetime.now(UTC))

    scheduler = new_scheduler()
    try:
        before = datetime.now(UTC)
        schedule_fetches(scheduler, broker, [every_second, backing_off])
        schedule_fetches(scheduler, broker, [every_second, backing_off])  # replaces, does not add
        scheduler.start()

        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"fetch:ticker", "fetch:stalled"}
        job = jobs["fetch:ticker"]
        assert job.trigger.interval == timedelta(seconds=1)
        # the first kick is spread over the next 3 s
        assert before <= job.next_run_time <= datetime.now(UTC) + timedelta(seconds=3)
        # don't wait for the random spread: bring both first kicks forward, the interval does the rest
        for pending in jobs.values():
            pending.modify(next_run_time=datetime.now(UTC))

        deadline = time.monotonic() + 3
        while received.count("ticker") < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await broker.wait_all()
        assert received.count("ticker") >= 2
        assert "stalled" not in received
    finally:
        scheduler.shutdown(wait=False)
    await asyncio.sleep(0.01)  # AsyncIOScheduler.shutdown runs via call_soon_threadsafe on the loop
    assert not scheduler.running
