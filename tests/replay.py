"""A local stand-in for the contest sites: serves the real captures over HTTP for CONTESTBELL_FETCH_VIA.

A request for `https://HOST/PATH?Q` arrives here as `/HOST/PATH?Q`. Each site answers with one capture;
a test can make a site fail (`500`), hang past the client's timeout (`slow`) or answer an HTML error
page (`garbage`). Run it by hand: `python -m tests.replay --port 8099`, then
`CONTESTBELL_FETCH_VIA=http://127.0.0.1:8099 contestbell fetch`. The captures are months or years old; with
`--shift` every time in each one moves by the same number of days, so that its newest contest starts tomorrow.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from typing import Literal

from aiohttp import web

from tests.capture_times import shifted_captures
from tests.captures import capture

#: what each site's endpoint answers: `HOST/PATH?QUERY` (as the site is asked) -> capture, content type
ROUTES: dict[str, tuple[str, str]] = {
    "codeforces.com/api/contest.list": ("codeforces/contest_list_trimmed_2026-10-06.json", "application/json"),
    "codeforces.com/api/contest.list?gym=true": ("codeforces/contest_list_gym_2023-09-03T1024Z.json",
                                                 "application/json"),
    "atcoder.jp/contests/?lang=en": ("atcoder/contests_page_en_2026-06.html", "text/html"),
    "leetcode.com/graphql": ("leetcode/graphql_upcomingContests_2026-10.json", "application/json"),
    "www.codechef.com/api/list/contests/all?sort_by=START&sorting_order=asc&offset=0&mode=all": (
        "codechef/list_contests_all_2025-10-25.json", "application/json"),
    "www.hackerearth.com/chrome-extension/events/": ("hackerearth/chrome_extension_events_2026-10.json",
                                                     "application/json"),
    "www.hackerrank.com/calendar/cal.ics": ("hackerrank/calendar_cal_ics_2018-06-04.ics", "text/calendar"),
    "www.luogu.com.cn/contest/list?page=1": ("luogu/contest_list_page_2026-06.html", "text/html"),
    "ac.nowcoder.com/acm/contest/vip-index": ("nowcoder/contest_vip_index_2026-06.html", "text/html"),
    "yukicoder.me/api/v1/contest/future": ("yukicoder/contest_future_2021-09-28_body.json", "application/json"),
    # no v2 capture exists: the v1 list is served at the v2 address (dmoj.parse reads both; v1 has no more pages)
    "dmoj.ca/api/v2/contests": ("dmoj/api_v1_contest_list_2020-04-24.json", "application/json"),
    "ctftime.org/api/v1/events/": ("ctftime/events_2018-12-10_two_upcoming.json", "application/json"),
}
#: routes matched by `HOST/PATH` whatever their query (CTFtime's time window, DMOJ's page number)
ANY_QUERY = frozenset({"dmoj.ca/api/v2/contests", "ctftime.org/api/v1/events/"})

Fault = Literal["500", "slow", "garbage"]
GARBAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


class Replay:
    """The replay app plus its knobs: which routes misbehave, and how often each route was asked."""

    def __init__(self, slow_seconds: float = 30.0, shift: bool = False) -> None:
        self.faults: dict[str, Fault] = {}
        self.hits: Counter[str] = Counter()
        self.bodies: dict[str, bytes] = {}
        self.slow_seconds = slow_seconds
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.answer)
        self.files = {route: capture(name) for route, (name, _) in ROUTES.items()}  # skips without captures
        #: with `shift`, each capture moved in time so that its newest contest starts tomorrow (tests/capture_times.py)
        self.shifted = shifted_captures(self.files) if shift else {}

    def break_route(self, route: str, fault: Fault) -> None:
        if route not in ROUTES:
            raise KeyError(route)
        self.faults[route] = fault

    async def answer(self, request: web.Request) -> web.StreamResponse:
        route = request.path_qs.lstrip("/")
        if route not in ROUTES and request.path.lstrip("/") in ANY_QUERY:
            route = request.path.lstrip("/")
        self.hits[route] += 1
        self.bodies[route] = await request.read()
        if route not in ROUTES:
            return web.Response(status=404, text=f"no capture for {route}")
        fault = self.faults.get(route)
        if fault == "500":
            return web.Response(status=500, text="Internal Server Error")
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        if fault == "garbage":
            return web.Response(text=GARBAGE, content_type="text/html")
        content_type = ROUTES[route][1]
        body = self.shifted.get(route) or self.files[route].read_bytes()
        return web.Response(body=body, content_type=content_type, charset="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--shift", action="store_true",
                        help="move each capture's times so that its newest contest starts tomorrow")
    args = parser.parse_args()
    web.run_app(Replay(shift=args.shift).app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
