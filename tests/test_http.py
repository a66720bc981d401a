"""The shared site HTTP client against a real local aiohttp server (no mocks).

The server stands in for a CONTESTBELL_FETCH_VIA mirror: a request for `https://HOST/PATH?Q` arrives at
it as `/HOST/PATH?Q`. The last path segment picks how it answers; every hit is recorded with the
time.monotonic() at which it arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fetchers.contest import ParseError
from fetchers.http import USER_AGENT, FetchError, HostSpacing, SiteClient, new_session, route_via


@dataclass
class Hit:
    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Mirror:
    """A local server that records every request and answers by the request's last path segment."""

    server: TestServer | None = None
    hits: list[Hit] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def via(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    def count(self, path: str) -> int:
        return sum(1 for hit in self.hits if hit.raw_path.split("?")[0].endswith(path))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.read()
        self.hits.append(Hit(request.method, request.raw_path, dict(request.headers), body, arrived))
        name = request.path.rstrip("/").rsplit("/", 1)[-1]
        seen = Counter(hit.raw_path.split("?")[0] for hit in self.hits)[request.raw_path.split("?")[0]]
        if name == "flaky500" and seen == 1:
            return web.Response(status=500, text="internal error")
        if name == "always503":
            return web.Response(status=503, text="busy")
        if name == "missing":
            return web.Response(status=404, text="not found")
        if name == "slow":
            # longer than the client's timeout; released at teardown so the server closes at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), 2)
            return web.json_response({"late": True})
        if name == "html":
            return web.Response(text="<html><body>Service temporarily unavailable</body></html>",
                                content_type="text/html")
        if name == "echo":
            return web.json_response({"method": request.method,
                                      "content_type": request.headers.get("Content-Type", ""),
                                      "body": json.loads(body) if body else None})
        return web.json_response({"ok": True, "path": request.raw_path})


@pytest.fixture
async def mirror() -> AsyncIterator[Mirror]:
    mirror = Mirror()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", mirror.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    mirror.server = server
    try:
        yield mirror
    finally:
        mirror.release.set()
        await server.close()


@pytest.fixture
async def session():
    async with new_session(timeout=5) as session:
        yield session


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- route_via --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "via", "expected"), [
    ("https://codeforces.com/api/contest.list?gym=false", "http://127.0.0.1:9000",
     "http://127.0.0.1:9000/codeforces.com/api/contest.list?gym=false"),
    ("https://codeforces.com/api/contest.list?gym=false", "http://127.0.0.1:9000/",
     "http://127.0.0.1:9000/codeforces.com/api/contest.list?gym=false"),
    ("https://atcoder.jp/contests/", "http://127.0.0.1:9000",
     "http://127.0.0.1:9000/atcoder.jp/contests/"),
    ("https://atcoder.jp/contests", "http://127.0.0.1:9000/",
     "http://127.0.0.1:9000/atcoder.jp/contests"),
    ("https://atcoder.jp", "http://127.0.0.1:9000", "http://127.0.0.1:9000/atcoder.jp/"),
    ("https://www.luogu.com.cn/contest/list?page=1&_contentOnly=1", "http://mirror.local/replay/",
     "http://mirror.local/replay/www.luogu.com.cn/contest/list?page=1&_contentOnly=1"),
    ("https://leetcode.com/graphql", "http://mirror.local/replay",
     "http://mirror.local/replay/leetcode.com/graphql"),
])
def test_route_via_rewrites_host_path_and_query(url, via, expected):
    assert route_via(url, via) == expected


@pytest.mark.parametrize("via", [None, ""])
def test_route_via_unset_leaves_the_url_alone(via):
    url = "https://codeforces.com/api/contest.list?gym=false"
    assert route_via(url, via) == url


# --- FETCH_VIA over real HTTP -----------------------------------------------------------------------


