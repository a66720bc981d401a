"""One failure, one log line (issue 13, item 6): a site that fails (500s, timeouts, garbage) is one WARNING line per
failed fetch naming the site and the class of the error, without a traceback, and nothing reaches Sentry; a bug
(any other exception) is one ERROR line with its traceback and one Sentry event. Nothing else is logged twice:
not by the task runner, not by the fetch kicks."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from aiohttp.test_utils import TestServer

import fetchers.leetcode
from fetchers.events import LocalBus
from fetchers.http import SiteClient, new_session
from fetchers.pipeline import FetchContext
from fetchers.tasks import kick_fetch, make_broker, register_fetch_task
from models.contest import Site
from tests.processes import contestbell_env, running, wait_until
from tests.replay import Replay
from tests.sentry import local_sentry, sentry_endpoint

BROKEN = {"codeforces": ("codeforces.com/api/contest.list", "500", "http 500"),
          "atcoder": ("atcoder.jp/contests/?lang=en", "slow", "timeout"),
          "luogu": ("www.luogu.com.cn/contest/list?page=1", "garbage", "parse error")}
HEALTHY = ["leetcode", "yukicoder"]
LOUD = re.compile(r" (WARNING|ERROR|CRITICAL) ")


async def each_broken_site_failed_once_and_the_others_fetched() -> bool:
    failed = await Site.filter(slug__in=list(BROKEN), consecutive_failures=1).count()
    fetched = await Site.filter(slug__in=HEALTHY, last_success__isnull=False).count()
    return failed == len(BROKEN) and fetched == len(HEALTHY)


@pytest.mark.split
async def test_a_site_outage_in_worker_and_scheduler_is_one_warning_per_failed_fetch(db, redis_url, tmp_path):
    replay = Replay(slow_seconds=4)
    for route, fault, _ in BROKEN.values():
        replay.break_route(route, fault)
    log = tmp_path / "processes.log"
    async with TestServer(replay.app, host="127.0.0.1") as mirror, sentry_endpoint() as sentry:
        env = contestbell_env(database_url=db, redis_url=redis_url, fetch_via=str(mirror.make_url("")),
                              sites=",".join([*BROKEN, *HEALTHY]), keep_past_days="36500", fetch_timeout="1",
                              sentry_dsn=sentry.dsn)
        with running("worker", env=env, log=log), running("scheduler", env=env, log=log):
            await wait_until(each_broken_site_failed_once_and_the_others_fetched, 60, "one round of fetches")
            await asyncio.sleep(6)  # a duplicate would follow at once; an idle worker's listener used to die in 5 s
            text = log.read_text()  # before SIGTERM: how the processes stop is not what this test is about
        await asyncio.sleep(0.5)
    loud = [line for line in text.splitlines() if LOUD.search(line)]
    assert len(loud) == len(BROKEN), text
    for slug, (_, _, error) in BROKEN.items():
        [line] = [line for line in loud if f"fetch of {slug} failed" in line]
        assert " WARNING " in line and f": {error} " in line, line
    assert "Traceback" not in text, text
    assert sentry.events() == []
    assert replay.hits["codeforces.com/api/contest.list"] == 3  # the HTTP client's tries are not logged one by one


@pytest.fixture
async def mirror():
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as server:
        yield replay, str(server.make_url(""))


async def run_fetch_task(slug: str, fetch_via: str) -> None:
    """The `fetch_site` task through taskiq's own runner (in-process broker), as a worker runs it."""
    async with new_session(5) as session:
        context = FetchContext(SiteClient(session, fetch_via=fetch_via, retry_wait=0.01), LocalBus())
        broker = make_broker(None)
        register_fetch_task(broker, context)
        await broker.startup()
        try:
            await kick_fetch(broker, slug)
            await broker.wait_all()
        finally:
            await broker.shutdown()


def loud_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


@pytest.mark.parametrize(("fault", "error"), [("500", "http 500"), ("garbage", "parse error")])
async def test_a_routine_outage_sends_nothing_to_sentry(db, mirror, caplog, fault, error):
    replay, fetch_via = mirror
    replay.break_route("leetcode.com/graphql", fault)
    async with local_sentry() as envelopes:
        with caplog.at_level(logging.INFO):
            await run_fetch_task("leetcode", fetch_via)
        assert (await envelopes.flushed()).events() == []
    [record] = loud_records(caplog)
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage().startswith(f"fetch of leetcode failed (1 in a row): {error} ")


async def test_a_bug_is_one_error_with_its_traceback_and_one_sentry_event(db, mirror, caplog, monkeypatch):
    def broken_parse(payload: object) -> list:
        raise KeyError("a bug in our own code")

    monkeypatch.setattr(fetchers.leetcode, "parse", broken_parse)
    async with local_sentry() as envelopes:
        with caplog.at_level(logging.INFO):
            await run_fetch_task("leetcode", mirror[1])
        events = (await envelopes.flushed()).events()
    [record] = loud_records(caplog)
    assert record.levelno == logging.ERROR and record.exc_info and record.exc_info[0] is KeyError
    assert "fetch of leetcode failed with a bug" in record.getMessage()
    [event] = events
    assert event["exception"]["values"][-1]["type"] == "KeyError"
    assert (await Site.get(slug="leetcode")).last_error == "internal error"
