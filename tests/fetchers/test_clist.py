"""clist.by upstream: API v1/v2/v4 contest objects, resource -> site mapping (native wins), paging within the rate
limit against a local server, and ingest that fills one site per resource."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fetchers import clist
from fetchers.contest import ParseError
from fetchers.events import LocalBus
from fetchers.health import ensure_sites
from fetchers.http import FetchError, SiteClient, new_session
from fetchers.pipeline import FetchContext, fetch_and_ingest
from fetchers.registry import clist_source, native_sites
from models.contest import Contest, Site
from tests.captures import by_key, capture_json

V1_FILTERED = "clist/api_v1_contest_2020-06-01_api_key_redacted.json"
V1_UNFILTERED = "clist/api_v1_contest_unfiltered_page1_2020-09-13_api_key_redacted.json"
V2_DEC_18 = "clist/api_v2_contest_upcoming_objects_2025-12-18T2230Z_jq_rewrapped.json"
V2_DEC_23 = "clist/api_v2_contest_upcoming_objects_2025-12-23T1428Z_jq_rewrapped.json"
V2_AUG_22 = "clist/api_v2_contest_upcoming_objects_2026-08-22T2011Z_jq_rewrapped.json"
V4_PARTIAL = "_partial/clist/api_v4_contest_PARTIALLY_SYNTHETIC.json"
EVERYTHING = timedelta(days=36500)


def envelope(relative: str) -> dict[str, Any]:
    """The API answer: v1 captures are whole answers; the v2 ones kept only `objects` (re-wrapped by jq as
    `contests`, see SOURCES.md), so they are put back in the API's `meta` + `objects` envelope."""
    payload = capture_json(relative)
    if "objects" in payload:
        return payload
    return {"meta": {"limit": 500, "offset": 0, "next": None, "previous": None}, "objects": payload["contests"]}


def non_native(contests):
    native = set(native_sites())
    return [contest for contest in contests if contest.site not in native]


@pytest.mark.parametrize(("relative", "rows", "parsed"), [
    (V1_FILTERED, 100, 100), (V1_UNFILTERED, 100, 100),
    # "upcoming" on clist means not yet ended: year-long practice rounds are left out
    (V2_DEC_18, 119, 114), (V2_DEC_23, 110, 105), (V2_AUG_22, 128, 123), (V4_PARTIAL, 5, 3),
])
def test_every_capture_parses(relative, rows, parsed):
    payload = envelope(relative)
    contests = clist.parse(payload)
    assert (len(payload["objects"]), len(contests)) == (rows, parsed)
    assert all(contest.end - contest.start <= clist.MAX_DURATION for contest in contests)
    assert len({contest.key for contest in contests}) == parsed


def test_v2_values_and_sites():
    contests = by_key(clist.parse(envelope(V2_DEC_23)))
    round_1071 = contests["63828955"]
    assert round_1071.site == "codeforces"  # native: left to our own Codeforces fetcher
    assert round_1071.title == "Codeforces Round 1071 (Div. 3)"
    assert round_1071.start == datetime(2025, 12, 23, 14, 35, tzinfo=UTC)
    santa = contests["63356162"]
    assert (santa.site, santa.title, santa.url) == (
        "kaggle", "Santa 2025 - Christmas Tree Packing Challenge [optimization, holidays and cultural events, "
        "custom metric]", "https://www.kaggle.com/competitions/santa-2025")
    assert (santa.start, santa.end) == (datetime(2025, 11, 17, 18, 25, 29, tzinfo=UTC),
                                        datetime(2026, 1, 30, 23, 59, tzinfo=UTC))
    assert santa.details == {"resource": "kaggle.com"}
    assert "39813412" not in contests  # "HOT • Practice", 2019-2025: not a contest anyone is reminded of


def test_v1_resource_objects_and_times_without_offset_are_utc():
    contests = by_key(clist.parse(envelope(V1_FILTERED)))
    gsu = contests["19619827"]
    assert (gsu.site, gsu.title, gsu.url) == (
        "dl-gsu", "Программирование - профессионалы (лич. 2019-2020)", "http://dl.gsu.by/LC.jsp?Type=-1&lng=ru")
    assert (gsu.start, gsu.end, gsu.duration) == (datetime(2020, 7, 26, 5, tzinfo=UTC),
                                                  datetime(2020, 7, 26, 11, tzinfo=UTC), 21600)
    assert contests["19219699"].site == "codechef"


def test_the_same_contest_has_the_same_fields_in_v1_and_v2_shapes():
    v2_row = envelope(V2_DEC_23)["objects"][0]
    v1_row = {**v2_row, "resource": {"id": v2_row["resource_id"], "name": v2_row["resource"]}}
    assert clist.parse({"objects": [v1_row]}) == clist.parse({"objects": [v2_row]})