async def test_request_arrives_at_the_mirror_under_host_path_and_query(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via)
    answer = await client.get_json("https://codeforces.com/api/contest.list?gym=false&lang=en")
    assert answer == {"ok": True, "path": "/codeforces.com/api/contest.list?gym=false&lang=en"}
    assert [hit.raw_path for hit in mirror.hits] == ["/codeforces.com/api/contest.list?gym=false&lang=en"]
    assert mirror.hits[0].method == "GET"


async def test_request_without_query_and_via_without_trailing_slash(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via.rstrip("/"))
    await client.get_text("https://atcoder.jp/contests/")
    await client.get_text("https://atcoder.jp")
    assert [hit.raw_path for hit in mirror.hits] == ["/atcoder.jp/contests/", "/atcoder.jp/"]


async def test_via_with_a_path_prefix_keeps_the_prefix(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via + "replay/")
    await client.get_text("https://www.luogu.com.cn/contest/list?page=1&_contentOnly=1")
    expected = "/replay/www.luogu.com.cn/contest/list?page=1&_contentOnly=1"
    assert [hit.raw_path for hit in mirror.hits] == [expected]


async def test_percent_encoded_query_arrives_unchanged(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via)
    await client.get_text("https://leetcode.com/graphql?query=%7Bcontests%7D&v=a%20b")
    assert [hit.raw_path for hit in mirror.hits] == ["/leetcode.com/graphql?query=%7Bcontests%7D&v=a%20b"]


async def test_without_fetch_via_the_url_is_requested_as_is(mirror, session):
    client = SiteClient(session)
    url = str(mirror.server.make_url("/direct/ok?x=1"))
    assert await client.get_json(url) == {"ok": True, "path": "/direct/ok?x=1"}


async def test_user_agent_and_accept_encoding_arrive(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via)
    await client.get_text("https://codeforces.com/api/contest.list")
    headers = mirror.hits[0].headers
    assert headers["User-Agent"] == USER_AGENT
    assert headers["User-Agent"].startswith("contestbell/")
    assert "gzip" in headers["Accept-Encoding"]


# --- retries and errors -----------------------------------------------------------------------------


async def test_500_is_retried_then_succeeds(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, attempts=3, retry_wait=0.01)
    answer = await client.get_json("https://codeforces.com/api/flaky500")
    assert answer == {"ok": True, "path": "/codeforces.com/api/flaky500"}
    assert mirror.count("/flaky500") == 2


async def test_503_three_times_gives_fetch_error_after_three_attempts(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, attempts=3, retry_wait=0.01)
    with pytest.raises(FetchError, match="HTTP 503"):
        await client.get_json("https://codeforces.com/api/always503")
    assert mirror.count("/always503") == 3


async def test_attempts_setting_is_honoured(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, attempts=1, retry_wait=0.01)
    with pytest.raises(FetchError, match="HTTP 503"):
        await client.get_text("https://codeforces.com/api/always503")
    assert mirror.count("/always503") == 1


async def test_404_is_not_retried(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, attempts=3, retry_wait=0.01)
    with pytest.raises(FetchError, match="HTTP 404") as raised:
        await client.get_json("https://codeforces.com/api/missing")
    assert "https://codeforces.com/api/missing" in str(raised.value)  # the site's URL, not the mirror's
    assert mirror.count("/missing") == 1


async def test_timeout_is_retried_then_fetch_error_says_timed_out(mirror):
    async with new_session(timeout=0.2) as session:
        client = SiteClient(session, fetch_via=mirror.via, attempts=3, retry_wait=0.01)
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out") as raised:
            await client.get_json("https://codechef.com/api/slow")
        elapsed = time.monotonic() - started
    assert "https://codechef.com/api/slow" in str(raised.value)
    assert mirror.count("/slow") == 3
    assert 0.6 <= elapsed < 2.0


async def test_connection_refused_gives_fetch_error(session):
    client = SiteClient(session, fetch_via=f"http://127.0.0.1:{closed_port()}", attempts=2, retry_wait=0.01)
    with pytest.raises(FetchError) as raised:
        await client.get_json("https://codeforces.com/api/contest.list")
    assert "https://codeforces.com/api/contest.list" in str(raised.value)


