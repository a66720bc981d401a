"""The iCal feeds over HTTP from the real app and database: every feed parsed back with icalendar, the site
filter and its error, the personal feed following an account's filters, UIDs that survive a reschedule by real
ingest, tokens (unknown, reset), ETag and byte-stable output, single-event downloads, and hostile titles."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar, Event

from fetchers.contest import Contest as Fetched
from fetchers.ingest import ingest
from models.account import Account
from models.contest import Contest
from notify.ical import contest_uid
from notify.messages import ContestInfo
from tests.catalog import fill_catalog
from web.app import make_web_app

pytestmark = pytest.mark.db

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = 3600


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


def fetched(site: str, key: str, title: str, starts_in: timedelta, duration: int = 2 * HOUR) -> Fetched:
    return Fetched(site, key, title, f"https://{site}.example.org/contest/{key}", NOW + starts_in, duration)


async def ingest_all(contests: list[Fetched], now: datetime = NOW) -> None:
    """Ingest as the fetch of each site would (one ingest per site)."""
    for site in sorted({contest.site for contest in contests}):
        await ingest(site, [contest for contest in contests if contest.site == site], now)


def uid(site: str, key: str) -> str:
    return contest_uid(ContestInfo(0, site, key, "", "", NOW, 0))


async def get_calendar(client: TestClient, path: str, **params: str | list[str]) -> Calendar:
    response = await client.get(path, params=[(k, v) for k, vs in params.items()
                                              for v in (vs if isinstance(vs, list) else [vs])])
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(await response.read())


def events_by_uid(calendar: Calendar) -> dict[str, Event]:
    events = calendar.events
    by_uid = {str(event["UID"]): event for event in events}
    assert len(by_uid) == len(events), "one event per contest"
    return by_uid


async def personal_path(account: Account) -> str:
    return f"/calendar/{await account.calendar_feed_token()}.ics"


# /calendar.ics


async def test_the_public_feed_has_every_contest_not_over_and_not_cancelled(client):
    await ingest_all([
        fetched("codeforces", "2100", "Codeforces Round 2100 (Div. 2)", timedelta(days=1)),
        fetched("codeforces", "2099", "Running now", timedelta(hours=-1)),
        fetched("codeforces", "2098", "Over already", timedelta(hours=-5)),
        fetched("atcoder", "abc400", "AtCoder Beginner Contest 400", timedelta(days=2), 100 * 60),
    ])
    await Contest.create(site_id="leetcode", key="weekly-500", title="Cancelled one", url="https://leetcode.com",
                         start=NOW + timedelta(days=3), end=NOW + timedelta(days=3, hours=1), duration=HOUR,
                         cancelled=True)

    calendar = await get_calendar(client, "/calendar.ics")

    events = events_by_uid(calendar)
    assert set(events) == {uid("codeforces", "2100"), uid("codeforces", "2099"), uid("atcoder", "abc400")}
    abc = events[uid("atcoder", "abc400")]
    assert str(abc["SUMMARY"]) == "AtCoder Beginner Contest 400"
    assert abc.start == NOW + timedelta(days=2) and abc.end == NOW + timedelta(days=2, minutes=100)
    assert abc.start.utcoffset() == timedelta(0)
    assert str(abc["URL"]) == "https://atcoder.example.org/contest/abc400"
    assert str(abc["DESCRIPTION"]) == "AtCoder\nhttps://atcoder.example.org/contest/abc400"
    assert str(abc["STATUS"]) == "CONFIRMED"
    assert str(calendar.events[0]["UID"]) == uid("codeforces", "2099")  # soonest first
    assert str(calendar["X-WR-CALNAME"]) == "contestbell"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert calendar["X-PUBLISHED-TTL"].to_ical() == b"PT1H"
    assert "METHOD" not in calendar  # a published feed: DTSTAMP is the last revision, which keeps it stable


async def test_the_site_parameter_narrows_the_public_feed(client):
    await ingest_all([
        fetched("codeforces", "2100", "Round", timedelta(days=1)),
        fetched("atcoder", "abc400", "ABC 400", timedelta(days=1)),
        fetched("leetcode", "weekly-450", "Weekly Contest 450", timedelta(days=1)),
    ])
    calendar = await get_calendar(client, "/calendar.ics", site=["leetcode", "atcoder"])
    assert set(events_by_uid(calendar)) == {uid("atcoder", "abc400"), uid("leetcode", "weekly-450")}
    assert str(calendar["X-WR-CALNAME"]) == "contestbell: AtCoder, LeetCode"
    only = await get_calendar(client, "/calendar.ics", site="codeforces")
    assert set(events_by_uid(only)) == {uid("codeforces", "2100")}


@pytest.mark.parametrize("sites", [["nope"], ["codeforces", "Codeforces"], ["codeforces", ""], ["clist"]])
async def test_an_unknown_site_is_a_plain_400_naming_it(client, sites):
    await fill_catalog(60)
    response = await client.get("/calendar.ics", params=[("site", site) for site in sites])
    assert response.status == 400 and response.content_type == "text/plain"
    text = await response.text()
    assert f"unknown site {sites[-1]!r}" in text and "/api/v1/sites lists the sites" in text
    assert "kaggle" not in text  # sixty sites are not listed in an error


async def test_a_site_found_through_clist_has_its_feed(client):
    await fill_catalog(60)
    now = datetime.now(UTC)
    await Contest.create(site_id="toph", key="t1", title="Toph Round", url="https://toph.co/c/t1",
                         start=now + timedelta(days=1), end=now + timedelta(days=1, hours=2), duration=7200)
    calendar = await get_calendar(client, "/calendar.ics", site="toph")
    assert set(events_by_uid(calendar)) == {uid("toph", "t1")}
    assert str(calendar["X-WR-CALNAME"]) == "contestbell: toph"


# /calendar/<token>.ics


async def test_the_personal_feed_follows_the_account_filters_as_the_bot_does(client):
    await ingest_all([
        fetched("codeforces", "1", "Codeforces Round (Div. 2)", timedelta(days=1), 2 * HOUR),  # yes
        fetched("codeforces", "2", "Kotlin Heroes (Div. 2)", timedelta(days=1), 2 * HOUR),  # excluded word
        fetched("codeforces", "3", "Educational Round", timedelta(days=1), 2 * HOUR),  # no include word
        fetched("codeforces", "4", "Div. 1 marathon", timedelta(days=1), 10 * HOUR),  # too long
        fetched("codeforces", "5", "DIV. 4 blitz", timedelta(days=1), 30 * 60),  # too short
        fetched("atcoder", "arc1", "ARC div hard", timedelta(days=2), 3 * HOUR),  # yes: limits are inclusive
        fetched("leetcode", "w1", "Weekly div", timedelta(days=1), 90 * 60),  # site not followed
        fetched("codeforces", "6", "Round (Div. 3)", timedelta(hours=-1), 2 * HOUR),  # running: yes
    ])
    picky = await Account.create(sites=["codeforces", "atcoder"], include_keywords=["div"],
                                 exclude_keywords=["kotlin"], min_duration=HOUR, max_duration=3 * HOUR)
    default = await Account.create()  # follows the popular sites, no keywords or limits

    response = await client.get(await personal_path(picky))
    assert response.status == 200
    assert response.headers["Cache-Control"].startswith("private")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    calendar = Calendar.from_ical(await response.read())
    assert set(events_by_uid(calendar)) == {uid("codeforces", "1"), uid("atcoder", "arc1"), uid("codeforces", "6")}
    assert str(calendar["X-WR-CALNAME"]) == "My contests (contestbell)"

    everything = await get_calendar(client, await personal_path(default))
    assert set(events_by_uid(everything)) == {uid("codeforces", str(n)) for n in range(1, 7)} | {
        uid("atcoder", "arc1"), uid("leetcode", "w1")}


async def test_a_russian_account_gets_its_feed_named_in_russian(client):
    """Needs the Russian catalog with /work/tmp-i18n/feeds.json merged."""
    account = await Account.create(language="ru")
    calendar = await get_calendar(client, await personal_path(account))
    assert str(calendar["X-WR-CALNAME"]) == "Мои контесты (contestbell)"


@pytest.mark.parametrize("token", [
    "k3VwQ9zX1bN7pL2sR8tY4uH6jD0fG5aC",  # a well-formed token that no account has
    "short", "a" * 65, "x" * 5000, "not%20a%20token", "..%2F..%2Fetc%2Fpasswd",
])
async def test_an_unknown_or_malformed_token_is_404(client, token):
    await Account.create(calendar_token=secrets.token_urlsafe(24))
    assert (await client.get(f"/calendar/{token}.ics")).status == 404


async def test_the_feed_address_is_private_and_leaks_no_referrer_even_when_unknown(client):
    account = await Account.create()
    for path in (await personal_path(account), f"/calendar/{secrets.token_urlsafe(24)}.ics"):
        response = await client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer" and response.headers["X-Robots-Tag"] == "noindex"


async def test_a_token_is_made_once_and_a_reset_makes_the_old_link_404(client):
    account = await Account.create()
    assert account.calendar_token is None
    first = await account.calendar_feed_token()
    assert len(first) >= 22 and first == await (await Account.get(id=account.id)).calendar_feed_token()
    assert (await client.get(f"/calendar/{first}.ics")).status == 200

    second = await account.reset_calendar_token()

    assert second != first
    assert (await client.get(f"/calendar/{first}.ics")).status == 404
    assert (await client.get(f"/calendar/{second}.ics")).status == 200
    assert (await Account.get(id=account.id)).calendar_token == second


async def test_two_first_uses_at_once_share_one_token(db):
    account = await Account.create()
    twin = await Account.get(id=account.id)  # another request's copy of the same account row
    mine, theirs = await asyncio.gather(account.calendar_feed_token(), twin.calendar_feed_token())
    assert mine == theirs == (await Account.get(id=account.id)).calendar_token


# changes, ETag, stability


async def test_a_rescheduled_contest_keeps_its_uid_with_the_new_start_and_a_higher_sequence(client):
    round_ = fetched("codeforces", "2100", "Codeforces Round 2100", timedelta(days=1))
    other = fetched("codeforces", "2101", "Codeforces Round 2101", timedelta(days=2))
    await ingest_all([round_, other])
    account = await Account.create(sites=["codeforces"])
    before = events_by_uid(await get_calendar(client, await personal_path(account)))

    moved = fetched("codeforces", "2100", "Codeforces Round 2100", timedelta(days=1, hours=3))
    # the next fetch, 10 minutes on (from the wall clock: NOW was taken when the module was imported, and the
    # revision is the later of the wall clock's last write and ingest's clock)
    await ingest_all([moved, other], now=datetime.now(UTC) + timedelta(minutes=10))

    for path in (await personal_path(account), "/calendar.ics"):
        after = events_by_uid(await get_calendar(client, path))
        old, new = before[uid("codeforces", "2100")], after[uid("codeforces", "2100")]
        assert set(after) == set(before)  # the same UIDs: calendar apps move the event
        assert (old.start, new.start) == (NOW + timedelta(days=1), NOW + timedelta(days=1, hours=3))
        assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
        assert new["DTSTAMP"].dt > old["DTSTAMP"].dt
        untouched = uid("codeforces", "2101")
        assert after[untouched].to_ical() == before[untouched].to_ical()


async def test_feeds_are_byte_stable_with_an_etag_and_304_until_something_changes(client):
    await ingest_all([fetched("codeforces", "2100", "Round", timedelta(days=1)),
                      fetched("atcoder", "abc400", "ABC", timedelta(days=1))])
    account = await Account.create()
    for path in ("/calendar.ics", "/calendar.ics?site=atcoder", await personal_path(account),
                 f"/contest/{(await Contest.get(key='2100')).id}.ics"):
        first, second = await client.get(path), await client.get(path)
        body = await first.read()
        assert body == await second.read() and b"BEGIN:VEVENT" in body
        etag = first.headers["ETag"]
        assert etag == second.headers["ETag"]
        cached = await client.get(path, headers={"If-None-Match": etag})
        assert cached.status == 304 and await cached.read() == b""

    etag_before = (await client.get("/calendar.ics")).headers["ETag"]
    await ingest_all([fetched("codeforces", "2100", "Round", timedelta(days=1)),
                      fetched("codeforces", "2102", "New round", timedelta(days=4))], now=NOW + timedelta(minutes=10))
    changed = await client.get("/calendar.ics", headers={"If-None-Match": etag_before})
    assert changed.status == 200 and changed.headers["ETag"] != etag_before
    assert uid("codeforces", "2102") in events_by_uid(Calendar.from_ical(await changed.read()))


async def test_a_feed_is_exactly_what_icalendar_writes(client):
    """Feeds reuse each event's bytes between requests; the whole must still be the library's own output."""
    long_title = "Раунд 1; <b>, \\ é ü 🏆 " * 5  # folded over several lines, split inside no character
    await ingest_all([fetched("codeforces", "1", long_title, timedelta(days=1)),
                      fetched("atcoder", "abc400", "ABC 400", timedelta(days=2), 0)])
    for path in ("/calendar.ics", await personal_path(await Account.create())):
        body = await (await client.get(path)).read()
        assert Calendar.from_ical(body).to_ical() == body and len(Calendar.from_ical(body).events) == 2


async def test_a_feed_is_gzipped_for_clients_that_ask(client):
    await ingest_all([fetched("codeforces", str(n), f"Round {n}", timedelta(days=1, hours=n)) for n in range(20)])
    response = await client.get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"


# /contest/<id>.ics


async def test_one_contest_downloads_as_a_single_event_file(client):
    await ingest_all([fetched("codeforces", "2100", "Codeforces Round 2100", timedelta(days=1))])
    contest = await Contest.get(site_id="codeforces", key="2100")

    response = await client.get(f"/contest/{contest.id}.ics")

    assert response.status == 200 and response.content_type == "text/calendar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="codeforces-2100.ics"'
    calendar = Calendar.from_ical(await response.read())
    (event,) = calendar.events
    assert str(event["UID"]) == uid("codeforces", "2100") and event.start == NOW + timedelta(days=1)
    assert str(calendar["METHOD"]) == "PUBLISH"


async def test_a_cancelled_contest_downloads_as_cancelled_and_odd_keys_make_safe_file_names(client):
    contest = await Contest.create(site_id="luogu", key='../a b"c\r\n', title="Gone", url="https://www.luogu.com.cn",
                                   start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1),
                                   duration=HOUR, cancelled=True)
    response = await client.get(f"/contest/{contest.id}.ics")
    assert response.status == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="luogu-..-a-b-c.ics"'
    (event,) = Calendar.from_ical(await response.read()).events
    assert str(event["STATUS"]) == "CANCELLED" and str(event["UID"]) == uid("luogu", '../a b"c\r\n')


@pytest.mark.parametrize("path", ["/contest/999999.ics", "/contest/2147483648.ics", "/contest/99999999999.ics",
                                  "/contest/abc.ics", "/contest/-1.ics"])
async def test_an_unknown_contest_is_404(client, path):
    assert (await client.get(path)).status == 404


# hostile titles


async def test_a_title_with_markup_and_ical_separators_comes_back_as_the_same_text(client):
    title = 'Round <script>alert("x")</script>, Div. 2; "final"\nBEGIN:VEVENT\r\nUID:evil'
    await ingest_all([Fetched("codeforces", "666", title, "javascript:alert(1)", NOW + timedelta(days=1), HOUR)])
    contest = await Contest.get(key="666")
    for path in ("/calendar.ics", f"/contest/{contest.id}.ics"):
        response = await client.get(path)
        raw = await response.read()
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        lines = raw.replace(b"\r\n ", b"").split(b"\r\n")  # content lines, unfolded
        assert lines.count(b"BEGIN:VEVENT") == 1 and b"UID:evil" not in lines
        (event,) = Calendar.from_ical(raw).events
        assert str(event["SUMMARY"]) == title.replace("\r\n", "\n")
        assert "URL" not in event and "javascript" not in str(event["DESCRIPTION"])  # no script link offered

