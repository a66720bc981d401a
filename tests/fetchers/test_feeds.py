"""Operator-listed iCalendar feeds as sites (CONTESTBELL_ICAL_SOURCES): the listing, and a feed served over HTTP
fetched and ingested like a native site: recurring events, time zones, a moved event, a cancelled one.

No captured feed has events in the future of today's clock, so the feeds here are written by hand (the real
HackerRank capture is read by tests/fetchers/test_ical.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from contestbell.cli import main
from fetchers.events import LocalBus
from fetchers.feeds import BadFeedList, feed_sources
from fetchers.health import ensure_sites
from fetchers.http import SiteClient, new_session
from fetchers.pipeline import FetchContext, fetch_and_ingest
from fetchers.registry import all_sites, configure_sources
from models.contest import ChangeKind, Contest, ContestChange, Site
from tests.calendars import club_calendar, ical_time

FEED = "https://calendar.example.org/club/contests.ics"


def test_listing_reads_slug_name_and_address():
    first, second = feed_sources(f" ucup | The Universal Cup | {FEED} ,kattis|Kattis|http://kattis.example/k.ics")
    assert (first.slug, first.info.name, first.info.url, first.info.response) == (
        "ucup", "The Universal Cup", "https://calendar.example.org", "text")
    assert (second.slug, second.info.url) == ("kattis", "http://kattis.example")
    assert feed_sources("") == [] and feed_sources(" , ") == []


@pytest.mark.parametrize(("listing", "complaint"), [
    ("ucup|Universal Cup", "is not slug|Display name"),
    ("Ucup!|Universal Cup|https://x.example/a.ics", "is not a slug"),
    ("ucup||https://x.example/a.ics", "display name"),
    ("ucup|Universal Cup|ftp://x.example/a.ics", "is not an http(s) address"),
    ("ucup|Universal Cup|javascript:alert(1)", "is not an http(s) address"),
    ("ucup|A|https://x.example/a.ics,ucup|B|https://x.example/b.ics", "more than once"),
])
def test_bad_listings_say_which_entry_and_why(listing, complaint):
    with pytest.raises(BadFeedList, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        feed_sources(listing)


def test_a_bad_listing_stops_the_command_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("CONTESTBELL_ICAL_SOURCES", "ucup|Universal Cup")
    assert main(["sites"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "CONTESTBELL_ICAL_SOURCES" in error and "Traceback" not in error


def test_a_feed_cannot_take_a_native_sites_slug():
    with pytest.raises(ValueError, match="codeforces"):
        configure_sources(feed_sources(f"codeforces|Codeforces again|{FEED}"))
    configure_sources([])
    assert "codeforces" in all_sites()


def test_listed_feeds_are_sites_of_the_command_line(monkeypatch, capsys):
    monkeypatch.setenv("CONTESTBELL_ICAL_SOURCES", f"club|Club contests|{FEED}")
    try:
        assert main(["sites"]) == 0
        assert "club\tClub contests\thttps://calendar.example.org" in capsys.readouterr().out
    finally:
        configure_sources([])


class FeedServer:
    def __init__(self) -> None:
        self.text = ""
        self.app = web.Application()
        self.app.router.add_get("/calendar.example.org/club/contests.ics", self.serve)

    async def serve(self, request: web.Request) -> web.Response:
        return web.Response(text=self.text, content_type="text/calendar")


async def test_a_feed_is_fetched_like_a_site_and_notices_a_moved_and_a_cancelled_event(db):
    [club] = feed_sources(f"club|Club contests|{FEED}")
    await ensure_sites([club.info])
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    weekly = today + timedelta(days=2, hours=18)
    single = today + timedelta(days=20, hours=10)
    server = FeedServer()
    server.text = club_calendar(single, weekly)
    async with TestServer(server.app, host="127.0.0.1") as mirror, new_session(5) as session:
        context = FetchContext(SiteClient(session, fetch_via=str(mirror.make_url(""))), LocalBus())
        first = await fetch_and_ingest(club, context)
        assert len(first.summary()["new"]) == 11  # ten weekly rounds and the final
        rows = {c.key: c for c in await Contest.filter(site_id="club")}
        final = rows["open-cup-final@club"]
        assert final.title == "Open Cup final" and final.url == "https://club.example/final"
        assert final.duration == 5 * 3600
        round_three = rows[f"weekly@club@{ical_time(weekly + timedelta(weeks=2) - timedelta(hours=3))}Z"]
        assert round_three.title == "Club weekly, rated" and round_three.url == "https://club.example/weekly"
        assert round_three.start == (weekly + timedelta(weeks=2) - timedelta(hours=3)).replace(tzinfo=UTC)

        server.text = club_calendar(single + timedelta(days=1), weekly, moved_week=2)
        moved = await fetch_and_ingest(club, context)
        assert sorted(moved.summary()["rescheduled"]) == sorted([round_three.key, "open-cup-final@club"])
        change = await ContestChange.get(contest_id=round_three.id, kind=ChangeKind.RESCHEDULED)
        assert change.new_start - change.old_start == timedelta(hours=1)

        server.text = club_calendar(single, weekly, with_single=False)
        await fetch_and_ingest(club, context)
        gone = await fetch_and_ingest(club, context)
    assert gone.summary()["cancelled"] == ["open-cup-final@club"]
    site = await Site.get(slug="club")
    assert site.consecutive_failures == 0 and site.last_success is not None


async def test_a_feed_that_answers_a_web_page_fails_alone(db):
    [club] = feed_sources(f"club|Club contests|{FEED}")
    await ensure_sites([club.info])
    server = FeedServer()
    server.text = "<html><body>Sign in to see this calendar</body></html>"
    async with TestServer(server.app, host="127.0.0.1") as mirror, new_session(5) as session:
        context = FetchContext(SiteClient(session, fetch_via=str(mirror.make_url(""))), LocalBus())
        with pytest.raises(Exception, match="calendar"):
            await fetch_and_ingest(club, context)
    site = await Site.get(slug="club")
    assert (site.consecutive_failures, site.last_error) == (1, "parse error")
