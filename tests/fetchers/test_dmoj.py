"""DMOJ contest lists: the three real v1 captures (2020), a v2 envelope written by hand from their rows, paging,
and what ingest makes of contests added, removed and published late between the captures.

Ingest tests run on PostgreSQL and on SQLite (CONTESTBELL_TEST_DB), as two pytest runs.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fetchers import dmoj
from fetchers.contest import Contest as Fetched
from fetchers.contest import ParseError, load_json
from fetchers.http import SiteClient, new_session
from fetchers.ingest import ingest
from models.contest import ChangeKind, Contest, ContestChange
from tests.captures import by_key, capture_json, capture_text

V1 = "dmoj/api_v1_contest_list_{}.json"
MARCH_23, MARCH_24, APRIL_24 = (V1.format(day) for day in ("2020-03-23", "2020-03-24", "2020-04-24"))
LATE_PUBLISHED = ["dmpg19d1", "dmpg19d2", "dmpg19d3"]


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parsed(name: str) -> dict[str, Fetched]:
    return by_key(dmoj.parse(capture_json(name)))


# Whole-capture figures: the sum of all durations pins every row's start and end at once.
@pytest.mark.parametrize(("name", "count", "last_keys", "total_seconds", "with_time_limit", "last_end"), [
    (MARCH_23, 245, ["dmopc19c5", "dmopc19c6", "pib20"], 80101579, 168, at(2020, 3, 30, 3, 59)),
    (MARCH_24, 246, ["dmopc19c5", "dmopc19c6", "pib20"], 80187979, 168, at(2020, 4, 2, 4)),
    (APRIL_24, 250, ["pib20", "artacademy1", "wac4"], 80583918, 173, at(2020, 4, 29, 3, 59, 59)),
])
def test_each_capture_whole(name, count, last_keys, total_seconds, with_time_limit, last_end):
    contests = dmoj.parse(capture_json(name))
    assert len(contests) == len({c.key for c in contests}) == count
    assert [c.key for c in contests][:2] == ["dmopc14c1", "halloween14"]
    assert [c.key for c in contests][-3:] == last_keys
    assert sum(c.duration for c in contests) == total_seconds
    assert sum(1 for c in contests if c.details) == with_time_limit
    assert min(c.start for c in contests) == at(2014, 10, 14, 19, 30)
    assert max(c.end for c in contests) == last_end
    assert all(c.url == f"https://dmoj.ca/contest/{c.key}" and c.site == "dmoj" and c.kind is None
               for c in contests)


@pytest.mark.parametrize(("key", "title", "start", "end", "time_limit"), [
    ("dmopc14c1", "DMOPC '14 October Contest", at(2014, 10, 14, 19, 30), at(2014, 10, 14, 21, 45), None),
    # the title is kept as DMOJ spells it, double space included
    ("gfssoc1s", "Glenforest Winter Open 2014  (Senior)", at(2014, 12, 8, 20, 30), at(2014, 12, 8, 23, 30), None),
    # time_limit is DD:HH:MM: "00:03:00" is three hours to write inside a window of almost three days
    ("classics1", "Classics Contest #1", at(2014, 11, 23, 5), at(2014, 11, 25, 23), 3 * 3600),
    ("rte16s", "RTE '16 Senior Division", at(2017, 6, 7, 19), at(2017, 6, 8, 3), 90 * 60),  # "00:01:30"
    ("tle18", "TLE 2018-19", at(2019, 3, 30, 4), at(2019, 4, 6, 3, 59, 59), 7 * 86400),  # "07:00:00"
    ("year2020", "New Year's 2020 Contest", at(2020, 1, 1, 5), at(2020, 1, 5, 5), 86400),  # "01:00:00"
    ("rte1", "Random Theoretical Experiment 1", at(2019, 9, 20, 4), at(2019, 12, 31, 5), None),  # 102 days
    ("dmopc19c6", "DMOPC '19 March Contest", at(2020, 3, 27, 13), at(2020, 3, 30, 3, 59), 3 * 3600),
    ("pib20", "PIB '20", at(2020, 3, 14, 16), at(2020, 3, 17, 16), 4 * 3600),
])
@pytest.mark.parametrize("name", [MARCH_23, MARCH_24, APRIL_24])
def test_rows_in_every_capture(name, key, title, start, end, time_limit):
    contest = parsed(name)[key]
    assert (contest.title, contest.start, contest.end) == (title, start, end)
    assert contest.url == f"https://dmoj.ca/contest/{key}"
    assert contest.details == ({"time_limit": time_limit} if time_limit else None)


def test_acc6_is_added_on_march_24_and_gone_by_april_24():
    march_23, march_24, april_24 = parsed(MARCH_23), parsed(MARCH_24), parsed(APRIL_24)
    assert set(march_24) - set(march_23) == {"acc6"} and set(march_23) <= set(march_24)
    acc6 = march_24["acc6"]
    assert (acc6.title, acc6.start, acc6.end, acc6.details) == (
        "Another Contest 6", at(2020, 4, 1, 4), at(2020, 4, 2, 4), None)
    assert set(march_24) - set(april_24) == {"acc6"}
    assert set(april_24) - set(march_24) == {*LATE_PUBLISHED, "artacademy1", "wac4"}
    shared = set(march_24) & set(april_24)
    assert all(march_24[key] == april_24[key] for key in shared)  # nothing else changed in a month


def test_late_published_and_new_contests_of_april_24():
    april_24 = parsed(APRIL_24)
    for key, division in zip(LATE_PUBLISHED, ("Gold", "Silver", "Bronze"), strict=True):
        contest = april_24[key]  # published in April 2020 with the dates it ran in April 2019
        assert (contest.title, contest.start, contest.end) == (
            f"DMPG '19 - {division} Division", at(2019, 4, 25, 14), at(2019, 4, 25, 17))
        assert contest.details == {"time_limit": 3 * 3600}
    artacademy1, wac4 = april_24["artacademy1"], april_24["wac4"]
    assert (artacademy1.title, artacademy1.start, artacademy1.end, artacademy1.details) == (
        "Art Academy Contest", at(2020, 4, 17, 14), at(2020, 4, 20, 3, 59), {"time_limit": 3 * 3600})
    assert (wac4.title, wac4.start, wac4.end, wac4.details) == (
        "Wesley's Anger Contest 4", at(2020, 4, 26, 13), at(2020, 4, 29, 3, 59, 59), {"time_limit": 4 * 3600})


# ---- v2: no real capture exists (SOURCES.md), so this envelope is written BY HAND in the shape of
# judge/views/api/api_v2.py (DMOJ/online-judge), from five real rows of the 2020-04-24 v1 capture. Keys, names and
# times are copied from those rows; time_limit is their DD:HH:MM turned into seconds by hand; tags are the v1
# labels; is_rated and rate_all are not in v1 and were made up.
V2_ROWS = [
    {"key": "dmopc14c1", "name": "DMOPC '14 October Contest", "start_time": "2014-10-14T19:30:00+00:00",
     "end_time": "2014-10-14T21:45:00+00:00", "time_limit": None, "is_rated": False, "rate_all": False,
     "tags": ["dmopc"]},
    {"key": "tle18", "name": "TLE 2018-19", "start_time": "2019-03-30T04:00:00+00:00",
     "end_time": "2019-04-06T03:59:59+00:00", "time_limit": 604800.0, "is_rated": False, "rate_all": False,
     "tags": ["seasonal"]},
    {"key": "dmpg19d1", "name": "DMPG '19 - Gold Division", "start_time": "2019-04-25T14:00:00+00:00",
     "end_time": "2019-04-25T17:00:00+00:00", "time_limit": 10800.0, "is_rated": True, "rate_all": False,
     "tags": ["dmopc"]},
    {"key": "artacademy1", "name": "Art Academy Contest", "start_time": "2020-04-17T14:00:00+00:00",
     "end_time": "2020-04-20T03:59:00+00:00", "time_limit": 10800.0, "is_rated": False, "rate_all": False,
     "tags": []},
    {"key": "wac4", "name": "Wesley's Anger Contest 4", "start_time": "2020-04-26T13:00:00+00:00",
     "end_time": "2020-04-29T03:59:59+00:00", "time_limit": 14400.0, "is_rated": True, "rate_all": True,
     "tags": []},
]


def v2_page(rows: list[dict[str, Any]], page: int = 1, per_page: int = 1000, total: int | None = None,
            has_more: bool = False) -> dict[str, Any]:
    """A v2 list answer around `rows` (api_v2.APIListView.get_api_data)."""
    total = len(rows) if total is None else total
    return {
        "api_version": "2.0", "method": "get", "fetched": "2020-04-24T12:00:00.123456+00:00",
        "data": {"current_object_count": len(rows), "objects_per_page": per_page, "page_index": page,
                 "has_more": has_more, "objects": copy.deepcopy(rows), "total_objects": total,
                 "total_pages": -(-total // per_page)},
    }


def test_v2_page_reads_like_the_v1_rows_it_was_made_from():
    from_v1 = parsed(APRIL_24)
    assert dmoj.parse(v2_page(V2_ROWS)) == [from_v1[row["key"]] for row in V2_ROWS]
    assert dmoj.has_more(v2_page(V2_ROWS, has_more=True)) is True
    assert dmoj.has_more(v2_page(V2_ROWS)) is False
    assert dmoj.has_more(capture_json(APRIL_24)) is False  # v1 is the whole list


def test_v2_error_answer_is_parse_error_with_its_message():
    answer = {"api_version": "2.0", "method": "get", "fetched": "2020-04-24T12:00:00+00:00",
              "error": {"code": 404, "message": "page/object not found"}}
    with pytest.raises(ParseError, match="page/object not found"):
        dmoj.parse(answer)
    with pytest.raises(ParseError):
        dmoj.has_more(answer)


def test_v2_fractional_time_limit_is_rounded_to_seconds():
    row = {**V2_ROWS[1], "time_limit": 5400.4}
    assert dmoj.parse(v2_page([row]))[0].details == {"time_limit": 5400}


@asynccontextmanager
async def v2_site(pages: dict[int, dict[str, Any]]) -> AsyncIterator[tuple[SiteClient, list[str]]]:
    """A local stand-in for dmoj.ca answering `/api/v2/contests?page=N` from `pages`; yields a client routed to it
    and the list of queries asked."""
    asked: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        asked.append(request.query_string)
        if request.path != "/dmoj.ca/api/v2/contests":
            return web.json_response({"error": {"code": 404, "message": "no such page"}}, status=404)
        return web.json_response(pages[int(request.query["page"])])

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", answer)
    async with TestServer(app, host="127.0.0.1") as server, new_session(timeout=5) as session:
        yield SiteClient(session, fetch_via=str(server.make_url(""))), asked


async def test_fetch_follows_pages_until_has_more_is_false():
    pages = {1: v2_page(V2_ROWS[:2], 1, 2, 5, True), 2: v2_page(V2_ROWS[2:4], 2, 2, 5, True),
             3: v2_page(V2_ROWS[4:], 3, 2, 5, False)}
    async with v2_site(pages) as (client, asked):
        contests = await dmoj.fetch(client)
    assert asked == ["page=1", "page=2", "page=3"]
    assert [c.key for c in contests] == [row["key"] for row in V2_ROWS]
    assert contests == dmoj.parse(v2_page(V2_ROWS))


async def test_fetch_refuses_a_list_that_never_ends(monkeypatch):
    monkeypatch.setattr(dmoj, "MAX_PAGES", 3)
    endless = {page: v2_page(V2_ROWS[:1], page, 1, 10**6, True) for page in range(1, 5)}
    async with v2_site(endless) as (client, asked):
        with pytest.raises(ParseError, match="after 3 pages"):
            await dmoj.fetch(client)
    assert asked == ["page=1", "page=2", "page=3"]


def test_truncated_body_is_parse_error():
    text = capture_text(APRIL_24)
    with pytest.raises(ParseError):
        load_json(text[: len(text) // 2], dmoj.API)


def test_empty_lists_are_not_an_error():
    assert dmoj.parse({}) == []
    assert dmoj.parse(v2_page([])) == []


@pytest.mark.parametrize("payload", [
    None, "", [], [V2_ROWS[0]], 42,
    {"api_version": "2.0"}, {"api_version": "2.0", "data": []}, {"api_version": "2.0", "data": {"objects": {}}},
    {"api_version": "2.0", "data": {"objects": [None]}}, {"api_version": "2.0", "data": {"objects": ["acc6"]}},
    {"api_version": "2.0", "error": "down for maintenance"},
    {"acc6": None}, {"acc6": "Another Contest 6"}, {"acc6": ["Another Contest 6"]},
    {"": {"name": "x", "start_time": "2020-04-01T04:00:00+00:00", "end_time": "2020-04-02T04:00:00+00:00"}},
    {"../../admin": {"name": "x", "start_time": "2020-04-01T04:00:00+00:00", "end_time": "2020-04-02T04:00:00+00:00"}},
])
def test_wrong_shapes_raise_parse_error(payload):
    with pytest.raises(ParseError):
        dmoj.parse(payload)


def test_has_more_must_be_true_or_false():
    with pytest.raises(ParseError):
        dmoj.has_more(v2_page(V2_ROWS) | {"data": {"objects": [], "has_more": "yes"}})


BROKEN_FIELDS = [
    ("name", ...), ("name", None), ("name", 6), ("name", " "),
    ("start_time", ...), ("start_time", None), ("start_time", 1585713600), ("start_time", "2020-04-01T04:00:00"),
    ("start_time", "April Fools"), ("end_time", ...), ("end_time", "2020-03-31T04:00:00+00:00"),  # before start
    ("end_time", "9999-12-31T23:59:59-12:00"),  # past the last datetime in UTC
    ("end_time", "3020-04-02T04:00:00+00:00"),  # a thousand years: more than the database holds
    ("time_limit", "3 hours"), ("time_limit", "03:00:00:00"), ("time_limit", "00:24:00"), ("time_limit", "00:03:60"),
    ("time_limit", "99999:00:00"), ("time_limit", -10800.0), ("time_limit", 0), ("time_limit", True),
    ("time_limit", [10800]), ("time_limit", float("nan")), ("time_limit", float("inf")), ("time_limit", 1e300),
]


def changed(row: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    row = copy.deepcopy(row)
    if value is ...:
        del row[field]
    else:
        row[field] = value
    return row


@pytest.mark.parametrize(("field", "value"), BROKEN_FIELDS)
def test_broken_v1_rows_raise_parse_error_naming_the_row(field, value):
    """The real 2020-03-24 capture with one field of acc6 removed (...) or replaced."""
    payload = copy.deepcopy(capture_json(MARCH_24))
    payload["acc6"] = changed(payload["acc6"], field, value)
    with pytest.raises(ParseError, match="dmoj: contest 'acc6'"):
        dmoj.parse(payload)


@pytest.mark.parametrize(("field", "value"), [*BROKEN_FIELDS, ("key", ...), ("key", None), ("key", 42),
                                              ("key", "wac4/../x"), ("key", "x" * 65)])
def test_broken_v2_rows_raise_parse_error(field, value):
    rows = [*V2_ROWS[:4], changed(V2_ROWS[4], field, value)]
    with pytest.raises(ParseError, match="dmoj: contest"):
        dmoj.parse(v2_page(rows))


# ---- ingest, end to end, on the real database

async def apply(name: str, now: datetime) -> dict[str, Any]:
    return (await ingest("dmoj", dmoj.parse(capture_json(name)), now)).summary()


async def stored(key: str) -> Contest:
    return await Contest.get(site_id="dmoj", key=key)


async def test_ingest_march_23_then_24_adds_acc6(db):
    first = await apply(MARCH_23, at(2020, 3, 23, 12))
    assert len(first["new"]) == 245 and first["unchanged"] == 0
    second = await apply(MARCH_24, at(2020, 3, 24, 12))
    assert second == {"new": ["acc6"], "rescheduled": [], "renamed": [], "extended": [], "cancelled": [],
                      "restored": [], "unchanged": 245}
    acc6 = await stored("acc6")
    assert (acc6.title, acc6.url, acc6.start, acc6.end, acc6.duration, acc6.details) == (
        "Another Contest 6", "https://dmoj.ca/contest/acc6", at(2020, 4, 1, 4), at(2020, 4, 2, 4), 86400, None)
    wrote = await stored("classics1")
    assert wrote.details == {"time_limit": 10800} and wrote.duration == 2 * 86400 + 18 * 3600


async def test_ingest_april_24_on_its_own_day_adds_five_and_leaves_finished_acc6_alone(db):
    await apply(MARCH_24, at(2020, 3, 24, 12))
    report = await apply(APRIL_24, at(2020, 4, 24, 12))
    assert sorted(report["new"]) == ["artacademy1", *LATE_PUBLISHED, "wac4"]
    assert report["cancelled"] == [] and report["unchanged"] == 245
    acc6 = await stored("acc6")  # it ran on April 1: missing from a later list is no cancellation
    assert not acc6.cancelled and acc6.misses == 0


async def test_ingest_late_published_contests_are_new_with_their_past_dates(db):
    await apply(MARCH_24, at(2020, 3, 24, 12))
    await apply(APRIL_24, at(2020, 4, 24, 12))
    for key in LATE_PUBLISHED:
        contest = await stored(key)
        assert contest.start == at(2019, 4, 25, 14) and contest.end == at(2019, 4, 25, 17)
        change = await ContestChange.get(contest_id=contest.id)
        assert change.kind is ChangeKind.NEW and change.new_start == at(2019, 4, 25, 14)
        assert change.noticed_at == at(2020, 4, 24, 12)


async def test_ingest_acc6_missing_while_still_ahead_is_cancelled_on_the_second_miss(db):
    """The April 24 list, as if it had been fetched on March 31 while acc6 (April 1) was still ahead."""
    await apply(MARCH_23, at(2020, 3, 23, 12))
    await apply(MARCH_24, at(2020, 3, 24, 12))
    first_miss = await apply(APRIL_24, at(2020, 3, 31, 12))
    assert sorted(first_miss["new"]) == ["artacademy1", *LATE_PUBLISHED, "wac4"]
    assert first_miss["cancelled"] == []
    acc6 = await stored("acc6")
    assert acc6.misses == 1 and not acc6.cancelled
    second_miss = await apply(APRIL_24, at(2020, 3, 31, 13))
    assert second_miss["cancelled"] == ["acc6"] and second_miss["new"] == [] and second_miss["unchanged"] == 250
    acc6 = await stored("acc6")
    assert acc6.cancelled and acc6.title == "Another Contest 6"  # kept, only marked
    change = await ContestChange.get(contest_id=acc6.id, kind=ChangeKind.CANCELLED)
    assert change.old_start == at(2020, 4, 1, 4) and change.noticed_at == at(2020, 3, 31, 13)
    assert await Contest.filter(site_id="dmoj").count() == 251


async def test_ingest_v2_page_after_v1_changes_nothing(db):
    """A v2 page of rows already stored from v1 reads the same: no change, nothing written."""
    await apply(APRIL_24, at(2020, 4, 24, 12))
    report = await ingest("dmoj", dmoj.parse(v2_page(V2_ROWS)), at(2020, 4, 24, 13))
    assert report.changes == [] and report.unchanged == 5