async def test_non_json_answer_to_get_json_is_a_parse_error_and_not_retried(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, attempts=3, retry_wait=0.01)
    with pytest.raises(ParseError, match="not JSON") as raised:
        await client.get_json("https://codeforces.com/api/html")
    assert "https://codeforces.com/api/html" in str(raised.value)
    assert not isinstance(raised.value, FetchError)
    assert mirror.count("/html") == 1


async def test_get_text_returns_the_body_as_is(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via)
    text = await client.get_text("https://atcoder.jp/contests/html")
    assert text == "<html><body>Service temporarily unavailable</body></html>"


async def test_post_json_sends_a_json_body(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via)
    body = {"query": "{ allContests { title startTime } }", "variables": {"n": 3, "names": ["a", "б"]}}
    answer = await client.post_json("https://leetcode.com/graphql/echo", body)
    assert answer["method"] == "POST"
    assert answer["content_type"].startswith("application/json")
    assert answer["body"] == body
    assert mirror.hits[0].raw_path == "/leetcode.com/graphql/echo"
    assert json.loads(mirror.hits[0].body) == body


async def test_post_json_is_retried_on_5xx(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, attempts=3, retry_wait=0.01)
    assert (await client.post_json("https://leetcode.com/flaky500", {"q": 1}))["ok"] is True
    assert [hit.method for hit in mirror.hits] == ["POST", "POST"]
    assert [json.loads(hit.body) for hit in mirror.hits] == [{"q": 1}, {"q": 1}]


# --- host spacing -----------------------------------------------------------------------------------


async def test_two_requests_to_a_spaced_host_start_at_least_the_gap_apart(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, host_gaps={"codeforces.com": 0.3})
    await asyncio.gather(client.get_text("https://codeforces.com/api/one"),
                         client.get_text("https://codeforces.com/api/two"))
    first, second = sorted(hit.at for hit in mirror.hits)
    # measured where they arrive: a reused keep-alive connection may arrive a hair sooner than a new one
    assert second - first >= 0.3 - 0.005


async def test_sequential_requests_to_a_spaced_host_are_spaced_too(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, host_gaps={"codeforces.com": 0.3})
    await client.get_text("https://codeforces.com/api/one")
    await client.get_text("https://codeforces.com/api/two")
    first, second = (hit.at for hit in mirror.hits)
    assert second - first >= 0.3 - 0.005


async def test_a_host_without_a_gap_is_not_delayed(mirror, session):
    client = SiteClient(session, fetch_via=mirror.via, host_gaps={"codeforces.com": 0.3})
    started = time.monotonic()
    await asyncio.gather(client.get_text("https://codeforces.com/api/one"),
                         client.get_text("https://codeforces.com/api/two"),
                         client.get_text("https://atcoder.jp/contests/a"),
                         client.get_text("https://atcoder.jp/contests/b"))
    atcoder = [hit.at - started for hit in mirror.hits if hit.raw_path.startswith("/atcoder.jp/")]
    codeforces = sorted(h.at - started for h in mirror.hits if h.raw_path.startswith("/codeforces.com/"))
    assert len(atcoder) == 2
    assert max(atcoder) < 0.2  # the codeforces gap is 0.3 s; atcoder must not wait for it
    assert codeforces[1] >= 0.3 - 0.005


async def test_host_spacing_alone():
    spacing = HostSpacing({"codeforces.com": 0.3})
    started = time.monotonic()
    await spacing.wait_turn("codeforces.com")  # the first turn is immediate
    await spacing.wait_turn("atcoder.jp")  # no gap for this host
    await spacing.wait_turn("atcoder.jp")
    assert time.monotonic() - started < 0.1
    await spacing.wait_turn("codeforces.com")
    assert time.monotonic() - started >= 0.3