@pytest.mark.parametrize(("resource", "slug", "name"), [
    ("kaggle.com", "kaggle", "Kaggle"), ("toph.co", "toph", "Toph"), ("open.kattis.com", "open-kattis", "Kattis"),
    ("ucup.ac", "ucup", "Universal Cup"), ("challenge.ucup.ac", "challenge-ucup", "Universal Cup Challenge"),
    ("hsin.hr/coci", "hsin-coci", "COCI"), ("cups.online", "cups", "Cups Online"),
    ("algotester.com", "algotester", "Algotester"), ("inf-open.ru", "inf-open", "inf-open.ru"),
    ("luogu.com.cn", "luogu", "Luogu"),  # native
    ("codeforces.com", "codeforces", "Codeforces"), ("codeforces.com/gyms", "codeforces-gym", "Codeforces Gym"),
    ("atcoder.jp", "atcoder", "AtCoder"), ("codechef.com", "codechef", "CodeChef"),
    ("leetcode.com", "leetcode", "LeetCode"), ("ac.nowcoder.com", "nowcoder", "NowCoder"),
])
def test_resource_to_site(resource, slug, name):
    site = clist.site_of_resource(resource)
    assert (site.slug, site.name) == (slug, name)
    assert site.source == (None if slug in native_sites() else "clist")


def test_every_native_site_is_recognised_under_its_clist_name():
    for slug, site in native_sites().items():
        assert clist.site_of_resource(site.info.upstream_resource()).slug == slug


def test_hostile_rows_are_skipped_one_by_one():
    good = next(row for row in envelope(V2_DEC_23)["objects"] if row["resource"] == "kaggle.com")
    rows: list[Any] = [good, "x", None, {**good, "id": "1"}, {**good, "id": True}, {**good, "start": 5},
                       {**good, "resource": ""}, {**good, "resource": "a\x00b"}, {**good, "end": "never"},
                       {**good, "id": 2, "event": "   "}, {**good, "id": 3, "resource": "...."}]
    assert [contest.key for contest in clist.parse({"objects": rows})] == [str(good["id"])]


@pytest.mark.parametrize("payload", [[], "x", {}, {"objects": None}, {"meta": {}, "objects": {"a": 1}}])
def test_an_answer_without_objects_is_a_parse_error(payload):
    with pytest.raises(ParseError):
        clist.parse(payload)


@pytest.mark.parametrize("following", [
    "https://evil.example/api/v4/contest/?offset=100", "//evil.example/api/v4/contest/", "/api/v4/account/",
    "http://clist.by/api/v4/contest/?offset=1", 7,
])
def test_paging_never_leaves_the_contest_api(following):
    with pytest.raises(ParseError):
        clist.next_page({"meta": {"next": following}, "objects": []})


