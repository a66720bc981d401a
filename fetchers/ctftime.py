"""CTFtime: the events API lists capture-the-flag contests in a time window, with UTC offsets.

- `https://ctftime.org/api/v1/events/?limit=100&start=<unix>&finish=<unix>` answers a JSON list of events in
  start order. fetch() asks for the window from a day ago (a running event stays listed) to eight weeks ahead;
  parse() reads whatever list it is given. An answer of `limit` events may be cut short, and a list cut short
  would make the later contests look cancelled: fetch() then asks again from the last start it got, up to
  MAX_REQUESTS times, and fails rather than return a list that may be cut short.
- CTFtime asks for gentle use of its API: requests are at least a second apart (`request_gap`).
- `id` is the key. `url` is the organizers' site and is sometimes empty (7 of the 442 events in the 2017
  archive), so the contest links to CTFtime's own page (`ctftime_url`) then.
- `start` and `finish` are ISO with `+00:00`. The `duration` field (`{days, hours}`) is finish - start cut to
  whole hours and is not read. Two events of the 2017 archive finish before they start (UCSB iCTF 2012 and
  PACTF 2017, both typos in the finish): they are kept with a duration of 0, so one typo does not fail the
  whole fetch and the event is still reminded at its start.
- `format` ("Jeopardy", "Attack-Defense", "Hack quest"; empty for a few events) is the `kind`. `details` keep
  what people choose CTFs by: format, onsite, location (only for onsite events: online ones sometimes name
  the organizers' city), weight (CTFtime's rating weight, 0 until voted) and the CTFtime page.
- Titles are stripped (several end in spaces).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fetchers.contest import Contest, ParseError, SiteInfo, as_utc, expect, reading
from fetchers.http import SiteClient

SITE = SiteInfo("ctftime", "CTFtime", "https://ctftime.org", every=timedelta(hours=1), request_gap=1.0)
API = "https://ctftime.org/api/v1/events/"
EVENT_PAGE = "https://ctftime.org/event/"
LIMIT = 100
LOOK_BACK = timedelta(days=1)
LOOK_AHEAD = timedelta(weeks=8)
#: requests of one fetch (the first and those for more when an answer is full): 500 events in nine weeks
MAX_REQUESTS = 5
MAX_ID = 10**12
#: the longest duration the database stores (a 32-bit integer of seconds)
MAX_DURATION = 2**31 - 1
#: the longest `kind` the database stores; CTFtime's formats are a few words
MAX_KIND = 64


async def fetch(http: SiteClient, now: datetime | None = None) -> list[Contest]:
    """The events of the window around `now` (the current time unless a test gives one)."""
    now = now or datetime.now(UTC)
    start, finish = now - LOOK_BACK, now + LOOK_AHEAD
    contests: dict[str, Contest] = {}
    for _ in range(MAX_REQUESTS):
        answer = parse(await http.get_json(events_url(start, finish)))
        fresh = [contest for contest in answer if contest.key not in contests]
        contests.update((contest.key, contest) for contest in fresh)
        if len(answer) < LIMIT:
            return list(contests.values())
        if not fresh:
            break  # asking from the last start brought the same events again: the window cannot be read whole
        start = max(contest.start for contest in answer)
    raise ParseError(f"ctftime: every answer held the full {LIMIT} events, so more may follow; "
                     "refusing a list cut short")


def events_url(start: datetime, finish: datetime) -> str:
    return f"{API}?limit={LIMIT}&start={int(start.timestamp())}&finish={int(finish.timestamp())}"


def parse(payload: Any) -> list[Contest]:
    expect(isinstance(payload, list), f"ctftime: expected a JSON list, got {type(payload).__name__}")
    return [contest_from_event(event) for event in payload]


def contest_from_event(event: Any) -> Contest:
    expect(isinstance(event, dict), f"ctftime: event {event!r:.80}")
    event_id = event.get("id")
    expect(type(event_id) is int and 0 < event_id < MAX_ID, f"ctftime: event without an id {event!r:.80}")
    title = event.get("title")
    expect(isinstance(title, str), f"ctftime: event {event_id} has no title")
    with reading(f"ctftime: event {event_id}"):
        start = event_time(event, "start")
        duration = max(0, int((event_time(event, "finish") - start).total_seconds()))
        expect(duration <= MAX_DURATION, f"duration of {duration} s")
        page = event_page(event, event_id)
        form = text_field(event, "format")
        expect(len(form) <= MAX_KIND, f"`format` of {len(form)} characters")
        return Contest(
            SITE.slug, key=str(event_id), title=title.strip(), url=web_url(text_field(event, "url")) or page,
            start=start, duration=duration, kind=form or None, details=event_details(event, form, page),
        )


def event_time(event: dict[str, Any], field: str) -> datetime:
    """`2018-12-14T18:00:00+00:00` -> an aware UTC datetime; a time without an offset is a ParseError."""
    text = event.get(field)
    expect(isinstance(text, str), f"`{field}` is {text!r:.40}, not a time")
    return as_utc(datetime.fromisoformat(text))


def text_field(event: dict[str, Any], field: str) -> str:
    """A text field stripped, '' when absent or null; any other type is a ParseError."""
    value = event.get(field)
    if value is None:
        return ""
    expect(isinstance(value, str), f"`{field}` is {value!r:.40}, not text")
    return value.strip()


def web_url(text: str) -> str | None:
    """`text` when it is an http(s) address with a host, else None (empty, a bare name, garbled)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return text if parts.scheme in ("http", "https") and parts.hostname else None


def event_page(event: dict[str, Any], event_id: int) -> str:
    """The event's page on CTFtime: `ctftime_url` as given, or made from the id when it is missing."""
    return web_url(text_field(event, "ctftime_url")) or f"{EVENT_PAGE}{event_id}/"


def event_details(event: dict[str, Any], form: str, page: str) -> dict[str, Any]:
    """Format, onsite, location (onsite events only), weight and the CTFtime page, where the event has them."""
    details: dict[str, Any] = {}
    if form:
        details["format"] = form
    onsite = event.get("onsite")
    if onsite is not None:
        expect(isinstance(onsite, bool), f"`onsite` is {onsite!r:.40}, not true or false")
        details["onsite"] = onsite
        if onsite and (location := text_field(event, "location")):
            details["location"] = location
    weight = event.get("weight")
    if weight is not None:
        expect(type(weight) in (int, float) and math.isfinite(weight), f"`weight` is {weight!r:.40}, not a number")
        details["weight"] = float(weight)
    details["ctftime_url"] = page
    return details
