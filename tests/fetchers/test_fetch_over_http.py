"""Every site's fetch() over real HTTP: the shared client asks the site's real address (sent to the replay
server by CONTESTBELL_FETCH_VIA) and gets what parse() makes of the capture served there."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestServer

from fetchers.contest import load_json
from fetchers.http import SiteClient, new_session
from fetchers.registry import all_sites
from tests.captures import capture
from tests.replay import ROUTES, Replay

ROUTE_OF_SITE = {
    "atcoder": "atcoder.jp/contests/?lang=en",
    "codechef": "www.codechef.com/api/list/contests/all?sort_by=START&sorting_order=asc&offset=0&mode=all",
    "codeforces": "codeforces.com/api/contest.list",
    "codeforces-gym": "codeforces.com/api/contest.list?gym=true",
    "ctftime": "ctftime.org/api/v1/events/",
    "dmoj": "dmoj.ca/api/v2/contests",
    "hackerearth": "www.hackerearth.com/chrome-extension/events/",
    "hackerrank": "www.hackerrank.com/calendar/cal.ics",
    "leetcode": "leetcode.com/graphql",
    "luogu": "www.luogu.com.cn/contest/list?page=1",
    "nowcoder": "ac.nowcoder.com/acm/contest/vip-index",
    "topcoder": "www.hackerrank.com/calendar/cal.ics",
    "yukicoder": "yukicoder.me/api/v1/contest/future",
}


def test_every_site_has_a_route():
    assert sorted(ROUTE_OF_SITE) == sorted(all_sites())


@pytest.mark.parametrize("slug", sorted(ROUTE_OF_SITE))
async def test_fetch_asks_the_site_address_and_parses_the_answer(slug):
    site = all_sites()[slug]
    route = ROUTE_OF_SITE[slug]
    text = capture(ROUTES[route][0]).read_text(encoding="utf-8")
    expected = site.parse(load_json(text, route) if site.info.response == "json" else text)
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror, new_session(timeout=5) as session:
        fetched = await site.fetch(SiteClient(session, fetch_via=str(mirror.make_url(""))))
    assert fetched == expected and len(fetched) > 0
    assert dict(replay.hits) == {route: 1}


async def test_leetcode_posts_the_upcoming_contests_query():
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror, new_session(timeout=5) as session:
        await all_sites()["leetcode"].fetch(SiteClient(session, fetch_via=str(mirror.make_url(""))))
    body = json.loads(replay.bodies["leetcode.com/graphql"])
    assert "upcomingContests" in body["query"]
    assert all(field in body["query"] for field in ("title", "titleSlug", "startTime", "duration"))
