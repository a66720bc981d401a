"""The operator's sources end to end over HTTP: `contestbell scheduler` and `contestbell worker` (taskiq on Redis)
with clist.by credentials and an iCalendar feed listed, against the replay server (the native sites' captures, clist's
real contest objects in its API envelope, and a feed written for today's clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fetchers import clist
from fetchers.registry import native_sites
from models.contest import Contest, Site
from tests.calendars import club_calendar
from tests.captures import capture_json
from tests.processes import contestbell_env, running, wait_until
from tests.replay import Replay

CLIST_CAPTURE = "clist/api_v2_contest_upcoming_objects_2026-08-22T2011Z_jq_rewrapped.json"
FEED = "https://calendar.example.org/club/contests.ics"


def mirror_app(replay: Replay, feed_text: str) -> tuple[web.Application, list[str | None]]:
    """The replay server, plus clist's contest API (the captured objects in the API's envelope, one page) and the
    club's feed; and the Authorization headers clist was asked with."""
    objects = capture_json(CLIST_CAPTURE)["contests"]
    asked: list[str | None] = []

    async def clist_page(request: web.Request) -> web.Response:
        asked.append(request.headers.get("Authorization"))
        return web.json_response({"meta": {"limit": 500, "offset": 0, "next": None}, "objects": objects})

    async def feed(request: web.Request) -> web.Response:
        return web.Response(text=feed_text, content_type="text/calendar")

    app = web.Application()
    app.router.add_get("/clist.by/api/v4/contest/", clist_page)
    app.router.add_get("/calendar.example.org/club/contests.ics", feed)
    app.router.add_route("*", "/{tail:.*}", replay.answer)
    return app, asked


@pytest.mark.split
async def test_clist_and_a_feed_become_sites_next_to_the_native_ones(db, redis_url, tmp_path):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    app, clist_asked = mirror_app(Replay(), club_calendar(today + timedelta(days=20), today + timedelta(days=2)))
    expected_clist = [contest for contest in clist.parse({"objects": capture_json(CLIST_CAPTURE)["contests"]})
                      if contest.site not in native_sites()]
    async with TestServer(app, host="127.0.0.1") as mirror:
        env = contestbell_env(database_url=db, redis_url=redis_url, fetch_via=str(mirror.make_url("")),
                              keep_past_days="36500", fetch_timeout="5", clist_username="someone",
                              clist_api_key="s3cret", ical_sources=f"club|Club contests|{FEED}")
        log = tmp_path / "processes.log"

        async def sources_fetched() -> bool:
            return await Site.filter(slug__in=["clist", "club"], last_success__isnull=False).count() == 2

        with running("worker", env=env, log=log), running("scheduler", env=env, log=log):
            await wait_until(sources_fetched, 60, "clist and the feed fetched once")

    assert clist_asked == ["ApiKey someone:s3cret"]
    club = await Site.get(slug="club")
    assert (club.name, club.source, club.listed, club.consecutive_failures) == ("Club contests", None, True, 0)
    assert await Contest.filter(site_id="club").count() == 11
    for slug in {contest.site for contest in expected_clist}:
        site = await Site.get(slug=slug)
        assert (site.source, site.listed, site.consecutive_failures) == ("clist", True, 0), slug
        assert await Contest.filter(site_id=slug).count() == sum(c.site == slug for c in expected_clist), slug
    assert (await Site.get(slug="kaggle")).name == "Kaggle"
    clist_keys = {contest.key for contest in clist.parse({"objects": capture_json(CLIST_CAPTURE)["contests"]})}
    native_keys = await Contest.filter(site_id__in=list(native_sites())).values_list("key", flat=True)
    assert not clist_keys & set(native_keys)  # native wins: clist's copies of native contests are not stored
    assert (await Site.get(slug="clist")).listed is False
