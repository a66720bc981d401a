"""The JSON API over HTTP against the real app and database: every filter of /api/v1/contests and every error
(each names its parameter), cursor paging through everything, /api/v1/sites with fetch health, CORS, ETag and
304, gzip, and the answer cache: kept for a moment, dropped at once when a change comes over the event bus."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from fetchers.contest import Contest as Fetched
from fetchers.events import CHANNEL, EventBus, LocalBus, RedisBus
from fetchers.health import record_failure, record_success
from fetchers.ingest import ingest
from models.catalog import listed_slugs
from models.contest import ChangeKind, Contest, ContestChange, Site
from models.selection import POPULAR_SITES
from tests.catalog import UNLISTED, fill_catalog
from tests.processes import wait_until
from web.api import CACHE, CACHE_TTL
from web.app import make_web_app
from web.keys import BUS

pytestmark = pytest.mark.db

NOW = datetime.now(UTC).replace(microsecond=0)
FIELDS = {"id", "site", "site_name", "key", "title", "url", "start", "end", "duration", "kind"}


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(bus=LocalBus()), host="127.0.0.1")) as client:
        yield client


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def add(site: str, key: str, title: str, start: datetime, minutes: int = 120, **fields) -> Contest:
    return await Contest.create(site_id=site, key=key, title=title, url=f"https://example.org/{site}/{key}",
                                start=start, end=start + timedelta(minutes=minutes), duration=minutes * 60, **fields)


async def announced(bus: EventBus, contest: Contest) -> None:
    """What ingest does for a new contest: the change row (in the stream), then the bus rings."""
    await ContestChange.create(contest=contest, kind=ChangeKind.NEW, noticed_at=datetime.now(UTC))
    await bus.wake()


@pytest.fixture
async def calendar(db) -> dict[str, Contest]:
    """A past, a running and several future contests; two pairs start at the same moment."""
    tie = NOW + timedelta(days=2)
    return {
        "past": await add("codeforces", "1", "Codeforces Round 1 (Div. 2)", NOW - timedelta(days=3)),
        "running": await add("atcoder", "abc400", "AtCoder Beginner Contest 400", NOW - timedelta(minutes=30)),
        "soon": await add("leetcode", "weekly-500", "Weekly Contest 500", NOW + timedelta(hours=5), 90,
                          kind="weekly"),
        "tie_cf_b": await add("codeforces", "b", "Educational Codeforces Round 180", tie),
        "tie_cf_a": await add("codeforces", "a", "Codeforces Round 1001 (DIV. 1)", tie),
        "tie_ac": await add("atcoder", "arc200", "AtCoder Regular Contest 200", tie),
        "later": await add("codechef", "START200", "Starters 200 (100% rated)", NOW + timedelta(days=9)),
        "cancelled": await add("codeforces", "gone", "Codeforces Round 999", NOW + timedelta(days=1),
                               cancelled=True),
    }


async def listed(client: TestClient, **params) -> list[str]:
    """The keys /api/v1/contests lists for these parameters (lists become repeated parameters)."""
    page = await get_json(client, "/api/v1/contests", params)
    return [contest["key"] for contest in page["contests"]]


async def get_json(client: TestClient, path: str, params: dict | None = None, status: int = 200) -> dict:
    response = await client.get(path + "?" + urlencode(params or {}, doseq=True))
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def rejected(client: TestClient, parameter: str, query: str) -> str:
    """A 400 that names `parameter`; returns its message."""
    response = await client.get("/api/v1/contests?" + query)
    assert response.status == 400, (query, await response.text())
    error = (await response.json())["error"]
    assert error["parameter"] == parameter, (query, error)
    assert error["message"] and "Traceback" not in error["message"]
    return error["message"]


async def test_contests_are_listed_by_start_then_site_then_key_and_cancelled_ones_are_left_out(client, calendar):
    page = await get_json(client, "/api/v1/contests")
    assert [c["key"] for c in page["contests"]] == ["1", "abc400", "weekly-500", "arc200", "a", "b", "START200"]
    assert page["next_cursor"] is None
    soon = next(c for c in page["contests"] if c["key"] == "weekly-500")
    contest = calendar["soon"]
    assert soon == {
        "id": contest.id, "site": "leetcode", "site_name": "LeetCode", "key": "weekly-500",
        "title": "Weekly Contest 500", "url": "https://example.org/leetcode/weekly-500",
        "start": z(contest.start), "end": z(contest.start + timedelta(minutes=90)), "duration": 5400,
        "kind": "weekly",
    }
    assert all(set(c) == FIELDS and c["start"].endswith("Z") for c in page["contests"])


async def test_site_is_repeatable(client, calendar):
    assert await listed(client, site="codeforces") == ["1", "a", "b"]
    assert await listed(client, site=["codechef", "atcoder"]) == ["abc400", "arc200", "START200"]


async def test_an_unknown_site_is_an_error_pointing_to_the_site_list(client, calendar):
    await fill_catalog(60)
    message = await rejected(client, "site", "site=codeforces&site=nosuchjudge")
    assert message == "unknown site nosuchjudge; /api/v1/sites lists the sites, ?q= searches them"
    message = await rejected(client, "site", "site=codeforce")
    assert "did you mean codeforces?" in message
    await rejected(client, "site", "site=")
    await rejected(client, "site", f"site={UNLISTED}")  # a source's health row, not a site


async def test_a_site_found_through_clist_is_a_site_like_any_other(client, calendar):
    await fill_catalog(60)
    await add("toph", "t1", "Toph Round", NOW + timedelta(hours=3))
    assert await listed(client, site=["toph", "leetcode"]) == ["t1", "weekly-500"]
    page = await get_json(client, "/api/v1/contests", {"site": "toph"})
    assert page["contests"][0]["site_name"] == "toph"


async def test_from_and_to_take_any_zone_and_compare_in_utc(client, calendar):
    tie = calendar["tie_ac"].start
    moscow = (tie + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+03:00")  # the same moment as `tie`
    assert await listed(client, **{"from": moscow}) == ["arc200", "a", "b", "START200"]
    assert await listed(client, to=moscow) == ["1", "abc400", "weekly-500"]
    assert await listed(client, **{"from": z(NOW), "to": z(tie + timedelta(seconds=1))}) == [
        "weekly-500", "arc200", "a", "b"]


@pytest.mark.parametrize(("parameter", "value"), [
    ("from", "2026-11-23T10:00:00"), ("from", "2026-11-23"), ("from", "yesterday"), ("from", ""),
    ("to", "2026-13-01T00:00:00Z"), ("to", "10:00Z"), ("from", "0001-01-01T00:30:00+01:00"),
])
async def test_naive_or_invalid_times_are_errors(client, calendar, parameter, value):
    message = await rejected(client, parameter, urlencode({parameter: value}))
    assert parameter in message


async def test_to_must_be_after_from(client, calendar):
    assert "later than" in await rejected(client, "to", "from=2026-11-23T10:00:00Z&to=2026-11-23T13:00:00%2B03:00")
    await rejected(client, "to", "from=2026-11-23T10:00:00Z&to=2026-11-23T09:00:00Z")


async def test_q_matches_titles_loosely_as_keywords_do(client, calendar):
    """Case, spaces and punctuation do not count (models.contest.title_key), as in the bot's /filter."""
    for typed in ("div. 1", "div1", "DIV-1", "Div 1"):
        assert await listed(client, q=typed) == ["a"], typed
    assert await listed(client, q="ROUND") == ["1", "a", "b"]
    assert await listed(client, q="100%") == ["a", "START200"]  # % is no wildcard: "100" in "1001" and "100%"
    assert await listed(client, q="starters 200 100") == ["START200"]
    assert await listed(client, q="_") == []  # no letter or digit: no title has it
    assert await listed(client, q="\x85") == []  # no space to JSON Schema's regular expressions: a character
    assert await listed(client, q="round", site="codeforces", **{"from": z(NOW)}) == ["a", "b"]


