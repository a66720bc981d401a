"""The first run off-line (issue 13, item 9), as a newcomer tries it: old captures are counted as too old instead of
leaving the calendar silently empty, `contestbell ingest` keeps the same window as `fetch`, the replay server's
`--shift` moves each capture so that its newest contest starts tomorrow, and a restart with other fetch settings
tries every site at once instead of keeping up the old settings' backoff."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from fetchers.events import LocalBus
from fetchers.health import fetch_fingerprint, start_afresh_where_fetched_otherwise
from fetchers.http import SiteClient, new_session
from fetchers.pipeline import FetchContext, fetch_and_ingest
from fetchers.registry import all_sites, get_site
from models.contest import Contest, Site
from scheduler.fetch_kicks import is_due
from tests.capture_times import readers
from tests.captures import capture
from tests.processes import contestbell, contestbell_env, free_port, running, wait_until
from tests.replay import ROUTES, Replay

GYM = "codeforces/contest_list_gym_2023-09-03T1024Z.json"  # 680 contests, the newest in 2023


def test_each_shifted_capture_reads_the_same_contests_whole_days_later_the_newest_tomorrow():
    replay = Replay(shift=True)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    sites = list(all_sites().values())
    readers_seen = set()
    for route in ROUTES:
        before = readers(sites, replay.files[route].read_text(encoding="utf-8"))
        after = readers(sites, replay.shifted[route].decode("utf-8"))
        assert before and sorted(after) == sorted(before), route
        newest = []
        for slug, contests in before.items():
            moved = {contest.key: contest for contest in after[slug]}
            assert sorted(moved) == sorted(contest.key for contest in contests), (route, slug)
            shifts = {moved[c.key].start - c.start for c in contests}
            assert len(shifts) == 1 and next(iter(shifts)) % timedelta(days=1) == timedelta(0), (route, slug, shifts)
            assert all(moved[c.key].duration == c.duration for c in contests), (route, slug)
            newest.append(max(c.start for c in moved.values()).date())
            readers_seen.add(slug)
        assert min(newest) == tomorrow, (route, newest)  # a capture two sites read: the earlier newest is tomorrow
    assert readers_seen == set(all_sites())


async def test_fetch_through_the_shifted_replay_stores_upcoming_contests_for_every_site(db):
    replay = Replay(shift=True)
    async with TestServer(replay.app, host="127.0.0.1") as mirror:
        env = contestbell_env(database_url=db, fetch_via=str(mirror.make_url("")))  # the default 31 days kept
        result = await asyncio.to_thread(contestbell, "fetch", env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    summaries = {line["site"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert sorted(summaries) == sorted(all_sites())
    now = datetime.now(UTC)
    for slug in all_sites():
        assert await Contest.filter(site_id=slug, start__gt=now).count() >= 1, slug
    gym = summaries["codeforces-gym"]
    assert gym["too_old"] > 600 and len(gym["new"]) + gym["too_old"] == 680, gym  # three years of gym rounds


async def test_a_fetch_of_old_captures_counts_them_too_old_in_its_summary_and_log(db, caplog):
    async with TestServer(Replay().app, host="127.0.0.1") as mirror, new_session(5) as session:
        context = FetchContext(SiteClient(session, fetch_via=str(mirror.make_url(""))), LocalBus())
        with caplog.at_level(logging.INFO, logger="fetchers.pipeline"):
            report = await fetch_and_ingest(get_site("codeforces-gym"), context)
    assert report.summary() == {"new": [], "rescheduled": [], "renamed": [], "extended": [], "cancelled": [],
                                "restored": [], "unchanged": 0, "too_old": 680}
    assert "fetched codeforces-gym: 0 unchanged, 680 too old to keep" in caplog.text


def test_ingest_keeps_the_same_window_as_fetch(db):
    env = contestbell_env(database_url=db)
    today = contestbell("ingest", "codeforces-gym", str(capture(GYM)), env=env)
    assert today.returncode == 0, today.stderr
    assert json.loads(today.stdout)["new"] == [] and json.loads(today.stdout)["too_old"] == 680
    then = contestbell("ingest", "codeforces-gym", str(capture(GYM)), "--now", "2023-09-03T10:24:00Z", env=env)
    kept = json.loads(then.stdout)
    assert 0 < len(kept["new"]) < 680 and len(kept["new"]) + kept["too_old"] == 680, kept
    everything = contestbell("ingest", "codeforces-gym", str(capture(GYM)), "--now", "2023-09-03T10:24:00Z",
                             env=contestbell_env(database_url=db, keep_past_days="36500"))
    assert "too_old" not in json.loads(everything.stdout) and json.loads(everything.stdout)["unchanged"] > 0


async def test_backoff_starts_afresh_only_when_the_fetch_settings_change(db):
    now = datetime.now(UTC)
    info = get_site("codeforces").info
    await Site.filter(slug="codeforces").update(consecutive_failures=5, last_try=now,
                                                fetch_settings=fetch_fingerprint(None, info.url))
    assert await start_afresh_where_fetched_otherwise([info], None) == []
    assert not is_due(await Site.get(slug="codeforces"), now + timedelta(minutes=30))  # still backing off

    assert await start_afresh_where_fetched_otherwise([info], "http://127.0.0.1:8099") == ["codeforces"]
    site = await Site.get(slug="codeforces")
    assert site.consecutive_failures == 0 and site.last_try is None and is_due(site, now)
    assert site.fetch_settings == fetch_fingerprint("http://127.0.0.1:8099", info.url)


@pytest.mark.split
async def test_a_restart_with_another_fetch_via_tries_every_site_at_once(db, redis_url, tmp_path):
    sites = ["codeforces", "leetcode", "yukicoder"]
    log = tmp_path / "processes.log"
    env = contestbell_env(database_url=db, redis_url=redis_url, sites=",".join(sites),
                          fetch_via=f"http://127.0.0.1:{free_port()}")  # nothing listens there: every fetch fails

    async def all_failed() -> bool:
        return await Site.filter(slug__in=sites, consecutive_failures__gte=1).count() == len(sites)

    async def all_fetched() -> bool:
        return await Site.filter(slug__in=sites, last_success__isnull=False).count() == len(sites)

    with running("worker", env=env, log=log), running("scheduler", env=env, log=log):
        await wait_until(all_failed, 60, "every site failing through a mirror that is not there")
    async with TestServer(Replay().app, host="127.0.0.1") as mirror:
        env = {**env, "CONTESTBELL_FETCH_VIA": str(mirror.make_url(""))}
        with running("worker", env=env, log=log), running("scheduler", env=env, log=log):
            await wait_until(all_fetched, 30, "every site fetched at once, not after its backoff")
    assert await Site.filter(slug__in=sites, consecutive_failures=0).count() == len(sites)
    assert "fetch settings changed since the last start: codeforces, leetcode, yukicoder tried at once" in (
        log.read_text())
