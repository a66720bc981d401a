"""CTFtime `/api/v1/events/`: events in a time window, their format as the kind, onsite/location/weight kept as details,
the window computed at fetch time and asked again from the last start when an answer is full."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fetchers import ctftime
from fetchers.contest import ParseError, load_json
from fetchers.http import SiteClient, new_session
from tests.captures import by_key, capture_json, capture_text, with_first_row_changed

TWO_UPCOMING = "ctftime/events_2018-12-10_two_upcoming.json"
XMAS_AFTER = "ctftime/events_2020-04-06_single_event_724.json"
ARCHIVE = "ctftime/events_2017-06-17_window_2005_to_2017-11_reindented.json"
TRIMMED = "_partial/ctftime/events_2026-10_fields_trimmed_contest-radar.json"
LOCALIZED = "_partial/ctftime/events_2018-12-13_start_finish_localized_EDITED.json"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def page(event_id: int) -> str:
    return f"https://ctftime.org/event/{event_id}/"


def test_two_upcoming_2018_12_10():
    ph0wn, xmas = ctftime.parse(capture_json(TWO_UPCOMING))
    assert (ph0wn.key, ph0wn.title, ph0wn.url, ph0wn.start, ph0wn.end, ph0wn.kind) == (
        "680", "ph0wn CTF 2018", "https://ph0wn.org/", at(2018, 12, 14, 18), at(2018, 12, 15, 2), "Jeopardy")
    assert ph0wn.details == {"format": "Jeopardy", "onsite": True, "location": "Sophia Antipolis, France",
                             "weight": 0.0, "ctftime_url": page(680)}
    assert (xmas.key, xmas.title, xmas.url, xmas.start, xmas.end, xmas.duration, xmas.kind) == (
        "724", "X-MAS CTF 2018", "https://www.xmas-ctf.cf/", at(2018, 12, 14, 18), at(2018, 12, 21, 18), 7 * 86400,
        "Jeopardy")
    assert xmas.details == {"format": "Jeopardy", "onsite": False, "weight": 0.0, "ctftime_url": page(724)}


def test_same_event_after_it_finished_only_gained_weight():
    """X-MAS CTF 2018 again in 2020: same schedule, weight voted from 0.00 to 24.07 (a details change)."""
    (before,) = [c for c in ctftime.parse(capture_json(TWO_UPCOMING)) if c.key == "724"]
    (after,) = ctftime.parse(capture_json(XMAS_AFTER))
    assert (after.key, after.title, after.url, after.start, after.end, after.kind) == (
        before.key, before.title, before.url, before.start, before.end, before.kind)
    assert after.details == {"format": "Jeopardy", "onsite": False, "weight": 24.07, "ctftime_url": page(724)}
    assert after != before


def test_archive_2005_to_2017_whole():
    contests = ctftime.parse(capture_json(ARCHIVE))
    assert len(contests) == len({c.key for c in contests}) == 442
    assert [c.key for c in contests][:3] == ["82", "81", "80"]
    assert [c.key for c in contests][-3:] == ["427", "480", "426"]
    assert [c.start for c in contests] == sorted(c.start for c in contests)  # CTFtime answers in start order
    assert Counter(c.kind for c in contests) == {"Jeopardy": 349, "Attack-Defense": 83, "Hack quest": 9, None: 1}
    assert sum(c.duration for c in contests) == 68407450  # pins every start and finish
    assert sum(c.details["weight"] for c in contests) == pytest.approx(11100.61)
    assert sum(c.details["onsite"] for c in contests) == 159
    assert sum("location" in c.details for c in contests) == 151  # 8 onsite events name no place
    assert sum(c.url == c.details["ctftime_url"] for c in contests) == 7  # no site of their own
    assert all(c.details["ctftime_url"] == page(int(c.key)) and c.site == "ctftime" for c in contests)
    assert all(c.title == c.title.strip() and c.url.startswith(("http://", "https://")) for c in contests)


@pytest.mark.parametrize(("key", "title", "url", "start", "end", "kind", "details"), [
    ("82", "UCSB iCTF 2005", "http://ictf.cs.ucsb.edu/", at(2005, 12, 1), at(2005, 12, 2), "Attack-Defense",
     {"format": "Attack-Defense", "onsite": False, "weight": 0.0}),
    ("426", "GreHack CTF 2017", "https://www.grehack.fr/", at(2017, 11, 17, 21), at(2017, 11, 18, 6), "Jeopardy",
     {"format": "Jeopardy", "onsite": True, "location": "Grenoble, France", "weight": 0.0}),
    # finishes before it starts (a typo at CTFtime): kept at its start, with no length
    ("65", "UCSB iCTF 2012", "http://ictf.cs.ucsb.edu/", at(2013, 3, 22, 15), at(2013, 3, 22, 15), "Attack-Defense",
     {"format": "Attack-Defense", "onsite": False, "weight": 70.0}),
    ("438", "PACTF 2017", "https://pactf.com/", at(2017, 4, 16, 16), at(2017, 4, 16, 16), "Jeopardy",
     {"format": "Jeopardy", "onsite": False, "weight": 0.0}),
    # an empty format: no kind
    ("288", "Break In 2016", "https://felicity.iiit.ac.in/threads/breakin/", at(2016, 1, 23, 18, 30),
     at(2016, 1, 24, 18, 30), None, {"onsite": False, "weight": 5.0}),
    # an empty url: the CTFtime page instead
    ("125", "OWASP ALGERIA CTF 2013", page(125), at(2013, 12, 22, 19), at(2013, 12, 24, 19), "Jeopardy",
     {"format": "Jeopardy", "onsite": False, "weight": 20.0}),
    # trailing spaces in the title
    ("286", "SECCON 2015 Final competition (Intercollege)", "http://ctf.seccon.jp/2015/finals.html",
     at(2016, 1, 30, 3), at(2016, 1, 30, 7), "Attack-Defense",
     {"format": "Attack-Defense", "onsite": True, "location": "Tokyo, Japan", "weight": 0.0}),
    ("421", "nullcon HackIM", "http://ctf.nullcon.net/", at(2017, 2, 10, 16, 30), at(2017, 2, 12, 4, 30),
     "Jeopardy", {"format": "Jeopardy", "onsite": False, "weight": 16.87}),
    # onsite with an empty location
    ("480", "Trend Micro CTF 2017 - Raimund Genes Cup - The Final", "https://www.trendmicro.com/tmctf",
     at(2017, 11, 11, 4), at(2017, 11, 12, 9), "Attack-Defense",
     {"format": "Attack-Defense", "onsite": True, "weight": 20.0}),
    ("8", "PlaidCTF 2012", "http://plaidctf.com/", at(2012, 4, 27, 21), at(2012, 4, 28, 21), "Jeopardy",
     {"format": "Jeopardy", "onsite": False, "weight": 90.0}),  # location null
    ("471", "LabyREnth 2017", "http://labyrenth.com/", at(2017, 6, 9, 23), at(2017, 7, 23, 23), "Jeopardy",
     {"format": "Jeopardy", "onsite": False, "weight": 0.0}),  # 44 days
])
def test_archive_rows(key, title, url, start, end, kind, details):
    contest = by_key(ctftime.parse(capture_json(ARCHIVE)))[key]
    assert (contest.title, contest.url, contest.start, contest.end, contest.kind) == (title, url, start, end, kind)
    assert contest.details == {**details, "ctftime_url": page(int(key))}


def test_trimmed_2026_copy_parses_without_the_fields_it_lacks():
    """An edited copy (fields dropped, descriptions cut): only that it reads, no exact values."""
    contests = ctftime.parse(capture_json(TRIMMED))
    assert len(contests) == 10 and all(c.details and "ctftime_url" in c.details for c in contests)


def test_localized_times_in_an_edited_copy_are_parse_error_naming_the_event():
    with pytest.raises(ParseError, match=r"ctftime: event 680: .*India Standard Time"):
        ctftime.parse(capture_json(LOCALIZED))


def test_events_url_is_the_window_in_unix_seconds():
    url = ctftime.events_url(at(2018, 12, 9, 12), at(2019, 2, 3, 12))
    assert url == "https://ctftime.org/api/v1/events/?limit=100&start=1544356800&finish=1549195200"


def test_site_asks_for_gentle_use():
    assert ctftime.SITE.request_gap >= 1.0 and ctftime.SITE.every == timedelta(hours=1)


@asynccontextmanager
async def ctftime_like(events: list[dict[str, Any]]) -> AsyncIterator[tuple[SiteClient, list[dict[str, str]]]]:
    """A local stand-in for the events API over `events`: those starting in [start, finish], in start order, at
    most `limit` (how CTFtime answers a window). Yields a client routed to it and the queries asked."""
    asked: list[dict[str, str]] = []

    async def answer(request: web.Request) -> web.Response:
        query = dict(request.query)
        asked.append(query)
        start, finish = (datetime.fromtimestamp(int(query[name]), UTC) for name in ("start", "finish"))
        window = [e for e in events if start <= datetime.fromisoformat(e["start"]) <= finish]
        return web.json_response(window[: int(query["limit"])])

    app = web.Application()
    app.router.add_get("/ctftime.org/api/v1/events/", answer)
    async with TestServer(app, host="127.0.0.1") as server, new_session(timeout=5) as session:
        yield SiteClient(session, fetch_via=str(server.make_url(""))), asked


def query_times(query: dict[str, str]) -> tuple[datetime, datetime]:
    return datetime.fromtimestamp(int(query["start"]), UTC), datetime.fromtimestamp(int(query["finish"]), UTC)


async def test_fetch_asks_from_a_day_ago_to_eight_weeks_ahead():
    now = at(2017, 6, 17, 12)
    async with ctftime_like(capture_json(ARCHIVE)) as (client, asked):
        contests = await ctftime.fetch(client, now=now)
    assert len(asked) == 1 and asked[0]["limit"] == "100"
    assert query_times(asked[0]) == (at(2017, 6, 16, 12), at(2017, 8, 12, 12))
    assert [c.key for c in contests] == ["455", "475", "411", "472", "470", "425", "476", "478"]


async def test_fetch_without_now_uses_the_current_time():
    async with ctftime_like([]) as (client, asked):
        assert await ctftime.fetch(client) == []
    start, finish = query_times(asked[0])
    assert abs(start - (datetime.now(UTC) - timedelta(days=1))) < timedelta(minutes=1)
    assert finish - start == timedelta(days=57)


async def test_a_full_answer_is_followed_by_one_from_the_last_start(monkeypatch):
    monkeypatch.setattr(ctftime, "LIMIT", 3)
    now = at(2017, 6, 17, 12)
    async with ctftime_like(capture_json(ARCHIVE)) as (client, asked):
        contests = await ctftime.fetch(client, now=now)
    assert [query_times(query)[0] for query in asked] == [
        at(2017, 6, 16, 12), at(2017, 6, 24, 19, 30), at(2017, 7, 1), at(2017, 7, 15, 9)]
    assert {query_times(query)[1] for query in asked} == {at(2017, 8, 12, 12)}
    assert [c.key for c in contests] == ["455", "475", "411", "472", "470", "425", "476", "478"]


@pytest.mark.parametrize(("limit", "requests"), [
    (2, 3),  # each answer is full and brings one new event: refused when MAX_REQUESTS are spent
    (1, 2),  # asking from the last start brings back the same event: the window cannot be read whole
])
async def test_a_window_that_stays_full_is_refused(monkeypatch, limit, requests):
    monkeypatch.setattr(ctftime, "LIMIT", limit)
    monkeypatch.setattr(ctftime, "MAX_REQUESTS", 3)
    async with ctftime_like(capture_json(ARCHIVE)) as (client, asked):
        with pytest.raises(ParseError, match="refusing a list cut short"):
            await ctftime.fetch(client, now=at(2017, 6, 17, 12))
    assert len(asked) == requests


def test_truncated_body_is_parse_error():
    text = capture_text(TWO_UPCOMING)
    with pytest.raises(ParseError):
        load_json(text[: len(text) // 2], ctftime.API)


def test_empty_list_is_not_an_error():
    assert ctftime.parse([]) == []


@pytest.mark.parametrize("payload", [None, "", {}, {"events": []}, [None], [680], ["ph0wn CTF 2018"], [[680]]])
def test_wrong_shapes_raise_parse_error(payload):
    with pytest.raises(ParseError):
        ctftime.parse(payload)


def payload_with_first_event(field: str, value: Any) -> list[dict[str, Any]]:
    """The real 2018-12-10 capture with one field of ph0wn CTF 2018 removed (...) or replaced."""
    return with_first_row_changed(capture_json(TWO_UPCOMING), field, value)


@pytest.mark.parametrize(("field", "value"), [
    ("id", ...), ("id", None), ("id", "680"), ("id", 680.0), ("id", True), ("id", 0), ("id", 10**30),
    ("title", ...), ("title", None), ("title", ["ph0wn"]), ("title", ""),
    ("start", ...), ("start", None), ("start", 1544810400), ("start", "2018-12-14T18:00:00"),  # no offset
    ("start", "2018-12-14 23:30:00 India Standard Time"), ("finish", ...), ("finish", {"days": 0}),
    ("finish", "9999-12-31T23:59:59-12:00"),  # past the last datetime in UTC
    ("finish", "2118-12-15T02:00:00+00:00"),  # a century: more than the database holds
    ("format", 1), ("format", ["Jeopardy"]), ("format", "Jeopardy" * 20),
    ("onsite", "yes"), ("onsite", 1), ("location", 42),
    ("weight", "0.00"), ("weight", True), ("weight", float("nan")), ("weight", float("inf")),
    ("url", 42), ("ctftime_url", {"href": "https://ctftime.org/event/680/"}),
])
def test_broken_events_raise_parse_error_naming_the_event(field, value):
    with pytest.raises(ParseError, match="ctftime: event"):
        ctftime.parse(payload_with_first_event(field, value))


@pytest.mark.parametrize(("field", "value", "url", "details"), [
    ("url", "", page(680), None),
    ("url", "ph0wn.org", page(680), None),
    ("url", "javascript:alert(1)", page(680), None),
    ("url", "http://[::1", page(680), None),
    ("url", None, page(680), None),
    ("ctftime_url", ..., "https://ph0wn.org/", {"ctftime_url": page(680)}),
    ("location", None, "https://ph0wn.org/", {"location": ...}),
    ("location", "  ", "https://ph0wn.org/", {"location": ...}),
    ("onsite", ..., "https://ph0wn.org/", {"onsite": ..., "location": ...}),
    ("weight", ..., "https://ph0wn.org/", {"weight": ...}),
    ("format", "", "https://ph0wn.org/", {"format": ...}),
])
def test_optional_fields_missing_or_odd(field, value, url, details):
    """Fields people may miss (url, location, onsite, weight, format) change what is kept, never fail the event."""
    contest = ctftime.parse(payload_with_first_event(field, value))[0]
    expected = {"format": "Jeopardy", "onsite": True, "location": "Sophia Antipolis, France", "weight": 0.0,
                "ctftime_url": page(680)}
    for name, kept in (details or {}).items():
        if kept is ...:
            del expected[name]
        else:
            expected[name] = kept
    assert contest.details == expected
    assert contest.url == url
    assert contest.kind == expected.get("format")