@pytest.mark.parametrize("value", ["", "   ", "x" * 101, "a\x00b", "\x00", "tab\there", "\x1dround", "round\x1f",
                                   "\ufeff", " \u3000 "])
async def test_q_must_be_1_to_100_printable_characters(client, calendar, value):
    await rejected(client, "q", urlencode({"q": value}))


async def test_upcoming_keeps_contests_not_yet_ended_running_ones_included(client, calendar):
    for value in ("1", "true"):
        assert await listed(client, upcoming=value) == ["abc400", "weekly-500", "arc200", "a", "b", "START200"]
    for value in ("0", "false"):
        assert "1" in await listed(client, upcoming=value)
    await rejected(client, "upcoming", "upcoming=yes")


async def test_limit_bounds(client, calendar):
    assert await listed(client, limit="2") == ["1", "abc400"]
    assert len(await listed(client, limit="500")) == 7
    for value in ("0", "501", "-1", "ten", "2.5", "1_0", " 3", ""):
        assert "1 to 500" in await rejected(client, "limit", urlencode({"limit": value}))


async def test_a_parameter_given_twice_is_an_error_and_unknown_ones_are_ignored(client, calendar):
    for parameter in ("from", "to", "q", "upcoming", "limit", "cursor"):
        await rejected(client, parameter, f"{parameter}=1&{parameter}=2")
    assert await listed(client, sort="title", format="xml", site="leetcode") == ["weekly-500"]