class FakeClist:
    """clist's contest API over HTTP: pages of `size` from one real answer, the key checked, and 429 for a
    request that comes sooner than `gap` seconds after the previous one (clist allows 10 a minute)."""

    def __init__(self, objects: list[Any], size: int, gap: float) -> None:
        self.objects, self.size, self.gap = objects, size, gap
        self.asked: list[tuple[float, str]] = []
        self.app = web.Application()
        self.app.router.add_get("/clist.by/api/v4/contest/", self.page)

    async def page(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        too_soon = bool(self.asked) and now - self.asked[-1][0] < self.gap
        self.asked.append((now, request.query_string))
        if request.headers.get("Authorization") != "ApiKey someone:s3cret":
            return web.json_response({"detail": "Authentication credentials were not provided."}, status=401)
        if too_soon:
            return web.json_response({"detail": "Request was throttled."}, status=429)
        offset = int(request.query.get("offset", "0"))
        following = offset + self.size
        next_url = (f"/api/v4/contest/?upcoming=true&order_by=start&limit={self.size}&offset={following}"
                    if following < len(self.objects) else None)
        return web.json_response({"meta": {"limit": self.size, "offset": offset, "next": next_url},
                                  "objects": self.objects[offset:following]})


async def fetch_from(fake: FakeClist, gap: float, key: str = "s3cret"):
    async with TestServer(fake.app, host="127.0.0.1") as server, new_session(5) as session:
        client = SiteClient(session, fetch_via=str(server.make_url("")), host_gaps={"clist.by": gap})
        return await clist_source("someone", key).fetch(client)


async def test_pages_are_followed_within_the_rate_limit():
    objects = envelope(V2_DEC_18)["objects"]
    fake = FakeClist(objects, size=50, gap=0.25)
    contests = await fetch_from(fake, gap=0.3)
    assert len(fake.asked) == 3
    assert [query.split("offset=")[-1] if "offset" in query else "0" for _, query in fake.asked] == ["0", "50", "100"]
    assert "api_key" not in "".join(query for _, query in fake.asked)  # the key travels in a header only
    assert all(later - earlier >= 0.25 for (earlier, _), (later, _) in zip(fake.asked, fake.asked[1:], strict=False))
    assert contests == clist.parse({"objects": objects})


async def test_without_spacing_clist_throttles_and_the_fetch_fails():
    fake = FakeClist(envelope(V2_DEC_18)["objects"], size=50, gap=0.25)
    with pytest.raises(FetchError, match="429"):
        await fetch_from(fake, gap=0.0)


async def test_a_wrong_key_fails_the_fetch():
    with pytest.raises(FetchError, match="401"):
        await fetch_from(FakeClist([], size=50, gap=0), gap=0, key="wrong")


def test_clist_asks_at_most_ten_requests_a_minute():
    assert clist.SITE.request_gap >= 6.0


async def test_ingest_fills_one_site_per_resource_and_leaves_native_sites_alone(db):
    await ensure_sites([clist.SITE])
    objects = envelope(V2_DEC_23)["objects"]
    fake = FakeClist(objects, size=60, gap=0)
    async with TestServer(fake.app, host="127.0.0.1") as server, new_session(5) as session:
        client = SiteClient(session, fetch_via=str(server.make_url("")))
        context = FetchContext(client, LocalBus(), keep_past=EVERYTHING)
        report = await fetch_and_ingest(clist_source("someone", "s3cret"), context)
    expected = non_native(clist.parse({"objects": objects}))
    assert sorted(report.summary()["new"]) == sorted(contest.key for contest in expected)
    assert not await Contest.filter(site_id__in=list(native_sites())).exists()
    kaggle = await Site.get(slug="kaggle")
    assert (kaggle.name, kaggle.url, kaggle.source, kaggle.listed) == ("Kaggle", "https://kaggle.com", "clist", True)
    assert kaggle.last_success is not None and kaggle.consecutive_failures == 0
    assert await Contest.filter(site_id="kaggle").count() == sum(c.site == "kaggle" for c in expected)
    source_row = await Site.get(slug="clist")
    assert source_row.listed is False and source_row.last_success is not None


async def test_a_failed_clist_fetch_marks_every_site_it_fills(db):
    await ensure_sites([clist.SITE])
    fake = FakeClist(envelope(V2_DEC_23)["objects"], size=200, gap=0)
    async with TestServer(fake.app, host="127.0.0.1") as server, new_session(5) as session:
        client = SiteClient(session, fetch_via=str(server.make_url("")), retry_wait=0.01)
        context = FetchContext(client, LocalBus(), keep_past=EVERYTHING)
        await fetch_and_ingest(clist_source("someone", "s3cret"), context)
        with pytest.raises(FetchError):
            await fetch_and_ingest(clist_source("someone", "wrong"), context)
    stale = await Site.filter(source="clist").values_list("consecutive_failures", "last_error")
    assert stale and all(row == (1, "http 401") for row in stale)


async def test_one_resource_shrinking_is_refused_alone(db):
    """Kaggle suddenly listing none of its 12 upcoming competitions is refused for Kaggle only; the rest of the
    answer is ingested."""
    await ensure_sites([clist.SITE])
    objects = envelope(V2_DEC_23)["objects"]
    without_kaggle = [row for row in objects if row["resource"] != "kaggle.com"]
    later = copy.deepcopy(without_kaggle)
    kept = {contest.key for contest in clist.parse({"objects": later})}
    cups = next(row for row in later if row["resource"] == "cups.online" and str(row["id"]) in kept)
    cups["event"] += " (renamed)"
    fake = FakeClist(objects, size=200, gap=0)
    async with TestServer(fake.app, host="127.0.0.1") as server, new_session(5) as session:
        client = SiteClient(session, fetch_via=str(server.make_url("")))
        context = FetchContext(client, LocalBus(), keep_past=EVERYTHING)
        await fetch_and_ingest(clist_source("someone", "s3cret"), context)
        await Contest.filter(site_id="kaggle").update(start=datetime(2099, 1, 1, tzinfo=UTC))  # all upcoming
        fake.objects = later
        report = await fetch_and_ingest(clist_source("someone", "s3cret"), context)
    kaggle = await Site.get(slug="kaggle")
    assert kaggle.consecutive_failures == 1 and kaggle.last_error == "too few contests"
    assert not await Contest.filter(site_id="kaggle", misses__gt=0).exists()
    assert report.summary()["renamed"] == [str(cups["id"])]
    assert (await Site.get(slug="cups")).consecutive_failures == 0


def test_parse_command_prints_every_contest_with_its_site(tmp_path, capsys):
    from contestbell.cli import main

    saved = tmp_path / "clist.json"
    saved.write_text(json.dumps(envelope(V2_DEC_23)), encoding="utf-8")
    assert main(["parse", "clist", str(saved)]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(printed) == 105
    sites = {row["site"] for row in printed}
    assert {"codeforces", "atcoder", "kaggle", "ucup", "hsin-coci"} <= sites
    round_1071 = next(row for row in printed if row["key"] == "63828955")
    assert (round_1071["site"], round_1071["start"]) == ("codeforces", "2025-12-23T14:35:00Z")
