"""HackerRank: its rounds, read from HackerRank's public calendar feed, which lists other sites' rounds too.

What the feed is like (capture of 2018-06-04, 1876 events, made by icalendar-ruby; read by fetchers/ical.py):
- It lists rounds of several sites: Codeforces, HackerRank, TopCoder, CodeChef, URI Online Judge and a few
  others. There is no URL property: the round's page is in LOCATION, and its host says whose round it is.
  This module keeps hackerrank.com's, fetchers/topcoder.py reads TopCoder's from the same feed (`site_rounds`
  below); Codeforces and CodeChef rounds are left to their own fetchers, URI's and the rest are not read.
- The UIDs are random UUIDs and every event's DTSTAMP is the moment the feed was made: icalendar-ruby's
  defaults (a new SecureRandom.uuid for each event each time the feed is built), so a UID says nothing about
  the round and is not a key. A HackerRank round's key is its contest slug, HackerRank's own id for it, taken
  from its address (`https://www.hackerrank.com/contests/w38/` -> `w38`); any other page keeps its path.
- parse() is pure and has no "now", so it reads every event of the feed, from 2013 on (ALL_TIME). The feed has
  no RRULE; if one came, fetchers/ical.py would expand it over ALL_TIME within its limits.
- A round listed twice (`code-cpp-4` in the capture) is kept once. An event whose end is before its start
  (Hacker Games Finals: DTEND 1970) is skipped by fetchers/ical.py. Titles lose a leading "HackerRank - ".
- DESCRIPTION is HTML with `\\,` escapes; titles can be Cyrillic (Codeforces') and long ones are folded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fetchers.contest import Contest, SiteInfo
from fetchers.http import SiteClient
from fetchers.ical import CalendarEvent, bounded_key, calendar_events

SITE = SiteInfo("hackerrank", "HackerRank", "https://www.hackerrank.com", every=timedelta(hours=2),
                response="text")
FEED = "https://www.hackerrank.com/calendar/cal.ics"
#: the whole feed: parse() has no clock to choose a window around
ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
DOMAIN = "hackerrank.com"
TITLE_PREFIX = "HackerRank - "


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_text(FEED))


def parse(text: str) -> list[Contest]:
    return unique_keys(
        Contest(SITE.slug, key=bounded_key(key), title=site_title(event.title, TITLE_PREFIX), url=event.url,
                start=event.start, duration=duration_seconds(event))
        for event in site_rounds(text, DOMAIN) if (key := contest_slug(event.url))
    )


def site_rounds(text: str, domain: str) -> list[CalendarEvent]:
    """The feed's events whose address is on `domain` or one of its subdomains."""
    return [event for event in calendar_events(text, window=ALL_TIME) if on_domain(event.url, domain)]


def on_domain(url: str, domain: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == domain or host.endswith(f".{domain}")


def contest_slug(url: str) -> str:
    """`/contests/SLUG/` -> SLUG; another page: its path without the outer slashes ("" for the home page)."""
    parts = [part for part in urlsplit(url).path.split("/") if part]
    if len(parts) >= 2 and parts[0] == "contests":
        return parts[1]
    return "/".join(parts)


def site_title(title: str, prefix: str) -> str:
    """The title without the feed's "Site - " prefix (kept when nothing would be left)."""
    rest = title.removeprefix(prefix).strip()
    return rest or title


def duration_seconds(event: CalendarEvent) -> int:
    return int((event.end - event.start).total_seconds())


def unique_keys(contests: Iterable[Contest]) -> list[Contest]:
    """The contests, each key once (the first listing wins: the feed repeats a few rounds)."""
    seen: dict[str, Contest] = {}
    for contest in contests:
        seen.setdefault(contest.key, contest)
    return list(seen.values())