async def test_paging_with_the_cursor_visits_every_contest_once_in_order(client, db):
    start = NOW + timedelta(days=1)
    sites = ["atcoder", "codechef", "codeforces", "leetcode"]
    for i in range(103):  # many contests share a start: the cursor must order by site and key too
        await add(sites[i % 4], f"k{i:03}", f"Round {i}", start + timedelta(hours=i // 10))
    everything = await listed(client, limit="500")
    assert len(everything) == 103
    for limit, params in ((7, {}), (1, {}), (10, {"site": ["codeforces", "atcoder"], "q": "round"})):
        seen, cursor = [], None
        while True:
            query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
            page = await get_json(client, "/api/v1/contests", query)
            assert len(page["contests"]) <= limit
            seen += [c["key"] for c in page["contests"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        expected = await listed(client, limit="500", **params)
        assert seen == expected and len(set(seen)) == len(seen), limit
    assert len(expected) == 52


async def test_a_page_of_exactly_the_rest_has_no_next_cursor(client, calendar):
    page = await get_json(client, "/api/v1/contests", {"limit": "4"})
    rest = await get_json(client, "/api/v1/contests", {"limit": "3", "cursor": page["next_cursor"]})
    assert [c["key"] for c in rest["contests"]] == ["a", "b", "START200"] and rest["next_cursor"] is None


@pytest.mark.parametrize("cursor", [
    "garbage!", "", base64.urlsafe_b64encode(b'{"a":1}').decode(), base64.urlsafe_b64encode(b'[1,2,3]').decode(),
    base64.urlsafe_b64encode(b'["2026-11-23T10:00:00","codeforces","1"]').decode(),  # no zone
    base64.urlsafe_b64encode(b'\xff\xfe').decode(),
    base64.urlsafe_b64encode(b'["2026-11-23T10:00:00Z","code\\u0000forces","1"]').decode(),  # NUL: PostgreSQL
    base64.urlsafe_b64encode(b'["9999-12-31T23:59:59-05:00","codeforces","1"]').decode(),  # past year 9999 in UTC
])
async def test_an_invalid_cursor_is_an_error(client, calendar, cursor):
    await rejected(client, "cursor", urlencode({"cursor": cursor}))


async def test_sites_with_interval_and_fetch_health(client, db):
    await record_success("codeforces", NOW)
    await record_failure("atcoder", NOW, "timeout")  # never fetched successfully: stale too
    sites = {site["slug"]: site for site in (await get_json(client, "/api/v1/sites"))["sites"]}
    assert list(sites) == await listed_slugs()
    assert sites["codeforces"] == {
        "slug": "codeforces", "name": "Codeforces", "url": "https://codeforces.com", "popular": True, "source": None,
        "fetch_interval": 600,
        "health": {"ok": True, "stale": False, "last_try": z(NOW), "last_success": z(NOW),
                   "consecutive_failures": 0, "last_error": None},
    }
    health = sites["atcoder"]["health"]
    assert (health["ok"], health["stale"], health["consecutive_failures"], health["last_error"]) == (
        False, True, 1, "timeout")


async def test_sixty_sites_popular_first_then_a_to_z_with_their_source(client, db):
    await fill_catalog(60)
    await Site.filter(slug="kaggle").update(name="kaggle")  # lower case sorts among the others
    sites = (await get_json(client, "/api/v1/sites"))["sites"]
    assert len(sites) == 60 and UNLISTED not in [site["slug"] for site in sites]
    assert [site["slug"] for site in sites[:4]] == list(POPULAR_SITES)
    assert all(site["popular"] for site in sites[:4]) and not any(site["popular"] for site in sites[4:])
    names = [site["name"] for site in sites[4:]]
    assert names == sorted(names, key=str.casefold) and names != sorted(names)
    by_slug = {site["slug"]: site for site in sites}
    assert by_slug["kaggle"]["source"] == "clist" and by_slug["ucup-ical"]["source"] is None
    assert set(by_slug["toph"]) == {"slug", "name", "url", "popular", "source", "fetch_interval", "health"}


@pytest.mark.parametrize(("search", "slugs"), [
    ("CHARLIE", ["charlie-cup", "charlie-judge"]),  # any case, in listing order
    ("universal", ["cups"]),  # the name
    ("ucup-ical", ["ucup-ical"]),  # the slug
    ("  codeforces ", ["codeforces", "codeforces-gym"]),  # popular first; spaces around do not count
    ("nothing-like-this", []),
])
async def test_sites_are_searched_by_slug_and_name(client, db, search, slugs):
    await fill_catalog(60)
    found = (await get_json(client, "/api/v1/sites", {"q": search}))["sites"]
    assert [site["slug"] for site in found] == slugs


@pytest.mark.parametrize("query", ["q=", "q=%20%20", "q=a%00b", "q=%1Dcup", "q=" + "x" * 101, "q=a&q=b"])
async def test_a_bad_site_search_is_an_error(client, db, query):
    response = await client.get("/api/v1/sites?" + query)
    assert response.status == 400 and (await response.json())["error"]["parameter"] == "q"


@pytest.mark.parametrize("path", ["/api/v1/contests", "/api/v1/sites", "/api/v1/openapi.json"])
async def test_any_origin_may_read_every_endpoint(client, calendar, path):
    response = await client.get(path, headers={"Origin": "https://elsewhere.example"})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = await client.options(path, headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "if-none-match" in preflight.headers["Access-Control-Allow-Headers"].lower()
    head = await client.head(path)
    assert head.status == 200 and head.headers["Access-Control-Allow-Origin"] == "*"


async def test_errors_are_readable_from_other_origins_too(client, calendar):
    response = await client.get("/api/v1/contests?limit=0", headers={"Origin": "https://elsewhere.example"})
    assert response.status == 400 and response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/api/v1/contests?upcoming=1", "/api/v1/sites", "/api/v1/openapi.json"])
async def test_if_none_match_with_the_etag_is_304(client, calendar, path):
    first = await client.get(path)
    etag = first.headers["ETag"]
    assert first.status == 200 and etag.startswith('"')
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag and await again.read() == b""
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    assert (await client.get(path, headers={"If-None-Match": '"something-else"'})).status == 200


async def test_the_etag_changes_with_the_content(client, calendar):
    first = (await client.get("/api/v1/contests")).headers["ETag"]
    other_query = (await client.get("/api/v1/contests?site=codeforces")).headers["ETag"]
    await announced(client.app[BUS], await add("luogu", "new", "Luogu Monthly", NOW + timedelta(days=4)))
    await asyncio.sleep(0.05)  # the cache hears the event
    changed = await client.get("/api/v1/contests", headers={"If-None-Match": first})
    assert changed.status == 200 and changed.headers["ETag"] not in (first, other_query)


async def test_large_answers_are_gzipped_when_asked(client, db):
    for i in range(30):
        await add("codeforces", str(i), f"Codeforces Round {i}", NOW + timedelta(hours=i))
    zipped = await client.get("/api/v1/contests", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert len((await zipped.json())["contests"]) == 30  # the client unzips it
    plain = await client.get("/api/v1/contests", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.headers["ETag"] == zipped.headers["ETag"]


async def test_answers_are_kept_until_a_change_event_drops_them(client, calendar):
    client.app[CACHE].ttl = 60  # only the event can make the change visible in this test
    assert "new" not in await listed(client, site="luogu")
    contest = await add("luogu", "new", "Luogu Monthly", NOW + timedelta(days=4))
    assert "new" not in await listed(client, site="luogu")  # kept: the database was not asked again
    await announced(client.app[BUS], contest)
    await asyncio.sleep(0.05)
    assert await listed(client, site="luogu") == ["new"]


async def test_an_ingest_shows_in_the_api_at_once(client, calendar):
    """What the pipeline does after a fetch (ingest, then ring the bus) reaches the API."""
    client.app[CACHE].ttl = 60
    before = await get_json(client, "/api/v1/contests", {"site": "leetcode"})
    moved = NOW + timedelta(days=6)
    fetched = [Fetched("leetcode", "weekly-500", "Weekly Contest 500", "https://leetcode.com/contest/weekly-500",
                       moved, 5400, "weekly"),
               Fetched("leetcode", "biweekly-170", "Biweekly Contest 170", "https://leetcode.com/b170",
                       NOW + timedelta(days=5), 5400)]
    await ingest("leetcode", fetched, datetime.now(UTC))
    await client.app[BUS].wake()

    async def after_ingest() -> list[tuple[str, str]]:
        page = await get_json(client, "/api/v1/contests", {"site": "leetcode"})
        return [(c["key"], c["start"]) for c in page["contests"]]

    await asyncio.sleep(0.05)
    assert await after_ingest() == [("biweekly-170", z(NOW + timedelta(days=5))), ("weekly-500", z(moved))]
    assert before["contests"][0]["start"] != z(moved)


async def test_without_events_answers_are_at_most_the_ttl_old(client, calendar):
    client.app[CACHE].ttl = 0.3
    assert await listed(client, site="luogu") == []
    await add("luogu", "quiet", "Luogu Quiet Round", NOW + timedelta(days=4))
    await asyncio.sleep(0.35)
    assert await listed(client, site="luogu") == ["quiet"]
    assert CACHE_TTL <= 1  # the bound the docstring promises for the real setting


async def test_changes_over_redis_clear_the_cache_of_a_web_process(db, redis_url, calendar):
    listener, redis = RedisBus(redis_url), aioredis.Redis.from_url(redis_url)

    async def subscribed() -> bool:  # the web app subscribes in the background right after it starts
        return dict(await redis.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0) > 0

    worker = RedisBus(redis_url)  # another process's bus, say a taskiq worker's
    try:
        async with TestClient(TestServer(make_web_app(bus=listener), host="127.0.0.1")) as client:
            client.app[CACHE].ttl = 60
            await wait_until(subscribed, 5, "the web app to subscribe")
            assert await listed(client, site="luogu") == []
            contest = await add("luogu", "redis", "Luogu Redis Round", NOW + timedelta(days=4))
            assert await listed(client, site="luogu") == []
            await announced(worker, contest)

            async def heard() -> bool:
                return await listed(client, site="luogu") == ["redis"]

            await wait_until(heard, 1, "the change to reach the API")
    finally:
        await worker.close()
        await listener.close()
        await redis.aclose()
